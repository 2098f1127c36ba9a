import { describe, expect, it } from 'vitest';
import type { Detection } from '@shelfsight/protocol';
import {
  averagePrecision,
  computeMetrics,
  percentile,
  PROPORTIONS,
  type FrameResult,
} from '../../../edge-agent/src/eval/metrics.js';
import { clusteredInterval, intervals, wilson } from '../../../edge-agent/src/eval/uncertainty.js';
import { targetVerdicts } from '../../../edge-agent/src/eval/report.js';

const det = (d: Partial<Detection> & Pick<Detection, 'kind' | 'box'>): Detection => ({
  confidence: 0.9,
  row: 0,
  column: 0,
  facing: true,
  ...d,
});

describe('eval metrics', () => {
  it('scores a perfect frame as 1 everywhere', () => {
    const m = computeMetrics([
      {
        truth: [
          { name: 'a', box: [0, 0, 0.1, 0.2] },
          { name: '__empty__', box: [0.2, 0, 0.1, 0.2] },
          { name: '__unknown__', box: [0.4, 0, 0.1, 0.2] },
        ],
        pred: [
          det({ kind: 'product', sku: 'a', box: [0, 0, 0.1, 0.2] }),
          det({ kind: 'empty', box: [0.2, 0, 0.1, 0.2] }),
          det({ kind: 'unknown', box: [0.41, 0, 0.1, 0.2] }),
        ],
      },
    ]);
    expect(m.detection).toEqual({ precision: 1, recall: 1, map50: 1 });
    expect(m.skuAccuracy).toBe(1);
    expect(m.countExactMatch).toBe(1);
    expect(m.empty).toEqual({ precision: 1, recall: 1 });
    expect(m.unknown).toEqual({ precision: 1, recall: 1 });
  });

  it('counts a wrong SKU and a miss as errors', () => {
    const m = computeMetrics([
      {
        truth: [
          { name: 'a', box: [0, 0, 0.1, 0.2] },
          { name: 'b', box: [0.2, 0, 0.1, 0.2] },
        ],
        pred: [det({ kind: 'product', sku: 'b', box: [0, 0, 0.1, 0.2] })],
      },
    ]);
    expect(m.skuAccuracy).toBe(0);
    expect(m.detection.recall).toBe(0.5);
    expect(m.countExactMatch).toBe(0.5); // b: 1 vs 1 ok, a: 0 vs 1 wrong
    expect(m.countError).toEqual({ over: 0, under: 0.5, meanAbs: 0.5 });
  });

  it('says what became of each SKU error: missed, called unknown or empty, or given which other SKU', () => {
    const m = computeMetrics([
      {
        truth: [
          { name: 'a', box: [0, 0, 0.1, 0.2] },
          { name: 'b', box: [0.2, 0, 0.1, 0.2] },
          { name: 'b', box: [0.4, 0, 0.1, 0.2] },
          { name: 'c', box: [0.6, 0, 0.1, 0.2] },
          { name: 'd', box: [0.8, 0, 0.1, 0.2] },
          { name: 'a', box: [0, 0.5, 0.1, 0.2] },
          { name: 'a', box: [0.2, 0.5, 0.1, 0.2] },
        ],
        pred: [
          det({ kind: 'product', sku: 'a', box: [0, 0, 0.1, 0.2] }), // right
          det({ kind: 'product', sku: 'a', box: [0.2, 0, 0.1, 0.2] }), // b given a
          det({ kind: 'product', sku: 'a', box: [0.4, 0, 0.1, 0.2] }), // b given a
          det({ kind: 'unknown', box: [0.6, 0, 0.1, 0.2] }), // c called unknown
          det({ kind: 'empty', box: [0.8, 0, 0.1, 0.2] }), // d taken for an empty slot: matched per class, so missed
          det({ kind: 'product', sku: 'd', box: [0, 0.5, 0.1, 0.2] }), // a given d
          // the last a: missed
        ],
      },
    ]);
    expect(m.tallies.skuAccuracy).toEqual([1, 7]);
    expect(m.skuErrors).toEqual({
      missed: 2,
      asUnknown: 1,
      asOtherSku: 3,
      topConfusions: [
        { truth: 'b', predicted: 'a', instances: 2 },
        { truth: 'a', predicted: 'd', instances: 1 },
      ],
    });
    const e = m.skuErrors;
    expect(e.missed + e.asUnknown + e.asOtherSku).toBe(m.tallies.skuAccuracy[1] - m.tallies.skuAccuracy[0]);
  });

  it('says whether counts miss by excess or by shortfall, and by how many packs', () => {
    const m = computeMetrics([
      {
        truth: [
          { name: 'a', box: [0, 0, 0.1, 0.2] },
          { name: 'b', box: [0.2, 0, 0.1, 0.2] },
          { name: 'c', box: [0.4, 0, 0.1, 0.2] },
        ],
        pred: [
          det({ kind: 'product', sku: 'a', box: [0, 0, 0.1, 0.2] }),
          // two more boxes called `a` beside it: a counted 3 for 1 true pack
          det({ kind: 'product', sku: 'a', box: [0.6, 0, 0.1, 0.2] }),
          det({ kind: 'product', sku: 'a', box: [0.8, 0, 0.1, 0.2] }),
          det({ kind: 'product', sku: 'c', box: [0.4, 0, 0.1, 0.2] }),
        ],
      },
    ]);
    expect(m.countExactMatch).toBeCloseTo(1 / 3); // c exact; a over by 2; b (missed) under by 1
    expect(m.countError.over).toBeCloseTo(1 / 3);
    expect(m.countError.under).toBeCloseTo(1 / 3);
    expect(m.countError.meanAbs).toBeCloseTo(1);
  });

  it('lets packs hidden within the band round the ignore line count either way in countDiagnosis', () => {
    // Column of `a`: a front pack, one 85 % hidden (must be counted) and one 92 % hidden (ignored).
    const truth = [
      { name: 'a', box: [0, 0.5, 0.1, 0.2] as const, occlusion: 0 },
      { name: 'a', box: [0, 0.4, 0.1, 0.05] as const, occlusion: 0.85 },
      { name: 'a', box: [0, 0.3, 0.1, 0.02] as const, occlusion: 0.92, ignore: true },
      { name: 'b', box: [0.5, 0.5, 0.1, 0.2] as const, occlusion: 0 },
      { name: 'b', box: [0.5, 0.4, 0.1, 0.05] as const, occlusion: 0.5 },
    ].map((t) => ({ ...t, box: [...t.box] as [number, number, number, number] }));
    const front = (sku: string, x: number) => det({ kind: 'product', sku, box: [x, 0.5, 0.1, 0.2] });
    const far = (sku: string, x: number) => det({ kind: 'product', sku, box: [x, 0.9, 0.05, 0.05] });
    // a counted 1 (the 85 % hidden pack missed: in the band), b counted 1 (its 50 % hidden pack missed: not).
    let m = computeMetrics([{ truth, pred: [front('a', 0), front('b', 0.5)] }]);
    expect(m.countExactMatch).toBe(0);
    expect(m.countDiagnosis.hiddenBand).toEqual({ from: 0.8, to: 0.95 });
    expect(m.countDiagnosis.withinHiddenBand).toBe(0.5);
    // a counted 3 (a third box nowhere near a truth: the 92 % hidden pack may count), b exact.
    m = computeMetrics([
      {
        truth,
        pred: [front('a', 0), det({ kind: 'product', sku: 'a', box: [0, 0.4, 0.1, 0.05] }), far('a', 0.8)].concat(
          front('b', 0.5),
          det({ kind: 'product', sku: 'b', box: [0.5, 0.4, 0.1, 0.05] }),
        ),
      },
    ]);
    expect(m.countExactMatch).toBe(0.5);
    expect(m.countDiagnosis.withinHiddenBand).toBe(1);
    // a counted 4: beyond even the band.
    m = computeMetrics([{ truth, pred: [front('a', 0), far('a', 0.6), far('a', 0.7), far('a', 0.8)] }]);
    expect(m.countDiagnosis.withinHiddenBand).toBe(0);
  });

  it('keeps withinHiddenBand equal to countExactMatch where the set records no occlusion', () => {
    const m = computeMetrics([
      {
        truth: [
          { name: 'a', box: [0, 0, 0.1, 0.2] },
          { name: 'a', box: [0.2, 0, 0.1, 0.2] },
        ],
        pred: [det({ kind: 'product', sku: 'a', box: [0, 0, 0.1, 0.2] })],
      },
    ]);
    expect(m.countExactMatch).toBe(0);
    expect(m.countDiagnosis.withinHiddenBand).toBe(0);
  });

  it('says what counts would be with every pack hit given its own SKU', () => {
    const m = computeMetrics([
      {
        truth: [
          { name: 'a', box: [0, 0, 0.1, 0.2] },
          { name: 'a', box: [0.2, 0, 0.1, 0.2] },
          { name: 'b', box: [0.4, 0, 0.1, 0.2] },
          { name: '__unknown__', box: [0.6, 0, 0.1, 0.2] },
          { name: 'c', box: [0, 0.5, 0.1, 0.2] }, // missed
        ],
        pred: [
          det({ kind: 'product', sku: 'a', box: [0, 0, 0.1, 0.2] }),
          det({ kind: 'product', sku: 'b', box: [0.2, 0, 0.1, 0.2] }), // an a called b
          det({ kind: 'unknown', box: [0.4, 0, 0.1, 0.2] }), // the b called unknown
          det({ kind: 'product', sku: 'e', box: [0.6, 0, 0.1, 0.2] }), // the foreign pack called e
          det({ kind: 'product', sku: 'd', box: [0.8, 0.5, 0.1, 0.2] }), // a box on nothing
        ],
      },
    ]);
    // As predicted: a 1 of 2, b 1 of 1 (by luck), c 0 of 1, d 1 of 0, e 1 of 0.
    expect(m.countExactMatch).toBeCloseTo(1 / 5);
    // SKUs right: a 2, b 1 exact; c missed and d invented stay wrong; the foreign pack is no SKU.
    expect(m.countDiagnosis.ifSkusRight).toBeCloseTo(2 / 4);
    expect(m.countDiagnosis.ifSkusRightWithinHiddenBand).toBeCloseTo(2 / 4);
    expect(m.countDiagnosis.withinHiddenBand).toBeCloseTo(1 / 5);
  });

  it('breaks SKU accuracy and misses down by how hidden the pack is where the set records it', () => {
    const m = computeMetrics([
      {
        truth: [
          { name: 'a', box: [0, 0.5, 0.1, 0.2], occlusion: 0 },
          { name: 'a', box: [0, 0.3, 0.1, 0.2], occlusion: 0.6 },
          { name: 'a', box: [0.3, 0.3, 0.1, 0.2], occlusion: 0.85 },
          { name: 'a', box: [0.6, 0.3, 0.1, 0.2], occlusion: 0.88 },
          { name: 'a', box: [0.8, 0.3, 0.1, 0.05], occlusion: 0.95, ignore: true },
          { name: 'c', box: [0.8, 0.6, 0.1, 0.2] },
        ],
        pred: [
          det({ kind: 'product', sku: 'a', box: [0, 0.5, 0.1, 0.2] }),
          det({ kind: 'product', sku: 'b', box: [0, 0.3, 0.1, 0.2] }),
          det({ kind: 'product', sku: 'a', box: [0.6, 0.3, 0.1, 0.2] }),
        ],
      },
    ]);
    // 80-90 %: one missed, one right; ignored packs and packs without occlusion are not counted.
    expect(m.byHidden).toEqual({
      '0-50%': { instances: 1, skuAccuracy: 1, missed: 0 },
      '50-80%': { instances: 1, skuAccuracy: 0, missed: 0 },
      '80-90%': { instances: 2, skuAccuracy: 0.5, missed: 0.5 },
    });
  });

  it('breaks SKU accuracy and misses down by stack depth where the set records it', () => {
    const m = computeMetrics([
      {
        truth: [
          { name: 'a', box: [0, 0.5, 0.1, 0.2], depth: 0 },
          { name: 'a', box: [0, 0.3, 0.1, 0.2], depth: 1 },
          { name: 'b', box: [0.3, 0.3, 0.1, 0.2], depth: 1 },
          { name: 'b', box: [0.6, 0.3, 0.1, 0.2], depth: 4 },
          { name: 'c', box: [0.8, 0.3, 0.1, 0.2] },
          { name: '__empty__', box: [0.8, 0.6, 0.1, 0.2], depth: 0 },
        ],
        pred: [
          det({ kind: 'product', sku: 'a', box: [0, 0.5, 0.1, 0.2] }),
          det({ kind: 'product', sku: 'b', box: [0, 0.3, 0.1, 0.2] }),
          det({ kind: 'product', sku: 'b', box: [0.6, 0.3, 0.1, 0.2] }),
        ],
      },
    ]);
    // depth 1: one wrong SKU, one missed; depth 4 lands in "3+"; no depth (c) and empty slots are not counted.
    expect(m.byDepth).toEqual({
      '0': { instances: 1, skuAccuracy: 1, missed: 0 },
      '1': { instances: 2, skuAccuracy: 0, missed: 0.5 },
      '3+': { instances: 1, skuAccuracy: 1, missed: 0 },
    });
  });

  it('treats hits on ignored (heavily occluded) objects as neutral', () => {
    const m = computeMetrics([
      {
        truth: [
          { name: 'a', box: [0, 0.2, 0.1, 0.2] },
          { name: 'a', box: [0, 0.1, 0.1, 0.05], ignore: true },
          { name: 'b', box: [0.5, 0.1, 0.1, 0.05], ignore: true },
        ],
        pred: [
          det({ kind: 'product', sku: 'a', box: [0, 0.2, 0.1, 0.2] }),
          det({ kind: 'product', sku: 'a', box: [0, 0.1, 0.1, 0.05], facing: false }),
        ],
      },
    ]);
    expect(m.detection).toEqual({ precision: 1, recall: 1, map50: 1 });
    expect(m.countExactMatch).toBe(1);
  });

  it('computes AP and percentiles', () => {
    expect(
      averagePrecision(
        [
          { score: 0.9, tp: true },
          { score: 0.8, tp: false },
          { score: 0.7, tp: true },
        ],
        2,
      ),
    ).toBeCloseTo(0.5 + 0.5 * (2 / 3));
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
  });
});

