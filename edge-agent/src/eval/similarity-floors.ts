/** Per-SKU similarity floors from correctly matched front packs (see floors.ts, the CLI). */

/** Linear-interpolated quantile of ascending-sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Floors from each SKU's similarities of correctly matched front packs. */
export function floorsFrom(
  samples: ReadonlyMap<string, readonly number[]>,
  opts: { quantile: number; slack: number; minSamples: number },
): Map<string, { samples: number; floor: number }> {
  const out = new Map<string, { samples: number; floor: number }>();
  for (const [sku, sims] of samples) {
    if (sims.length < opts.minSamples) continue;
    const q = quantile(
      [...sims].sort((a, b) => a - b),
      opts.quantile,
    );
    out.set(sku, { samples: sims.length, floor: Math.round(Math.max(0, q - opts.slack) * 1e4) / 1e4 });
  }
  return out;
}
