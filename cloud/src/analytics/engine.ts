import type { MasterDataView, PromotionMaster } from '../masterdata/index.js';
import { fixtureIntervals, hourProfile, skuTracks, type FixtureIntervals } from './demand.js';
import { analysePromotion, type PromoOptions, type PromoResult } from './promo.js';
import { dailySales, estimateFixtureSales, DEFAULT_SALES_OPTIONS, type SalesOptions } from './sales.js';
import {
  DEFAULT_CLOCK,
  countOf,
  localDate,
  openMinutes,
  weekOf,
  type FixtureSeries,
  type OutletClock,
} from './series.js';
import { captureAvailability, captureCompliance, capturePurity, meanOver, type SkuLookup } from './shelf.js';
import { DEFAULT_HYSTERESIS, detectStockouts, type Hysteresis, type StockoutEvent } from './stockouts.js';

/** Pure analytics over fixture series + master data; the service and the eval harness both use it. */
export class AnalyticsEngine {
  private salesCache: Map<string, number> | null = null;
  private demandCache: { intervals: Map<string, FixtureIntervals>; hourWeights: number[] } | null = null;

  constructor(
    readonly series: FixtureSeries[],
    readonly master: MasterDataView,
    readonly opts: { sales?: SalesOptions; hysteresis?: Hysteresis } = {},
  ) {}

  clock(outletId: string): OutletClock {
    const o = this.master.outlets.get(outletId);
    return o ? { utcOffsetMinutes: o.utcOffsetMinutes, openHour: o.openHour, closeHour: o.closeHour } : DEFAULT_CLOCK;
  }

  readonly lookup: SkuLookup = (sku) => {
    const s = this.master.skus.get(sku);
    return s ? { brand: s.brand, own: s.own } : { brand: 'unknown', own: false };
  };

  /** SKUs whose stockouts are tracked on a fixture: its planogram, else every SKU seen on it. */
  trackedSkus(s: FixtureSeries): string[] {
    const planned = this.master.plannedSkus(s.fixtureId);
    if (planned.length > 0) return planned.map((p) => p.sku);
    const seen = new Set<string>();
    for (const c of s.captures) for (const k of c.skus.keys()) seen.add(k);
    return [...seen];
  }

  /** Estimated units per `outletId|sku|date` (local date), summed over the outlet's fixtures. */
  dailySales(): Map<string, number> {
    if (this.salesCache) return this.salesCache;
    const out = new Map<string, number>();
    for (const s of this.series) {
      const clock = this.clock(s.outletId);
      const res = estimateFixtureSales(
        s,
        clock,
        this.opts.sales ?? DEFAULT_SALES_OPTIONS,
        this.demand().hourWeights,
        this.master.plannedSkus(s.fixtureId),
      );
      for (const [k, u] of dailySales(res.intervals, clock)) {
        const key = `${s.outletId}|${k}`;
        out.set(key, (out.get(key) ?? 0) + u);
      }
    }
    return (this.salesCache = out);
  }

  /** Sales rolled up by period: `day` (local date), `week` (local Monday) or `total`. */
  sales(period: 'day' | 'week' | 'total'): { outletId: string; sku: string; period: string; units: number }[] {
    return rollupSales(this.dailySales(), period);
  }

  stockouts(): StockoutEvent[] {
    return this.series.flatMap((s) =>
      detectStockouts(s, this.trackedSkus(s), this.opts.hysteresis ?? DEFAULT_HYSTERESIS),
    );
  }

  /** Capture intervals of every fixture and the pooled hour-of-day demand shape (cached). */
  demand(): { intervals: Map<string, FixtureIntervals>; hourWeights: number[] } {
    if (this.demandCache) return this.demandCache;
    const min = (this.opts.sales ?? DEFAULT_SALES_OPTIONS).restockMinUnits;
    const intervals = new Map(
      this.series.map((s) => [s.fixtureId, fixtureIntervals(s, this.clock(s.outletId), min)] as const),
    );
    return (this.demandCache = { intervals, hourWeights: hourProfile([...intervals.values()]) });
  }

  /** Local dates (per the promotion's first outlet clock) covered by the data. */
  private dataDays(): Set<string> {
    const days = new Set<string>();
    for (const s of this.series) {
      const clock = this.clock(s.outletId);
      for (const c of s.captures) days.add(localDate(c.t, clock));
    }
    return days;
  }

