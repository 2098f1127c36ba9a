import { describe, expect, it } from 'vitest';
import { estimateFixtureSales } from '../../cloud/src/analytics/sales.js';
import {
  countNoiseScale,
  isotonicNonIncreasing,
  prefixIsotonicSse,
  segmentRestocks,
} from '../../cloud/src/analytics/stock-levels.js';
import { prng, type FixtureSeries, type OutletClock } from '../../cloud/src/analytics/series.js';

const H = 3_600_000;
const T0 = Date.parse('2026-03-02T00:00:00Z');
const clock24: OutletClock = { utcOffsetMinutes: 480, openHour: 0, closeHour: 24 };

/** Normal draw from a uniform source (Box–Muller). */
const normal = (u: () => number) => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());

/**
 * A branded cooler: `skus` SKUs, 3 facings × 4 deep (capacity 12), a capture every 4 h for `days`
 * days, Poisson sales (rate per SKU per capture interval), a visit that refills every SKU to
 * capacity every 3 days in the middle of an interval. Returns the true units at each capture and
 * the true units sold.
 */
const cooler = (seed: number, skus = 10, days = 21) => {
  const u = prng(seed);
  const poisson = (l: number) => {
    let k = 0;
    for (let p = Math.exp(-l), f = p, x = u(); x > f && k < 50; k++, p *= l / k, f += p);
    return k;
  };
  const names = Array.from({ length: skus }, (_, i) => `sku-${i}`);
  const rate = names.map(() => 0.4 + 0.8 * u());
  const level = names.map(() => 12);
  const truth: number[][] = [];
  let sold = 0;
  const steps = days * 6;
  for (let i = 0; i < steps; i++) {
    truth.push([...level]);
    // Half an interval of sales, a visit every 18 intervals (3 days), the other half.
    for (const half of [0, 1]) {
      if (half === 1 && i % 18 === 8) level.fill(12);
      names.forEach((_, s) => {
        const k = Math.min(level[s]!, poisson(rate[s]! / 2));
        level[s]! -= k;
        sold += k;
      });
    }
  }
  truth.push([...level]);
  return { names, truth, sold, u };
};

const seriesOf = (names: string[], counts: number[][], facings = 3): FixtureSeries => ({
  outletId: 'o1',
  fixtureId: 'f1',
  captures: counts.map((row, i) => ({
    t: T0 + i * 4 * H,
    skus: new Map(
      names.flatMap((s, k) =>
        row[k]! > 0 ? [[s, { count: row[k]!, facings: Math.min(row[k]!, facings) }] as const] : [],
      ),
    ),
    emptyFacings: 0,
    unknownProducts: 0,
  })),
});

const total = (r: { intervals: { units: number }[] }) => r.intervals.reduce((a, i) => a + i.units, 0);
const planned = (names: string[]) => names.map((sku) => ({ sku, facings: 3, capacity: 12 }));

describe('isotonic (non-increasing) fits', () => {
  it('pools adjacent violators', () => {
    const r = isotonicNonIncreasing([10, 8, 9, 7, 8, 6]);
    expect(r.fit).toEqual([10, 8.5, 8.5, 7.5, 7.5, 6]);
    expect(r.sse).toBeCloseTo(1, 12);
    expect(isotonicNonIncreasing([5, 5, 3, 0]).fit).toEqual([5, 5, 3, 0]);
  });

  it('prefix SSEs equal the SSE of each prefix fitted on its own (incl. cascading merges)', () => {
    const u = prng(7);
    for (let rep = 0; rep < 50; rep++) {
      const y = Array.from({ length: 25 }, (_, i) => Math.round(12 - i * 0.3 + 4 * (u() - 0.5) + (u() < 0.1 ? 8 : 0)));
      const pre = prefixIsotonicSse(y);
      y.forEach((_, k) => expect(pre[k]).toBeCloseTo(isotonicNonIncreasing(y.slice(0, k + 1)).sse, 9));
    }
  });
});