/** `n` frames of `per` packs of SKU a side by side, the first `wrong` frames all read as b. */
const frames = (n: number, per: number, wrongFrames: number[]): FrameResult[] =>
  Array.from({ length: n }, (_, i) => {
    const boxes = Array.from({ length: per }, (_, k) => [k * 0.1, 0, 0.08, 0.2] as [number, number, number, number]);
    return {
      truth: boxes.map((box) => ({ name: 'a', box })),
      pred: boxes.map((box) => det({ kind: 'product', sku: wrongFrames.includes(i) ? 'b' : 'a', box })),
    };
  });

describe('confidence intervals of the evaluation (uncertainty.ts)', () => {
  it('gives the Wilson score interval', () => {
    // 251 of 257 (the held-out upright set's empty slots, stop 24): 95.00-98.93 %.
    const [lo, hi] = wilson(251 / 257, 257);
    expect(lo).toBeCloseTo(0.95001, 4);
    expect(hi).toBeCloseTo(0.98926, 4);
    // A perfect score is not certain: 50 of 50 leaves 92.9-100 %.
    expect(wilson(1, 50)[0]).toBeCloseTo(0.92865, 4);
    expect(wilson(1, 50)[1]).toBe(1);
    expect(wilson(0.5, 0)).toEqual([0, 1]);
  });

  it('widens the interval when the errors come a frame at a time', () => {
    // Ten frames of ten instances, 90 % right either way: one error in each frame, or one frame all wrong.
    const spread = clusteredInterval(Array.from({ length: 10 }, () => [9, 10] as const));
    const bunched = clusteredInterval([[0, 10], ...Array.from({ length: 9 }, () => [10, 10] as const)]);
    expect(spread).toMatchObject({ hits: 90, of: 100, designEffect: 1 });
    const [slo, shi] = wilson(0.9, 100);
    expect(spread.lo).toBeCloseTo(slo, 4);
    expect(spread.hi).toBeCloseTo(shi, 4);
    // Between-frame variance 10/9 · 90 / 100² = 0.01 against 0.9 · 0.1 / 100: a design effect of 11.1,
    // so the 100 instances weigh as 9.
    expect(bunched.designEffect).toBeCloseTo(11.11, 2);
    const [blo, bhi] = wilson(0.9, 9);
    expect(bunched.lo).toBeCloseTo(blo, 4);
    expect(bunched.hi).toBeCloseTo(bhi, 4);
    expect(bunched.hi - bunched.lo).toBeGreaterThan(2 * (spread.hi - spread.lo));
  });

  it('says nothing is known where there was nothing to count', () => {
    expect(clusteredInterval([])).toEqual({ lo: 0, hi: 1, hits: 0, of: 0, designEffect: 1 });
    expect(
      clusteredInterval([
        [0, 0],
        [0, 0],
      ]),
    ).toMatchObject({ lo: 0, hi: 1, of: 0 });
  });

  it('covers every proportion the metrics report, from the same hits and totals', () => {
    const fs = frames(6, 5, [2]);
    const m = computeMetrics(fs);
    const ci = intervals(fs);
    expect(ci.method).toMatch(/Wilson/);
    for (const k of PROPORTIONS) {
      const [hits, of] = m.tallies[k];
      expect(ci[k]).toMatchObject({ hits, of });
      if (of > 0) {
        const rate = hits / of;
        expect(ci[k].lo).toBeLessThanOrEqual(rate);
        expect(ci[k].hi).toBeGreaterThanOrEqual(rate);
      }
    }
    // The tallies are the metrics' own numerators and denominators.
    expect(m.tallies.skuAccuracy).toEqual([25, 30]);
    expect(m.skuAccuracy).toBeCloseTo(25 / 30, 10);
    expect(m.tallies.countExactMatch).toEqual([5, 7]);
    expect(m.countExactMatch).toBeCloseTo(5 / 7, 10);
    expect(m.tallies['detection.recall']).toEqual([30, 30]);
    expect(m.tallies.imagesAllCountsExact).toEqual([5, 6]);
    // Five wrong packs all in one frame: well over the binomial spread.
    expect(ci.skuAccuracy.designEffect).toBeGreaterThan(3);
  });

  it('judges a target by the interval: met, missed, or not settled by the set', () => {
    // 400 frames of 10 packs each, rates chosen round the 99.5 % (default) and 97 % (hard) SKU targets.
    const ci = (right: number) =>
      intervals(frames(400, 10, []).map((f, i) => (i < 400 - right ? { ...f, pred: [] } : f)));
    const allRight = ci(400);
    expect(targetVerdicts(['default'], allRight).skuAccuracy).toEqual({ target: 0.995, verdict: 'met' });
    // A frame's packs all missed: 390 of 400 frames right is 97.5 %, 2 points under 99.5 %.
    const some = ci(390);
    expect(targetVerdicts(['default'], some).skuAccuracy).toEqual({ target: 0.995, verdict: 'missed', shortBy: 2 });
    // The hard target of 97 % sits inside 97.5 %'s interval: the set cannot tell.
    const hard = targetVerdicts(['hard'], some).skuAccuracy!;
    expect(hard.verdict).toBe('unsettled');
    expect(hard.shortBy).toBeUndefined();
    // Targets are per difficulty: a mixed set, or a difficulty without targets, gets no verdicts.
    expect(targetVerdicts(['default', 'hard'], some)).toEqual({});
    expect(targetVerdicts(['easy'], some)).toEqual({});
    // Nothing to count (no empty slots in these frames): no verdict either.
    expect(targetVerdicts(['default'], some)['empty.recall']).toBeUndefined();
  });
});