  promotion(
    p: PromotionMaster,
    opts: PromoOptions = {},
  ): PromoResult & {
    promotionId: string;
    preDays: number;
    promoDays: number;
  } {
    const clock = this.clock(p.outletIds[0] ?? '');
    const start = Date.parse(p.start);
    const end = Date.parse(p.end);
    const data = this.dataDays();
    const promoDays: string[] = [];
    for (let t = start; t < end; t += 86_400_000) promoDays.push(localDate(t, clock));
    const preDays: string[] = [];
    for (let i = 1; i <= promoDays.length; i++) preDays.push(localDate(start - i * 86_400_000, clock));
    const promo = promoDays.filter((d) => data.has(d));
    // Same length and weekday mix as the observed promotion days.
    const pre = preDays.slice(0, promo.length).filter((d) => data.has(d));
    const treated = new Set(p.outletIds);
    const carrying = new Set<string>();
    for (const f of this.master.fixtures.values())
      if (f.positions.some((x) => p.skus.includes(x.sku))) carrying.add(f.outletId);
    const observed = new Set(this.series.map((s) => s.outletId));
    const daily = this.dailySales();
    const treatedObs = [...treated].filter((o) => observed.has(o));
    const controls = [...observed].filter((o) => !treated.has(o) && (carrying.size === 0 || carrying.has(o))).sort();
    const inScope = new Set([...treatedObs, ...controls]);
    const { intervals, hourWeights } = this.demand();
    const tracks = this.series
      .filter((s) => inScope.has(s.outletId))
      .flatMap((s) => {
        const tracked = new Set(this.trackedSkus(s));
        const skus = p.skus.filter((k) => tracked.has(k));
        const fi = intervals.get(s.fixtureId);
        return fi && skus.length ? skuTracks(fi, skus, hourWeights) : [];
      });
    // Placebo SKUs: planned SKUs of the control outlets that are under no promotion in the window
    // and never show up off-plan there (a competitor slipped into a branded cooler sells from a
    // fixture that does not track it).
    const controlSet = new Set(controls);
    const offPlan = new Set<string>();
    const windowStart = start - promoDays.length * 86_400_000;
    for (const q of this.master.promotions.values())
      if (Date.parse(q.start) < end && Date.parse(q.end) > windowStart)
        for (const o of q.outletIds) for (const k of q.skus) offPlan.add(`${o}|${k}`);
    for (const s of this.series) {
      if (!controlSet.has(s.outletId)) continue;
      const planned = new Set(this.trackedSkus(s));
      for (const c of s.captures) for (const k of c.skus.keys()) if (!planned.has(k)) offPlan.add(`${s.outletId}|${k}`);
    }
    const placeboTracks = this.series
      .filter((s) => controlSet.has(s.outletId))
      .flatMap((s) => {
        const skus = this.trackedSkus(s).filter((k) => !p.skus.includes(k) && !offPlan.has(`${s.outletId}|${k}`));
        const fi = intervals.get(s.fixtureId);
        return fi && skus.length ? skuTracks(fi, skus, hourWeights) : [];
      });
    const res = analysePromotion(
      {
        skus: p.skus,
        treated: treatedObs,
        controls,
        tracks,
        placeboTracks,
        promoDays: promo,
        preDays: pre,
        discountPct: p.discountPct,
        cost: p.cost,
        price: (sku) => this.master.skus.get(sku) ?? { price: 0, unitCost: 0 },
        units: (o, sku, d) => daily.get(`${o}|${sku}|${d}`) ?? 0,
      },
      opts,
    );
    return { promotionId: p.promotionId, preDays: pre.length, promoDays: promo.length, ...res };
  }