describe('count noise and restock segmentation', () => {
  it('estimates ~0 noise for exact counts and about the injected noise for noisy ones', () => {
    const { truth, u } = cooler(11);
    const bySku = (m: number[][]) => m[0]!.map((_, s) => m.map((row) => row[s]!));
    expect(countNoiseScale(bySku(truth))).toBeLessThan(0.6);
    const noisy = truth.map((row) => row.map((c) => Math.max(0, Math.round(c + 1.5 * normal(u)))));
    const sd = countNoiseScale(bySku(noisy));
    expect(sd).toBeGreaterThan(0.9);
    expect(sd).toBeLessThan(2);
  });

  it('finds the visits in noisy counts as fixture-wide level shifts', () => {
    const { truth, u } = cooler(12);
    const noisy = truth.map((row) => row.map((c) => Math.max(0, Math.round(c + 1.5 * normal(u)))));
    const bySku = noisy[0]!.map((_, s) => noisy.map((row) => row[s]!));
    const sd = countNoiseScale(bySku);
    const cuts = segmentRestocks(bySku, 4 * sd * sd * bySku.length);
    const visits = truth.flatMap((_, i) => (i % 18 === 8 && i + 1 < truth.length ? [i] : []));
    expect(cuts).toEqual(visits);
  });
});

describe('sales from noisy counts: stock-level model vs count drops', () => {
  it('equals the drop estimator on exact counts', () => {
    const { names, truth, sold } = cooler(21);
    const s = seriesOf(names, truth);
    const levels = estimateFixtureSales(s, clock24, { restockMinUnits: 1, rateWindow: 6, method: 'levels' });
    const drops = estimateFixtureSales(s, clock24, { restockMinUnits: 1, rateWindow: 6, method: 'drops' });
    expect(levels.restocks.map((r) => r.from)).toEqual(drops.restocks.map((r) => r.from));
    expect(total(levels)).toBeCloseTo(total(drops), 9);
    expect(Math.abs(total(drops) - sold) / sold).toBeLessThan(0.05);
  });

  it('noise of ±1.5 units per count: drops invent phantom sales, levels stay within 10 %', () => {
    for (const seed of [31, 32, 33]) {
      const { names, truth, sold, u } = cooler(seed);
      const noisy = truth.map((row) => row.map((c) => Math.max(0, Math.round(c + 1.5 * normal(u)))));
      const s = seriesOf(names, noisy);
      const drops = total(estimateFixtureSales(s, clock24, { restockMinUnits: 1, rateWindow: 6, method: 'drops' }));
      const drops3 = total(estimateFixtureSales(s, clock24, { restockMinUnits: 3, rateWindow: 6, method: 'drops' }));
      const levels = estimateFixtureSales(s, clock24, { restockMinUnits: 1, rateWindow: 6, method: 'levels' });
      expect(drops / sold).toBeGreaterThan(1.5);
      expect(Math.abs(drops3 / sold - 1)).toBeGreaterThan(0.2);
      expect(Math.abs(total(levels) / sold - 1)).toBeLessThan(0.1);
      expect(levels.restocks).toHaveLength(truth.filter((_, i) => i % 18 === 8 && i + 1 < truth.length).length);
    }
  });

  it('undercounted packs behind the front ones: the planogram capacity restores the scale', () => {
    // The recogniser sees the front pack of each of the 3 positions, and 40 % of the packs behind.
    const { names, truth, sold, u } = cooler(41);
    const read = truth.map((row) =>
      row.map((c) => {
        const front = Math.min(3, c);
        return Math.max(0, Math.round(front + 0.4 * (c - front) + 0.8 * normal(u)));
      }),
    );
    const s = seriesOf(names, read);
    const opts = { restockMinUnits: 1, rateWindow: 6, method: 'levels' as const };
    const without = total(estimateFixtureSales(s, clock24, opts));
    const withPlan = estimateFixtureSales(s, clock24, opts, undefined, planned(names));
    expect(without / sold).toBeLessThan(0.75);
    expect(Math.abs(total(withPlan) / sold - 1)).toBeLessThan(0.15);
  });

  it('does not stretch exact counts (post-visit readings are at capacity)', () => {
    const { names, truth } = cooler(51);
    const s = seriesOf(names, truth);
    const opts = { restockMinUnits: 1, rateWindow: 6, method: 'levels' as const };
    expect(total(estimateFixtureSales(s, clock24, opts, undefined, planned(names)))).toBeCloseTo(
      total(estimateFixtureSales(s, clock24, opts)),
      9,
    );
  });
});
