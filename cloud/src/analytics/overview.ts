import type { AnalyticsEngine } from './engine.js';
import { localDate, type FixtureSeries } from './series.js';
import { captureCompliance, capturePurity, facingsAndShare, meanOver, skuAvailability } from './shelf.js';

/** Filters that narrow the brand/SKU-level numbers of the overview (outlet filters narrow the engine). */
export interface OverviewFilter {
  brand?: string | undefined;
  sku?: string | undefined;
}

export interface OverviewKpis {
  /** Σ present ÷ Σ (fixture, capture, planned SKU) over the SKUs in the filter; null without planograms. */
  availability: number | null;
  /** Facings share of the filter's brand (else of own brands), as /analytics/share-of-shelf. */
  shareOfShelf: number | null;
  /** Mean over branded coolers of their mean per-capture purity, as /analytics/purity. */
  purity: number | null;
  /** Mean over fixtures with a planogram of their mean per-capture compliance, as /analytics/compliance. */
  compliance: number | null;
  /** Stockouts still open at the end of the period (as /analytics/stockouts?state=open). */
  openStockouts: number;
  /** Estimated units and revenue sold in the period (as /analytics/sales?period=total). */
  salesUnits: number;
  salesRevenue: number;
  fixtures: number;
  outlets: number;
  captures: number;
}

const inFilter = (e: AnalyticsEngine, f: OverviewFilter, sku: string) =>
  (!f.sku || sku === f.sku) && (!f.brand || e.lookup(sku).brand === f.brand);

const mean = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

/** KPIs of one engine (one period and scope), with the same definitions as the single-metric endpoints. */
export const kpis = (e: AnalyticsEngine, f: OverviewFilter, series: FixtureSeries[] = e.series): OverviewKpis => {
  const planned = (fx: string) => e.master.plannedSkus(fx).filter((p) => inFilter(e, f, p.sku));
  const osa = skuAvailability(series, planned);
  const n = osa.reduce((s, r) => s + r.observations, 0);
  const present = osa.reduce((s, r) => s + r.availability * r.observations, 0);
  const brands = facingsAndShare(series, e.lookup, 'brand');
  const share = brands.length
    ? brands.filter((b) => (f.brand ? b.brand === f.brand : b.own)).reduce((s, b) => s + b.share, 0)
    : null;
  const purity = mean(
    series
      .filter((s) => e.master.fixtures.get(s.fixtureId)?.kind !== 'shelf')
      .map((s) => meanOver(s.captures, (c) => capturePurity(c, e.lookup))),
  );
  const compliance = mean(
    series.map((s) => meanOver(s.captures, (c) => captureCompliance(c, e.master.plannedSkus(s.fixtureId)))),
  );
  return {
    availability: n > 0 ? present / n : null,
    shareOfShelf: share,
    purity,
    compliance,
    openStockouts: 0,
    salesUnits: 0,
    salesRevenue: 0,
    fixtures: series.length,
    outlets: new Set(series.map((s) => s.outletId)).size,
    captures: series.reduce((s, x) => s + x.captures.length, 0),
  };
};

export interface TrendPoint {
  date: string;
  availability: number | null;
  shareOfShelf: number | null;
  purity: number | null;
  compliance: number | null;
  salesUnits: number;
  salesRevenue: number;
}

export interface OverviewResult {
  kpis: OverviewKpis;
  trend: TrendPoint[];
  worstOutlets: {
    outletId: string;
    name: string;
    region: string | null;
    city: string | null;
    grade: string;
    score: number;
    availability: number | null;
  }[];
  worstSkus: {
    sku: string;
    name: string;
    brand: string;
    own: boolean;
    availability: number;
    outlets: number;
    stockouts: number;
  }[];
}

