import { MasterDataView, MasterData } from '../../masterdata/index.js';
import { AnalyticsEngine } from '../engine.js';
import { toSeries, type CaptureLike } from '../load.js';
import { median, weekOf } from '../series.js';

/** The simulator's truth, as far as the checks need it (validated loosely: it is our own output). */
export interface TruthLike {
  seed: number;
  sales: { outletId: string; fixtureId: string; sku: string; date: string; units: number }[];
  stockouts: { outletId: string; fixtureId: string; sku: string; start: string; end: string | null }[];
  promotions: {
    promotionId: string;
    roi: number;
    incrementalUnits: number;
    actualUnits: number;
    counterfactualUnits: number;
  }[];
}

export interface SalesCheck {
  /** Mean over outlet-SKU-weeks with true sales > 0 of |estimate − truth| ÷ truth. */
  mape: number;
  /** Σ|estimate − truth| ÷ Σ truth over the same cells. */
  wape: number;
  cells: number;
}

export interface StockoutCheck {
  precision: number;
  /** Over true stockouts that span at least one capture of their fixture (observable ones). */
  recall: number;
  /** Over all true stockouts, including those shorter than the gap between two captures. */
  recallAll: number;
  medianDelayCaptures: number;
  p95DelayCaptures: number;
  trueStockouts: number;
  observableStockouts: number;
  detected: number;
}

export interface PromoCheck {
  promotionId: string;
  trueRoi: number;
  estimatedRoi: number;
  roiAbsErrorPct: number;
  interval: { low: number; high: number } | null;
  covered: boolean;
  trueIncrementalUnits: number;
  estimatedIncrementalUnits: number;
  trueActualUnits: number;
  estimatedActualUnits: number;
  trueCounterfactualUnits: number;
  estimatedCounterfactualUnits: number;
}

export const checkSales = (engine: AnalyticsEngine, truth: TruthLike): SalesCheck => {
  const t = new Map<string, number>();
  for (const s of truth.sales) {
    const k = `${s.outletId}|${s.sku}|${weekOf(s.date)}`;
    t.set(k, (t.get(k) ?? 0) + s.units);
  }
  const e = new Map(engine.sales('week').map((r) => [`${r.outletId}|${r.sku}|${r.period}`, r.units]));
  let ape = 0;
  let abs = 0;
  let tot = 0;
  let n = 0;
  for (const [k, v] of t) {
    if (v <= 0) continue;
    const err = Math.abs((e.get(k) ?? 0) - v);
    ape += err / v;
    abs += err;
    tot += v;
    n++;
  }
  return { mape: n ? ape / n : Number.NaN, wape: tot ? abs / tot : Number.NaN, cells: n };
};

/**
 * Weekly sales per outlet summed over SKUs (in the recognition loop: per sampled fixture) against
 * truth, and how much of the outlet-SKU-week error is persistent: the share of Σ (relative error)²
 * explained by each outlet-SKU's mean relative error over its weeks (a SKU consistently over- or
 * under-estimated: look-alike confusion, SKU-specific undercounting) rather than week-to-week noise.
 */
export const checkSalesTotals = (
  engine: AnalyticsEngine,
  truth: TruthLike,
): { fixtureTotalMape: number; persistentShare: number } => {
  const weekly = engine.sales('week');
  const tot = (rows: { outletId: string; date?: string; period?: string; units: number }[]) => {
    const m = new Map<string, number>();
    for (const r of rows) {
      const k = `${r.outletId}|${r.period ?? weekOf(r.date!)}`;
      m.set(k, (m.get(k) ?? 0) + r.units);
    }
    return m;
  };
  const tt = tot(truth.sales);
  const et = tot(weekly);
  let ape = 0;
  let n = 0;
  for (const [k, v] of tt)
    if (v > 0) {
      ape += Math.abs((et.get(k) ?? 0) - v) / v;
      n++;
    }
  const t = new Map<string, number>();
  for (const s of truth.sales) {
    const k = `${s.outletId}|${s.sku}|${weekOf(s.date)}`;
    t.set(k, (t.get(k) ?? 0) + s.units);
  }
  const e = new Map(weekly.map((r) => [`${r.outletId}|${r.sku}|${r.period}`, r.units]));
  const byCell = new Map<string, number[]>();
  for (const [k, v] of t) {
    if (v <= 0) continue;
    const os = k.slice(0, k.lastIndexOf('|'));
    byCell.set(os, [...(byCell.get(os) ?? []), ((e.get(k) ?? 0) - v) / v]);
  }
  let between = 0;
  let total = 0;
  for (const x of byCell.values()) {
    const mu = x.reduce((a, b) => a + b, 0) / x.length;
    between += mu * mu * x.length;
    total += x.reduce((a, b) => a + b * b, 0);
  }
  return { fixtureTotalMape: n ? ape / n : Number.NaN, persistentShare: total ? between / total : Number.NaN };
};

