import { openMinutesByDayHour } from './demand.js';
import { estimateLevelSales, type PlannedCapacity } from './stock-levels.js';
import {
  countOf,
  neighbourRate,
  openMinutes,
  openMinutesByDay,
  type FixtureSeries,
  type OutletClock,
} from './series.js';

export interface SalesOptions {
  /** A rise of at least this many units of any SKU between two captures marks a restock interval. */
  restockMinUnits: number;
  /** Neighbouring non-restock intervals (each side) used for the sell rate of a restock interval. */
  rateWindow: number;
  /**
   * `levels` (default): the stock-level model of `stock-levels.ts` (restocks as sustained
   * fixture-wide level shifts, non-increasing levels between them, undercount correction against
   * the planogram), robust to recognition noise; equals `drops` on exact counts. `drops`: sales =
   * count decreases between captures, restocks = any rise of restockMinUnits (which `levels` does
   * not use: it finds restocks from the data's own noise).
   */
  method?: 'levels' | 'drops';
  /** `levels`: split penalty per SKU, in units of the fixture's estimated count noise variance. */
  penaltyPerSku?: number;
  /**
   * `levels`: a fixture whose estimated count noise (sd, units) is below this reads like exact
   * counts (0.1–0.5 in the simulator, recognition 0.8–0.9): every rise of a unit is a restock.
   */
  exactNoise?: number;
  /**
   * `levels`: a planned SKU read at fewer units per visible facing than this share of its planned
   * depth right after visits is undercounted (its readings are stretched onto capacity).
   */
  fullShare?: number;
}

export const DEFAULT_SALES_OPTIONS: SalesOptions = {
  restockMinUnits: 1,
  rateWindow: 6,
  method: 'levels',
  penaltyPerSku: 4,
  exactNoise: 0.6,
  fullShare: 0.8,
};

export interface SalesInterval {
  sku: string;
  from: number;
  to: number;
  /** Negative for a rise smaller than restockMinUnits (count noise netting out an earlier decrease). */
  units: number;
  /** `observed`: the count decrease; `imputed`: restock interval, sell rate × open time. */
  kind: 'observed' | 'imputed';
}

export interface FixtureSalesResult {
  intervals: SalesInterval[];
  /** Capture-pair indices (i → i+1) recognised as restocks. */
  restocks: { from: number; to: number; unitsAdded: number }[];
}

/**
 * Sales of one fixture from its count series, by `opts.method`: the stock-level model
 * (`estimateLevelSales`, default; `planned` = the fixture's planogram, for the undercount
 * correction) or the drop estimator (`estimateDropSales`).
 */
export const estimateFixtureSales = (
  series: FixtureSeries,
  clock: OutletClock,
  opts: SalesOptions = DEFAULT_SALES_OPTIONS,
  hourWeights?: readonly number[],
  planned?: readonly PlannedCapacity[],
): FixtureSalesResult =>
  (opts.method ?? 'levels') === 'levels'
    ? estimateLevelSales(series, clock, opts, hourWeights, planned)
    : estimateDropSales(series, clock, opts, hourWeights);

/**
 * Drop estimator (`method: 'drops'`). Between two captures the sales of a SKU are its count
 * decrease. An interval where any SKU rises by ≥ restockMinUnits is a restock interval (the
 * merchandiser was there): its rises are not negative sales, and each SKU's sales in it are imputed
 * as the SKU's sell rate (units per open minute over up to `rateWindow` neighbouring ordinary
 * intervals each side, skipping ones that started out of stock) × the interval's open minutes,
 * halved when the SKU was out of stock at the start. A decrease in a restock interval is taken as
 * is unless it exceeds 3 × the imputed value + 2 (then it is a removal, e.g. of slipped-in stock).
 */
export const estimateDropSales = (
  series: FixtureSeries,
  clock: OutletClock,
  opts: SalesOptions = DEFAULT_SALES_OPTIONS,
  hourWeights?: readonly number[],
): FixtureSalesResult => {
  // Demand-weighted open minutes: with an hour-of-day shape, a restock at a quiet hour is not
  // imputed the busy hours' rate.
  const weighted = (a: number, b: number) => {
    if (!hourWeights) return openMinutes(a, b, clock);
    let m = 0;
    for (const [, h, x] of openMinutesByDayHour(a, b, clock)) m += x * (hourWeights[h] ?? 1);
    return m;
  };
  const caps = series.captures;
  const skus = new Set<string>();
  for (const c of caps) for (const s of c.skus.keys()) skus.add(s);
  const n = caps.length - 1;
  if (n < 1) return { intervals: [], restocks: [] };
  const minutes: number[] = [];
  const restock: boolean[] = [];
  const restocks: FixtureSalesResult['restocks'] = [];
  for (let i = 0; i < n; i++) {
    const a = caps[i]!;
    const b = caps[i + 1]!;
    minutes.push(weighted(a.t, b.t));
    let added = 0;
    let isRestock = false;
    for (const s of skus) {
      const rise = countOf(b, s) - countOf(a, s);
      if (rise >= opts.restockMinUnits) isRestock = true;
      if (rise > 0) added += rise;
    }
    restock.push(isRestock);
    if (isRestock) restocks.push({ from: a.t, to: b.t, unitsAdded: added });
  }
  const intervals: SalesInterval[] = [];
  for (const s of skus) {
    const dec: number[] = [];
    for (let i = 0; i < n; i++) dec.push(countOf(caps[i]!, s) - countOf(caps[i + 1]!, s));
    const usable = (j: number) => !restock[j] && countOf(caps[j]!, s) > 0 && (minutes[j] ?? 0) > 0;
    for (let i = 0; i < n; i++) {
      const from = caps[i]!.t;
      const to = caps[i + 1]!.t;
      const d = dec[i]!;
      if (!restock[i]) {
        // A rise below restockMinUnits is count noise (with exact counts every rise is a restock): it
        // nets out the spurious decrease before it instead of being dropped, so noise telescopes away.
        if (d !== 0) intervals.push({ sku: s, from, to, units: d, kind: 'observed' });
        continue;
      }
      const rate = neighbourRate(i, dec, minutes, usable, opts.rateWindow);
      const imputed = rate * minutes[i]! * (countOf(caps[i]!, s) > 0 ? 1 : 0.5);
      const units = d > 0 && d <= 3 * imputed + 2 ? d : imputed;
      if (units > 0) intervals.push({ sku: s, from, to, units, kind: d > 0 && units === d ? 'observed' : 'imputed' });
    }
  }
  return { intervals, restocks };
};

/** Spreads interval sales over local dates in proportion to open minutes; key `sku|date`. */
export const dailySales = (intervals: SalesInterval[], clock: OutletClock): Map<string, number> => {
  const out = new Map<string, number>();
  for (const iv of intervals) {
    const byDay = openMinutesByDay(iv.from, iv.to, clock);
    let total = 0;
    for (const m of byDay.values()) total += m;
    if (total === 0) {
      const date = new Date(iv.to + clock.utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
      out.set(`${iv.sku}|${date}`, (out.get(`${iv.sku}|${date}`) ?? 0) + iv.units);
      continue;
    }
    for (const [date, m] of byDay)
      out.set(`${iv.sku}|${date}`, (out.get(`${iv.sku}|${date}`) ?? 0) + (iv.units * m) / total);
  }
  return out;
};
