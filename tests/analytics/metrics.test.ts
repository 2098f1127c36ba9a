import { describe, expect, it } from 'vitest';
import { MasterDataView, MasterData } from '../../cloud/src/masterdata/index.js';
import { AnalyticsEngine, grade } from '../../cloud/src/analytics/engine.js';
import { estimateFixtureSales, dailySales } from '../../cloud/src/analytics/sales.js';
import { detectStockouts, StockoutTracker } from '../../cloud/src/analytics/stockouts.js';
import { analysePromotion, inStockShare, type DemandInterval } from '../../cloud/src/analytics/promo.js';
import {
  captureAvailability,
  captureCompliance,
  capturePurity,
  facingsAndShare,
} from '../../cloud/src/analytics/shelf.js';
import {
  openMinutes,
  prng,
  type Capture,
  type FixtureSeries,
  type OutletClock,
} from '../../cloud/src/analytics/series.js';

const H = 3_600_000;
const T0 = Date.parse('2026-03-02T00:00:00Z'); // 08:00 local (UTC+8)
const clock24: OutletClock = { utcOffsetMinutes: 480, openHour: 0, closeHour: 24 };
const cap = (h: number, skus: Record<string, [number, number] | number>, extra: Partial<Capture> = {}): Capture => ({
  t: T0 + h * H,
  skus: new Map(
    Object.entries(skus).map(([k, v]) => [
      k,
      Array.isArray(v) ? { count: v[0], facings: v[1] } : { count: v, facings: Math.min(v, 3) },
    ]),
  ),
  emptyFacings: 0,
  unknownProducts: 0,
  ...extra,
});
const series = (captures: Capture[], fixtureId = 'f1', outletId = 'o1'): FixtureSeries => ({
  outletId,
  fixtureId,
  captures,
});

describe('sales from count decreases', () => {
  it('counts decreases as sales', () => {
    const s = series([cap(0, { a: 10 }), cap(1, { a: 8 }), cap(2, { a: 5 }), cap(3, { a: 5 })]);
    const r = estimateFixtureSales(s, clock24);
    expect(r.intervals.reduce((x, i) => x + i.units, 0)).toBe(5);
    expect(r.restocks).toEqual([]);
  });

  it('recognises a restock and imputes that interval from the neighbouring sell rate', () => {
    // 2 units per hour before and after; restock in hour 3→4 (count rises 4 → 20).
    const s = series([
      cap(0, { a: 10 }),
      cap(1, { a: 8 }),
      cap(2, { a: 6 }),
      cap(3, { a: 4 }),
      cap(4, { a: 20 }),
      cap(5, { a: 18 }),
      cap(6, { a: 16 }),
    ]);
    const r = estimateFixtureSales(s, clock24);
    expect(r.restocks).toHaveLength(1);
    const imputed = r.intervals.filter((i) => i.kind === 'imputed');
    expect(imputed).toHaveLength(1);
    expect(imputed[0]!.units).toBeCloseTo(2, 6);
    expect(r.intervals.reduce((x, i) => x + i.units, 0)).toBeCloseTo(12, 6); // never negative
  });

  it('imputes half the rate when the SKU was out at the start of the restock interval', () => {
    const s = series([cap(0, { a: 4 }), cap(1, { a: 2 }), cap(2, { a: 0 }), cap(3, { a: 20 }), cap(4, { a: 18 })]);
    const r = estimateFixtureSales(s, clock24);
    expect(r.intervals.find((i) => i.kind === 'imputed')!.units).toBeCloseTo(1, 6);
  });

  it('a large drop in a restock interval is a removal, not sales', () => {
    const s = series([
      cap(0, { a: 10, comp: 6 }),
      cap(1, { a: 9, comp: 6 }),
      cap(2, { a: 20, comp: 0 }),
      cap(3, { a: 19, comp: 0 }),
    ]);
    const units = estimateFixtureSales(s, clock24)
      .intervals.filter((i) => i.sku === 'comp')
      .reduce((x, i) => x + i.units, 0);
    expect(units).toBe(0);
  });

  it('spreads sales over local days by open minutes; nothing sells while closed', () => {
    const clock: OutletClock = { utcOffsetMinutes: 480, openHour: 8, closeHour: 22 };
    // 21:00 local day 1 → 09:00 local day 2: 1 h open on each day.
    const a = Date.parse('2026-03-02T13:00:00Z');
    const b = Date.parse('2026-03-03T01:00:00Z');
    expect(openMinutes(a, b, clock)).toBe(120);
    const d = dailySales([{ sku: 'x', from: a, to: b, units: 4, kind: 'observed' }], clock);
    expect(d.get('x|2026-03-02')).toBeCloseTo(2);
    expect(d.get('x|2026-03-03')).toBeCloseTo(2);
  });
});