export const checkStockouts = (engine: AnalyticsEngine, truth: TruthLike, captureIntervalMs: number): StockoutCheck => {
  const detected = engine.stockouts();
  const capTimes = new Map(engine.series.map((s) => [s.fixtureId, s.captures.map((c) => c.t)]));
  const trueList = truth.stockouts.map((s) => ({
    key: `${s.fixtureId}|${s.sku}`,
    start: Date.parse(s.start),
    end: s.end === null ? Number.POSITIVE_INFINITY : Date.parse(s.end),
  }));
  const observable = trueList.filter((s) =>
    (capTimes.get(s.key.split('|')[0]!) ?? []).some((t) => t >= s.start && t < s.end),
  );
  const byKey = new Map<string, typeof trueList>();
  for (const s of trueList) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
  const matched = new Set<(typeof trueList)[number]>();
  const delays: number[] = [];
  let tp = 0;
  for (const d of detected) {
    const hit = (byKey.get(`${d.fixtureId}|${d.sku}`) ?? []).find((s) => d.start >= s.start && d.start < s.end);
    if (!hit) continue;
    tp++;
    if (!matched.has(hit)) {
      matched.add(hit);
      delays.push((d.raisedAt - hit.start) / captureIntervalMs);
    }
  }
  const obsMatched = observable.filter((s) => matched.has(s)).length;
  const sorted = [...delays].sort((a, b) => a - b);
  return {
    precision: detected.length ? tp / detected.length : 1,
    recall: observable.length ? obsMatched / observable.length : 1,
    recallAll: trueList.length ? matched.size / trueList.length : 1,
    medianDelayCaptures: median(delays),
    p95DelayCaptures: sorted[Math.floor(0.95 * (sorted.length - 1))] ?? Number.NaN,
    trueStockouts: trueList.length,
    observableStockouts: observable.length,
    detected: detected.length,
  };
};

export const checkPromotions = (engine: AnalyticsEngine, truth: TruthLike, resamples = 1000): PromoCheck[] =>
  truth.promotions.flatMap((tp) => {
    const p = engine.master.promotions.get(tp.promotionId);
    if (!p) return [];
    const r = engine.promotion(p, { resamples, seed: truth.seed });
    const iv = r.roiInterval;
    return [
      {
        promotionId: tp.promotionId,
        trueRoi: tp.roi,
        estimatedRoi: r.roi,
        roiAbsErrorPct: Math.abs(r.roi - tp.roi) / Math.abs(tp.roi),
        interval: iv ? { low: iv.low, high: iv.high } : null,
        covered: iv !== null && tp.roi >= iv.low && tp.roi <= iv.high,
        trueIncrementalUnits: tp.incrementalUnits,
        estimatedIncrementalUnits: r.incrementalUnits,
        trueActualUnits: tp.actualUnits,
        estimatedActualUnits: r.actualUnits,
        trueCounterfactualUnits: tp.counterfactualUnits,
        estimatedCounterfactualUnits: r.baselineUnits,
      },
    ];
  });

export const engineFor = (observations: Iterable<CaptureLike>, master: unknown): AnalyticsEngine =>
  new AnalyticsEngine(toSeries(observations), new MasterDataView(MasterData.parse(master)));