  /** Per outlet: OSA, compliance, purity (branded coolers), sales per day, score and grade. */
  outletScores(): OutletScore[] {
    const byOutlet = new Map<string, FixtureSeries[]>();
    for (const s of this.series) byOutlet.set(s.outletId, [...(byOutlet.get(s.outletId) ?? []), s]);
    const daily = this.dailySales();
    const salesPerDay = new Map<string, number>();
    const daysPerOutlet = new Map<string, Set<string>>();
    for (const [k, u] of daily) {
      const [o, , d] = k.split('|') as [string, string, string];
      salesPerDay.set(o, (salesPerDay.get(o) ?? 0) + u);
      daysPerOutlet.set(o, (daysPerOutlet.get(o) ?? new Set()).add(d));
    }
    const rows = [...byOutlet.entries()].map(([outletId, list]) => {
      const avg = (f: (s: FixtureSeries) => number | null) => {
        const v = list.map(f).filter((x): x is number => x !== null);
        return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
      };
      const availability = avg((s) =>
        meanOver(s.captures, (c) => captureAvailability(c, this.master.plannedSkus(s.fixtureId))),
      );
      const compliance = avg((s) =>
        meanOver(s.captures, (c) => captureCompliance(c, this.master.plannedSkus(s.fixtureId))),
      );
      const purity = avg((s) =>
        this.master.fixtures.get(s.fixtureId)?.kind === 'shelf'
          ? null
          : meanOver(s.captures, (c) => capturePurity(c, this.lookup)),
      );
      const days = daysPerOutlet.get(outletId)?.size ?? 0;
      return {
        outletId,
        availability,
        compliance,
        purity,
        salesPerDay: days ? (salesPerDay.get(outletId) ?? 0) / days : 0,
      };
    });
    return rankOutlets(rows);
  }

  /**
   * Replenishment: for each planned SKU of each fixture at its latest capture, the sell rate over
   * the last `lookbackDays` (estimated units ÷ open hours in stock), projected time to empty, and a
   * suggestion when it is out or empties within `horizonHours` of wall time.
   */
  replenishment(opts: { horizonHours?: number; lookbackDays?: number } = {}): Replenishment[] {
    const horizon = (opts.horizonHours ?? 48) * 3_600_000;
    const lookback = (opts.lookbackDays ?? 7) * 86_400_000;
    const out: Replenishment[] = [];
    for (const s of this.series) {
      const last = s.captures[s.captures.length - 1];
      if (!last) continue;
      const clock = this.clock(s.outletId);
      const recent = { ...s, captures: s.captures.filter((c) => c.t >= last.t - lookback) };
      const res = estimateFixtureSales(
        recent,
        clock,
        this.opts.sales ?? DEFAULT_SALES_OPTIONS,
        undefined,
        this.master.plannedSkus(s.fixtureId),
      );
      const planned = this.master.plannedSkus(s.fixtureId);
      const skus = planned.length ? planned : this.trackedSkus(s).map((sku) => ({ sku, facings: 0, capacity: 0 }));
      for (const p of skus) {
        const units = res.intervals.filter((i) => i.sku === p.sku).reduce((a, i) => a + i.units, 0);
        let inStockMin = 0;
        for (let i = 0; i + 1 < recent.captures.length; i++)
          if (countOf(recent.captures[i]!, p.sku) > 0)
            inStockMin += openMinutes(recent.captures[i]!.t, recent.captures[i + 1]!.t, clock);
        const ratePerHour = inStockMin > 0 ? (units / inStockMin) * 60 : 0;
        const count = countOf(last, p.sku);
        const emptyAt =
          count === 0 ? last.t : ratePerHour > 0 ? addOpenHours(last.t, count / ratePerHour, clock) : null;
        const suggest = emptyAt !== null && emptyAt - last.t <= horizon;
        out.push({
          outletId: s.outletId,
          fixtureId: s.fixtureId,
          sku: p.sku,
          asOf: new Date(last.t).toISOString(),
          count,
          capacity: p.capacity,
          ratePerHour,
          projectedEmptyAt: emptyAt === null ? null : new Date(emptyAt).toISOString(),
          suggest,
          priority: count === 0 ? 'out' : suggest ? 'soon' : 'ok',
          quantity: Math.max(0, p.capacity - count),
        });
      }
    }
    const rank = { out: 0, soon: 1, ok: 2 } as const;
    return out.sort(
      (a, b) =>
        rank[a.priority] - rank[b.priority] ||
        (a.projectedEmptyAt ?? '9').localeCompare(b.projectedEmptyAt ?? '9') ||
        a.fixtureId.localeCompare(b.fixtureId) ||
        a.sku.localeCompare(b.sku),
    );
  }
}

