import { describe, expect, it } from 'vitest';
import { MasterDataView, MasterData } from '../../cloud/src/masterdata/index.js';
import { AnalyticsEngine, grade } from '../../cloud/src/analytics/engine.js';
import { estimateFixtureSales, dailySales } from '../../cloud/src/analytics/sales.js';
import { detectStockouts, StockoutTracker } from '../../cloud/src/analytics/stockouts.js';
import { analysePromotion } from '../../cloud/src/analytics/promo.js';
import {
  captureAvailability,
  captureCompliance,
  capturePurity,
  facingsAndShare,
} from '../../cloud/src/analytics/shelf.js';
import { openMinutes, type Capture, type FixtureSeries, type OutletClock } from '../../cloud/src/analytics/series.js';

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

describe('promotion difference-in-differences', () => {
  it('recovers the incremental units and ROI of a clean synthetic promotion', () => {
    // Market trend ×1.1 in the promotion period; treated outlets sell 50% more on top of it.
    const outlets = Array.from({ length: 10 }, (_, i) => `o${i}`);
    const treated = outlets.slice(0, 5);
    const base = (o: string) => 10 + Number(o.slice(1));
    const units = (o: string, _sku: string, d: string) => {
      const post = d >= '2026-03-08';
      return base(o) * (post ? 1.1 : 1) * (post && treated.includes(o) ? 1.5 : 1);
    };
    const days = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => `2026-03-${String(from + i).padStart(2, '0')}`);
    const r = analysePromotion(
      {
        skus: ['a'],
        treated,
        controls: outlets.slice(5),
        preDays: days(1, 7),
        promoDays: days(8, 7),
        discountPct: 0.1,
        cost: 100,
        price: () => ({ price: 5, unitCost: 2 }),
        units,
      },
      { resamples: 200 },
    );
    const baseline = treated.reduce((s, o) => s + base(o) * 7 * 1.1, 0);
    expect(r.controlTrend).toBeCloseTo(1.1, 9);
    expect(r.baselineUnits).toBeCloseTo(baseline, 6);
    expect(r.incrementalUnits).toBeCloseTo(baseline * 0.5, 6);
    const gm = baseline * 1.5 * (4.5 - 2) - baseline * 3;
    expect(r.incrementalGrossMargin).toBeCloseTo(gm, 6);
    expect(r.roi).toBeCloseTo((gm - 100) / 100, 6);
    expect(r.roiInterval!.low).toBeLessThanOrEqual(r.roi);
    expect(r.roiInterval!.high).toBeGreaterThanOrEqual(r.roi);
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