/** Everything the overview page shows for one period, computed once per (scope, filter). */
export const overview = (e: AnalyticsEngine, f: OverviewFilter, limit = 10): OverviewResult => {
  const k = kpis(e, f);
  const stockouts = e.stockouts().filter((s) => inFilter(e, f, s.sku));
  k.openStockouts = stockouts.filter((s) => s.end === null).length;
  const price = (sku: string) => e.master.skus.get(sku)?.price ?? 0;

  // Daily trend: the same KPI functions over each local day's captures; sales from the daily estimate.
  const byDay = new Map<string, FixtureSeries[]>();
  for (const s of e.series) {
    const clock = e.clock(s.outletId);
    const parts = new Map<string, FixtureSeries>();
    for (const c of s.captures) {
      const d = localDate(c.t, clock);
      let p = parts.get(d);
      if (!p) parts.set(d, (p = { outletId: s.outletId, fixtureId: s.fixtureId, captures: [] }));
      p.captures.push(c);
    }
    for (const [d, p] of parts) byDay.set(d, [...(byDay.get(d) ?? []), p]);
  }
  const salesByDay = new Map<string, { units: number; revenue: number }>();
  for (const [key, u] of e.dailySales()) {
    const [, sku, date] = key.split('|') as [string, string, string];
    if (!inFilter(e, f, sku)) continue;
    const a = salesByDay.get(date) ?? { units: 0, revenue: 0 };
    a.units += u;
    a.revenue += u * price(sku);
    salesByDay.set(date, a);
  }
  for (const a of salesByDay.values()) {
    k.salesUnits += a.units;
    k.salesRevenue += a.revenue;
  }
  const trend = [...byDay.keys()].sort().map((date) => {
    const d = kpis(e, f, byDay.get(date)!);
    const s = salesByDay.get(date) ?? { units: 0, revenue: 0 };
    return {
      date,
      availability: d.availability,
      shareOfShelf: d.shareOfShelf,
      purity: d.purity,
      compliance: d.compliance,
      salesUnits: s.units,
      salesRevenue: s.revenue,
    };
  });

  const scores = e.outletScores();
  const worstOutlets = [...scores]
    .sort((a, b) => a.score - b.score || a.outletId.localeCompare(b.outletId))
    .slice(0, limit)
    .map((x) => {
      const o = e.master.outlets.get(x.outletId);
      return {
        outletId: x.outletId,
        name: o?.name ?? '',
        region: o?.region ?? null,
        city: o?.city ?? null,
        grade: x.grade,
        score: x.score,
        availability: x.availability,
      };
    });
  const outs = new Map<string, number>();
  for (const s of stockouts) outs.set(s.sku, (outs.get(s.sku) ?? 0) + 1);
  const worstSkus = skuAvailability(e.series, (fx) => e.master.plannedSkus(fx).filter((p) => inFilter(e, f, p.sku)))
    .sort((a, b) => a.availability - b.availability || a.sku.localeCompare(b.sku))
    .slice(0, limit)
    .map((x) => {
      const m = e.master.skus.get(x.sku);
      return {
        sku: x.sku,
        name: m?.name ?? '',
        brand: e.lookup(x.sku).brand,
        own: e.lookup(x.sku).own,
        availability: x.availability,
        outlets: x.outlets,
        stockouts: outs.get(x.sku) ?? 0,
      };
    });
  return { kpis: k, trend, worstOutlets, worstSkus };
};

/**
 * Daily and per-outlet view of a promotion, with the same counterfactual as the ROI: each treated
 * outlet-SKU's pre-period units × the control trend. Daily baseline = the treated outlets' units on
 * the pre-period day the same number of days before the start × the trend.
 */
export const promotionBreakdown = (
  e: AnalyticsEngine,
  p: { outletIds: string[]; skus: string[]; start: string; end: string; discountPct: number },
  controlTrend: number,
): {
  daily: { date: string; actualUnits: number; baselineUnits: number }[];
  perOutlet: {
    outletId: string;
    name: string;
    actualUnits: number;
    baselineUnits: number;
    incrementalUnits: number;
    incrementalRevenue: number;
  }[];
} => {
  const clock = e.clock(p.outletIds[0] ?? '');
  const start = Date.parse(p.start);
  const end = Date.parse(p.end);
  const observed = new Set(e.series.map((s) => s.outletId));
  const treated = p.outletIds.filter((o) => observed.has(o));
  const daily = e.dailySales();
  const units = (o: string, sku: string, d: string) => daily.get(`${o}|${sku}|${d}`) ?? 0;
  const days: { date: string; pre: string }[] = [];
  const n = Math.round((end - start) / 86_400_000);
  for (let t = start; t < end; t += 86_400_000) {
    days.push({ date: localDate(t, clock), pre: localDate(t - n * 86_400_000, clock) });
  }
  const price = (sku: string) => e.master.skus.get(sku)?.price ?? 0;
  return {
    daily: days.map(({ date, pre }) => {
      let a = 0;
      let b = 0;
      for (const o of treated)
        for (const sku of p.skus) {
          a += units(o, sku, date);
          b += units(o, sku, pre) * controlTrend;
        }
      return { date, actualUnits: a, baselineUnits: b };
    }),
    perOutlet: treated
      .map((o) => {
        let a = 0;
        let b = 0;
        let rev = 0;
        for (const sku of p.skus)
          for (const d of days) {
            const post = units(o, sku, d.date);
            const cf = units(o, sku, d.pre) * controlTrend;
            a += post;
            b += cf;
            rev += post * price(sku) * (1 - p.discountPct) - cf * price(sku);
          }
        return {
          outletId: o,
          name: e.master.outlets.get(o)?.name ?? '',
          actualUnits: a,
          baselineUnits: b,
          incrementalUnits: a - b,
          incrementalRevenue: rev,
        };
      })
      .sort((x, y) => y.incrementalUnits - x.incrementalUnits || x.outletId.localeCompare(y.outletId)),
  };
};
