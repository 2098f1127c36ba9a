import type { Detection, SkuCount } from '@shelfsight/protocol';

/** Per-SKU counts/facings and the empty/unknown tallies of one frame's detections. */
export function summarise(detections: readonly Detection[]): {
  skus: SkuCount[];
  emptyFacings: number;
  unknownProducts: number;
} {
  const acc = new Map<string, { count: number; facings: number; conf: number }>();
  let emptyFacings = 0;
  let unknownProducts = 0;
  for (const d of detections) {
    if (d.kind === 'empty') {
      emptyFacings++;
      continue;
    }
    if (d.kind === 'unknown' || !d.sku) {
      unknownProducts++;
      continue;
    }
    const a = acc.get(d.sku) ?? { count: 0, facings: 0, conf: 0 };
    a.count++;
    if (d.facing) a.facings++;
    a.conf += d.confidence;
    acc.set(d.sku, a);
  }
  const skus = [...acc.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([sku, a]) => ({ sku, count: a.count, facings: a.facings, meanConfidence: round(a.conf / a.count) }));
  return { skus, emptyFacings, unknownProducts };
}

export function round(v: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