describe('stockouts with hysteresis', () => {
  it('opens on the first zero capture and closes when stock is back', () => {
    const s = series([cap(0, { a: 2 }), cap(1, { a: 0 }), cap(2, {}), cap(3, { a: 20 }), cap(4, { a: 19 })]);
    const ev = detectStockouts(s, ['a']);
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ start: T0 + H, raisedAt: T0 + H, end: T0 + 3 * H, clearedAt: T0 + 3 * H });
  });

  it('a single low reading (< closeImmediateUnits) does not clear; two in a row do', () => {
    const tr = new StockoutTracker('o', 'f', 'a');
    expect(tr.feed(0, 0)?.change).toBe('open');
    expect(tr.feed(1, 1)).toBeNull();
    expect(tr.feed(2, 0)).toBeNull(); // flicker back to 0: still open, run reset
    expect(tr.feed(3, 1)).toBeNull();
    const r = tr.feed(4, 2);
    expect(r?.change).toBe('close');
    expect(r?.event.end).toBe(3);
  });

  it('openAfter > 1 needs consecutive zeros', () => {
    const tr = new StockoutTracker('o', 'f', 'a', { openAfter: 2, closeAfter: 1, closeImmediateUnits: 1 });
    expect(tr.feed(0, 0)).toBeNull();
    expect(tr.feed(1, 3)).toBeNull();
    expect(tr.feed(2, 0)).toBeNull();
    expect(tr.feed(3, 0)?.event.start).toBe(2);
  });
});

describe('shelf metrics', () => {
  const planned = [
    { sku: 'a', facings: 3, capacity: 18 },
    { sku: 'b', facings: 2, capacity: 12 },
  ];
  const lookup = (sku: string) => ({ brand: sku === 'c' ? 'Rival' : 'Own', own: sku !== 'c' });

  it('availability, compliance and purity of one capture', () => {
    const c = cap(0, { a: [5, 3], c: [4, 1] }, { unknownProducts: 1 });
    expect(captureAvailability(c, planned)).toBe(0.5);
    expect(captureCompliance(c, planned)).toBe(3 / 5);
    expect(capturePurity(c, lookup)).toBe(5 / 10);
    expect(captureAvailability(c, [])).toBeNull();
  });

  it('facings and share of shelf average over captures per fixture', () => {
    const s = series([cap(0, { a: [6, 3], c: [2, 1] }), cap(1, { a: [6, 1], c: [2, 1] })]);
    const rows = facingsAndShare([s], lookup, 'brand');
    expect(rows).toEqual([
      { key: 'Own', brand: 'Own', own: true, facings: 2, share: 2 / 3 },
      { key: 'Rival', brand: 'Rival', own: false, facings: 1, share: 1 / 3 },
    ]);
  });

  it('grades from the score cut-offs', () => {
    expect([grade(90), grade(85), grade(70), grade(55), grade(54.9)]).toEqual(['A', 'A', 'B', 'C', 'D']);
  });
});

