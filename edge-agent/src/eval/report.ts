/**
 * What `npm run eval` prints without --json: the rates a person reads, each with its 95 % interval
 * and the counts behind it, in a few lines instead of a page of JSON (--json keeps every number).
 */
import type { Metrics, Proportion } from './metrics.js';
import type { Interval, Intervals } from './uncertainty.js';

export interface Report extends Metrics {
  model: { name: string; version: string };
  gallery: { name: string; version: string };
  dataset: string;
  images: number;
  ci95: Intervals;
  /** targetVerdicts of the whole set, as main.ts puts them in the JSON. */
  targets: Partial<Record<Proportion, TargetVerdict>>;
  latencyMs: { p50: number; p95: number; mean: number };
  /** Per pipeline stage, its median and mean time per frame. */
  stagesMs: Record<string, { p50: number; mean: number }>;
  peakRssMb: number;
  byFixture: Record<string, Metrics & { images: number; ci95: Intervals }>;
  byDifficulty: Record<string, Metrics & { images: number; ci95: Intervals }>;
}

const ROWS: [Proportion, string][] = [
  ['skuAccuracy', 'SKU accuracy (a miss is an error)'],
  ['facingSkuAccuracy', 'SKU accuracy, front-most packs'],
  ['heldOutSkuAccuracy', 'SKU accuracy, held-out SKUs'],
  ['countExactMatch', 'Count exact, per (frame, SKU)'],
  ['facingsAccuracy', 'Facings exact, per (frame, SKU)'],
  ['imagesAllCountsExact', 'Frames with every count exact'],
  ['detection.precision', 'Detection precision (IoU 0.5)'],
  ['detection.recall', 'Detection recall (IoU 0.5)'],
  ['empty.precision', 'Empty-slot precision'],
  ['empty.recall', 'Empty-slot recall'],
  ['unknown.precision', 'Unknown-product precision'],
  ['unknown.recall', 'Unknown-product recall'],
];

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
/** An interval's bounds in percent, without the unit: `89.7–91.8`. */
const bounds = (c: Interval) => `${(c.lo * 100).toFixed(1)}–${(c.hi * 100).toFixed(1)}`;

/** The recognition issue's targets, per difficulty of a held-out set (the Target column of models/README.md's tables). */
export const TARGETS: Partial<Record<Proportion, Partial<Record<string, number>>>> = {
  skuAccuracy: { default: 0.995, hard: 0.97 },
  countExactMatch: { default: 0.99 },
  heldOutSkuAccuracy: { default: 0.97 },
  'empty.recall': { default: 0.98 },
};

export interface TargetVerdict {
  target: number;
  /** `met`: the whole 95 % interval is at or above the target; `missed`: all of it below; else `unsettled`. */
  verdict: 'met' | 'missed' | 'unsettled';
  /** Target minus the measured rate, in points, where the rate is below it. */
  shortBy?: number;
}

/**
 * Each target that applies to a set of one difficulty, judged by the interval rather than the rate:
 * on 100 frames a rate 0.3 points under its target can be noise (D45). A set mixing difficulties
 * gets no verdicts: the targets are set per difficulty.
 */
export function targetVerdicts(difficulties: string[], ci: Intervals): Partial<Record<Proportion, TargetVerdict>> {
  const out: Partial<Record<Proportion, TargetVerdict>> = {};
  if (difficulties.length !== 1) return out;
  for (const [k, byDifficulty] of Object.entries(TARGETS) as [Proportion, Partial<Record<string, number>>][]) {
    const target = byDifficulty[difficulties[0]!];
    const c = ci[k];
    if (target === undefined || c.of === 0) continue;
    const rate = c.hits / c.of;
    const verdict = c.lo >= target ? 'met' : c.hi < target ? 'missed' : 'unsettled';
    out[k] = { target, verdict, ...(rate < target ? { shortBy: Math.round((target - rate) * 1000) / 10 } : {}) };
  }
  return out;
}

export function formatReport(r: Report): string {
  const out: string[] = [
    `${r.images} frames of ${r.dataset}`,
    `model ${r.model.name}@${r.model.version}, gallery ${r.gallery.name}@${r.gallery.version}`,
    '',
    `${'metric'.padEnd(34)}${'rate'.padStart(8)}   ${'95 % interval'.padEnd(15)}${'hits / of'.padStart(16)}   target`,
  ];
  const judged = (k: Proportion) => {
    const v = r.targets[k];
    if (!v) return '';
    const what = v.verdict === 'unsettled' ? 'not settled by this set' : v.verdict;
    return `   ≥ ${pct(v.target)}: ${what}${v.shortBy !== undefined ? ` (${v.shortBy.toFixed(1)} points short)` : ''}`;
  };
  for (const [key, label] of ROWS) {
    const c = r.ci95[key];
    if (c.of === 0) {
      out.push(`${label.padEnd(34)}${'-'.padStart(8)}   ${'(none in set)'.padEnd(15)}${'0 / 0'.padStart(16)}`);
      continue;
    }
    const span = `${bounds(c)} %`;
    out.push(
      `${label.padEnd(34)}${pct(c.hits / c.of).padStart(8)}   ${span.padEnd(15)}${`${c.hits} / ${c.of}`.padStart(16)}${judged(key)}`,
    );
  }
  out.push(`${'Detection mAP@0.5'.padEnd(34)}${pct(r.detection.map50).padStart(8)}`);
  const e = r.skuErrors;
  out.push(
    `${'SKU errors, instances'.padEnd(34)}missed ${e.missed} · unknown ${e.asUnknown} · other SKU ${e.asOtherSku}`,
  );
  if (e.topConfusions.length > 0)
    out.push(
      `${'  most often given another SKU'.padEnd(34)}${e.topConfusions
        .slice(0, 3)
        .map((c) => `${c.truth} → ${c.predicted} (${c.instances})`)
        .join(', ')}`,
    );
  out.push(
    `${'Latency p50 / p95 per frame'.padEnd(34)}${`${r.latencyMs.p50.toFixed(1)} / ${r.latencyMs.p95.toFixed(1)} ms`.padStart(8)}`,
  );
  const parts = Object.entries(r.stagesMs).map(([k, v]) => `${k} ${v.mean.toFixed(1)}`);
  out.push(`${'  mean per stage'.padEnd(34)}${parts.join(' · ')} ms`);
  out.push(`${'Peak RSS of this process'.padEnd(34)}${`${r.peakRssMb} MB`.padStart(8)}`);
  for (const [title, groups] of [
    ['by fixture', r.byFixture],
    ['by difficulty', r.byDifficulty],
  ] as const) {
    const entries = Object.entries(groups);
    if (entries.length < 2) continue;
    out.push('', `${title}:`);
    for (const [name, g] of entries) {
      const show = (k: Proportion) => {
        const c = g.ci95[k];
        return c.of === 0 ? '-' : `${pct(c.hits / c.of)} [${bounds(c)}]`;
      };
      out.push(
        `  ${name.padEnd(8)} ${String(g.images).padStart(4)} frames: SKU ${show('skuAccuracy')}, count exact ` +
          `${show('countExactMatch')}, empty-slot recall ${show('empty.recall')}`,
      );
    }
  }
  out.push('', 'Intervals: Wilson, frames as clusters (D45). --json prints every number.');
  return out.join('\n');
}
