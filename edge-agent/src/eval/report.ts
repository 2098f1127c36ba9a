/**
 * What `npm run eval` prints without --json: the rates a person reads, each with its 95 % interval
 * and the counts behind it, in a few lines instead of a page of JSON (--json keeps every number).
 */
import type { Metrics, Proportion } from './metrics.js';
import type { Intervals } from './uncertainty.js';

export interface Report extends Metrics {
  model: { name: string; version: string };
  gallery: { name: string; version: string };
  dataset: string;
  images: number;
  ci95: Intervals;
  latencyMs: { p50: number; p95: number };
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

export function formatReport(r: Report): string {
  const out: string[] = [
    `${r.images} frames of ${r.dataset}`,
    `model ${r.model.name}@${r.model.version}, gallery ${r.gallery.name}@${r.gallery.version}`,
    '',
    `${'metric'.padEnd(34)}${'rate'.padStart(8)}   ${'95 % interval'.padEnd(15)}${'hits / of'.padStart(16)}`,
  ];
  for (const [key, label] of ROWS) {
    const c = r.ci95[key];
    if (c.of === 0) {
      out.push(`${label.padEnd(34)}${'-'.padStart(8)}   ${'(none in set)'.padEnd(15)}${'0 / 0'.padStart(16)}`);
      continue;
    }
    const span = `${(c.lo * 100).toFixed(1)}–${(c.hi * 100).toFixed(1)} %`;
    out.push(
      `${label.padEnd(34)}${pct(c.hits / c.of).padStart(8)}   ${span.padEnd(15)}${`${c.hits} / ${c.of}`.padStart(16)}`,
    );
  }
  out.push(`${'Detection mAP@0.5'.padEnd(34)}${pct(r.detection.map50).padStart(8)}`);
  out.push(
    `${'Latency p50 / p95 per frame'.padEnd(34)}${`${r.latencyMs.p50.toFixed(1)} / ${r.latencyMs.p95.toFixed(1)} ms`.padStart(8)}`,
  );
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
        return c.of === 0 ? '-' : `${pct(c.hits / c.of)} [${(c.lo * 100).toFixed(1)}–${(c.hi * 100).toFixed(1)}]`;
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