describe('promotion analysis on demand (difference-in-differences on in-stock sell rates)', () => {
  // Hand-made worlds with known uplift (×2): 1 SKU, 40 outlets (20 treated), 7 pre-period + 7 promotion
  // days, open 10 h, hourly captures. Poisson demand per hour = level × market factor (a daily
  // swing) × lift. Treated outlets are restocked only every third day before the promotion (they run
  // out, so their pre-period *sales* understate demand) and daily during it; controls daily. The
  // truth comes from the same world re-run without the lift on the same random draws (as the market
  // simulator does). One world's truth carries its own Poisson noise (~3.6 % of the counterfactual),
  // so accuracy is checked over 12 seeded worlds.
  const HOURS = 10;
  const CAP = 30;
  const DAYS = 14;
  const date = (d: number) => `2026-03-${String(2 + d).padStart(2, '0')}`;
  const pre = Array.from({ length: 7 }, (_, d) => date(d));
  const promo = Array.from({ length: 7 }, (_, d) => date(7 + d));
  const outlets = Array.from({ length: 40 }, (_, i) => `o${i}`);
  const treated = outlets.filter((_, i) => i % 2 === 0);
  const controls = outlets.filter((_, i) => i % 2 === 1);
  const level = (i: number) => 0.6 + (i % 5) * 0.35; // units per hour
  const market = (d: number) => 1 + 0.15 * Math.sin(d * 1.3);
  const poissonInv = (lambda: number, u: number) => {
    let k = 0;
    let p = Math.exp(-lambda);
    let f = p;
    while (u > f && k < 200) {
      p *= lambda / ++k;
      f += p;
    }
    return k;
  };
  const makeWorld = (seed: number, lift: number) => {
    const rnd = prng(seed);
    const draws = outlets.map(() => Array.from({ length: DAYS * HOURS }, () => rnd()));
    const run = (i: number, l: number) => {
      const isT = i % 2 === 0;
      const intervals: DemandInterval[] = [];
      const daily = new Map<string, number>();
      let stock = CAP;
      for (let d = 0; d < DAYS; d++) {
        const inPromo = d >= 7;
        const lambda = level(i) * market(d) * (inPromo && isT ? l : 1);
        const restockToday = !isT || inPromo || d % 3 === 0;
        for (let h = 0; h < HOURS; h++) {
          const a = stock;
          const restock = h === 0 && restockToday;
          if (restock) stock = CAP; // at the start of the hour, before shoppers
          const sold = Math.min(stock, poissonInv(lambda, draws[i]![d * HOURS + h]!));
          stock -= sold;
          daily.set(date(d), (daily.get(date(d)) ?? 0) + sold);
          intervals.push({ exposure: [[date(d), 60]], restock, countA: a, countB: stock });
        }
        intervals.push({ exposure: [], restock: false, countA: stock, countB: stock }); // night
      }
      return { track: { outletId: outlets[i]!, sku: 'a', intervals }, daily };
    };
    const real = outlets.map((_, i) => run(i, lift));
    const cf = outlets.map((_, i) => run(i, 1));
    const sum = (w: typeof real, set: string[], days: string[]) =>
      set.reduce((s, o) => s + days.reduce((x, d) => x + w[outlets.indexOf(o)]!.daily.get(d)!, 0), 0);
    const actual = sum(real, treated, promo);
    const trueCf = sum(cf, treated, promo);
    const gm = actual * (4.5 - 2) - trueCf * 3;
    const r = analysePromotion(
      {
        skus: ['a'],
        treated,
        controls,
        preDays: pre,
        promoDays: promo,
        discountPct: 0.1,
        cost: 400,
        price: () => ({ price: 5, unitCost: 2 }),
        units: (o, _s, d) => real[outlets.indexOf(o)]!.daily.get(d) ?? 0,
        tracks: real.map((x) => x.track),
      },
      { resamples: 200, seed },
    );
    // Sales-based DiD: treated pre-period sales × the controls' sales trend.
    const naiveCf = (sum(real, treated, pre) * sum(real, controls, promo)) / sum(real, controls, pre);
    return { r, truth: { actual, cf: trueCf, incremental: actual - trueCf, roi: (gm - 400) / 400 }, naiveCf };
  };
  const seeds = Array.from({ length: 12 }, (_, i) => 101 + i);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('recovers the uplift and ROI (unbiased, calibrated) where sales-based DiD is fooled by censored sales', () => {
    const runs = seeds.map((s) => makeWorld(s, 2));
    for (const { r, truth } of runs) expect(r.actualUnits).toBeCloseTo(truth.actual, 9);
    const relErr = runs.map(({ r, truth }) => (r.incrementalUnits - truth.incremental) / truth.incremental);
    expect(Math.abs(mean(relErr))).toBeLessThan(0.06); // per-world sd ≈ 7 %: 3 standard errors
    // Mean |error| of the incremental gross margin: one world's noise is ~8 % here (20 treated outlets, 7 days).
    const gmErr = runs.map(({ r, truth }) => {
      const gm = truth.actual * 2.5 - truth.cf * 3;
      return Math.abs(r.incrementalGrossMargin - gm) / gm;
    });
    expect(mean(gmErr)).toBeLessThan(0.12);
    const covered = runs.filter(({ r, truth }) => r.roiInterval!.low <= truth.roi && truth.roi <= r.roiInterval!.high);
    expect(covered.length).toBeGreaterThanOrEqual(9); // 90 % intervals
    for (const { r } of runs) expect(r.placeboDispersion!).toBeGreaterThan(0.3);
    const naiveErr = runs.map(({ truth, naiveCf }) => (truth.actual - naiveCf - truth.incremental) / truth.incremental);
    expect(mean(naiveErr)).toBeGreaterThan(0.2);
  });

  it('finds no uplift when there is none', () => {
    const runs = seeds.slice(0, 6).map((s) => makeWorld(s, 1));
    expect(Math.abs(mean(runs.map(({ r, truth }) => r.incrementalUnits / truth.cf)))).toBeLessThan(0.03);
    for (const { truth } of runs) expect(truth.incremental).toBe(0);
  });

  it('in-stock share of an interval that ran empty: c/(c+1) for slow sellers, c/μ for fast ones', () => {
    expect(inStockShare(1, 0.01)).toBeCloseTo(0.5, 2);
    expect(inStockShare(3, 0.01)).toBeCloseTo(0.75, 2);
    expect(inStockShare(2, 40)).toBeCloseTo(2 / 40, 3);
  });
});