/** Sales rolled up by period: `day` (local date), `week` (local Monday) or `total`, from `outletId|sku|date` units. */
export const rollupSales = (
  daily: Map<string, number>,
  period: 'day' | 'week' | 'total',
): { outletId: string; sku: string; period: string; units: number }[] => {
  const acc = new Map<string, number>();
  for (const [k, u] of daily) {
    const [o, sku, date] = k.split('|') as [string, string, string];
    const p = period === 'day' ? date : period === 'week' ? weekOf(date) : 'total';
    const key = `${o}|${sku}|${p}`;
    acc.set(key, (acc.get(key) ?? 0) + u);
  }
  return [...acc.entries()]
    .map(([k, units]) => {
      const [outletId, sku, p] = k.split('|') as [string, string, string];
      return { outletId, sku, period: p, units };
    })
    .sort(
      (a, b) => a.outletId.localeCompare(b.outletId) || a.sku.localeCompare(b.sku) || a.period.localeCompare(b.period),
    );
};

/** Score and grade of outlets from their OSA, compliance, purity and sales per day (shared by engine and cube). */
export const rankOutlets = (
  rows: {
    outletId: string;
    availability: number | null;
    compliance: number | null;
    purity: number | null;
    salesPerDay: number;
  }[],
): OutletScore[] => {
  const spd = rows.map((r) => r.salesPerDay).sort((a, b) => a - b);
  return rows
    .map((r) => {
      // Percentile rank of sales per day among the outlets in scope (ties share the mid rank).
      const below = spd.filter((x) => x < r.salesPerDay).length;
      const equal = spd.filter((x) => x === r.salesPerDay).length;
      const salesIndex = spd.length > 1 ? (below + (equal - 1) / 2) / (spd.length - 1) : 1;
      const parts = [
        [SCORE_WEIGHTS.availability, r.availability],
        [SCORE_WEIGHTS.compliance, r.compliance],
        [SCORE_WEIGHTS.purity, r.purity],
        [SCORE_WEIGHTS.sales, salesIndex],
      ] as const;
      const w = parts.reduce((s, [wt, v]) => s + (v === null ? 0 : wt), 0);
      const score = w > 0 ? (100 * parts.reduce((s, [wt, v]) => s + (v === null ? 0 : wt * v), 0)) / w : 0;
      return { ...r, salesIndex, score, grade: grade(score) };
    })
    .sort((a, b) => b.score - a.score || a.outletId.localeCompare(b.outletId));
};

export const SCORE_WEIGHTS = { availability: 0.35, compliance: 0.25, purity: 0.15, sales: 0.25 } as const;
export const GRADE_CUTOFFS = { A: 85, B: 70, C: 55 } as const;
export const grade = (score: number): 'A' | 'B' | 'C' | 'D' =>
  score >= GRADE_CUTOFFS.A ? 'A' : score >= GRADE_CUTOFFS.B ? 'B' : score >= GRADE_CUTOFFS.C ? 'C' : 'D';

export interface OutletScore {
  outletId: string;
  availability: number | null;
  compliance: number | null;
  purity: number | null;
  salesPerDay: number;
  salesIndex: number;
  score: number;
  grade: 'A' | 'B' | 'C' | 'D';
}

export interface Replenishment {
  outletId: string;
  fixtureId: string;
  sku: string;
  asOf: string;
  count: number;
  capacity: number;
  ratePerHour: number;
  projectedEmptyAt: string | null;
  suggest: boolean;
  priority: 'out' | 'soon' | 'ok';
  quantity: number;
}

/** Wall time after `t` at which `hours` of opening time have passed. */
export const addOpenHours = (t: number, hours: number, clock: OutletClock): number => {
  let left = hours * 60;
  let cur = t;
  for (let guard = 0; guard < 400 && left > 0; guard++) {
    const next =
      Math.floor((cur + clock.utcOffsetMinutes * 60_000) / 3_600_000 + 1) * 3_600_000 - clock.utcOffsetMinutes * 60_000;
    const m = openMinutes(cur, next, clock);
    if (m >= left) return cur + (next - cur) * (left / Math.max(m, 1e-9));
    left -= m;
    cur = next;
  }
  return cur;
};