describe('engine over master data', () => {
  const md = new MasterDataView(
    MasterData.parse({
      version: 1,
      skus: [
        { sku: 'a', brand: 'Own', own: true, price: 5, unitCost: 2 },
        { sku: 'c', brand: 'Rival', own: false, price: 5, unitCost: 2 },
      ],
      outlets: [{ outletId: 'o1', region: 'East', city: 'Shanghai', channel: 'convenience', lat: 31, lon: 121 }],
      fixtures: [
        {
          fixtureId: 'f1',
          outletId: 'o1',
          kind: 'branded-cooler',
          positions: [
            { row: 0, column: 0, sku: 'a', depth: 6 },
            { row: 0, column: 1, sku: 'a', depth: 6 },
          ],
        },
      ],
    }),
  );

  it('suggests replenishment before the SKU runs out, with the planogram gap as quantity', () => {
    const caps = Array.from({ length: 6 }, (_, h) => cap(h, { a: [12 - 2 * h, 2] }));
    const e = new AnalyticsEngine([series(caps)], md);
    const [r] = e.replenishment({ horizonHours: 24 });
    expect(r).toMatchObject({ sku: 'a', count: 2, capacity: 12, quantity: 10, suggest: true, priority: 'soon' });
    expect(r!.ratePerHour).toBeCloseTo(2, 6);
    expect(Date.parse(r!.projectedEmptyAt!)).toBe(T0 + 6 * H);
  });

  it('scores an outlet from availability, compliance, purity and sales', () => {
    const e = new AnalyticsEngine([series([cap(0, { a: [12, 2] }), cap(1, { a: [10, 2] })])], md);
    const [s] = e.outletScores();
    expect(s).toMatchObject({ outletId: 'o1', availability: 1, compliance: 1, purity: 1, grade: 'A' });
    expect(s!.score).toBe(100);
  });
});
