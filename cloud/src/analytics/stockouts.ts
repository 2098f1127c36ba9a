import { countOf, type FixtureSeries } from './series.js';

/**
 * Stockout hysteresis. A planned SKU opens a stockout when its count is 0 in `openAfter`
 * consecutive captures; an open stockout closes when the count is ≥ `closeImmediateUnits` in one
 * capture, or ≥ 1 in `closeAfter` consecutive captures. The close time is the first capture of the
 * closing run (when the SKU was seen back).
 */
export interface Hysteresis {
  openAfter: number;
  closeAfter: number;
  closeImmediateUnits: number;
}

export const DEFAULT_HYSTERESIS: Hysteresis = { openAfter: 1, closeAfter: 2, closeImmediateUnits: 3 };

export interface StockoutEvent {
  outletId: string;
  fixtureId: string;
  sku: string;
  /** First capture that showed the SKU out (for openAfter > 1: the first of the run). */
  start: number;
  /** Capture at which the open alert was raised. */
  raisedAt: number;
  /** First capture of the closing run; null while open. */
  end: number | null;
  /** Capture at which it was cleared; null while open. */
  clearedAt: number | null;
}

/** Stateful per (fixture, SKU); the alert engine keeps one per key and feeds captures in time order. */
export class StockoutTracker {
  open: StockoutEvent | null = null;
  private zeroRun: number[] = [];
  private backRun: number[] = [];

  constructor(
    readonly outletId: string,
    readonly fixtureId: string,
    readonly sku: string,
    private readonly h: Hysteresis = DEFAULT_HYSTERESIS,
  ) {}

  /** Returns 'open' / 'close' when this capture changes the state. */
  feed(t: number, count: number): { change: 'open' | 'close'; event: StockoutEvent } | null {
    if (!this.open) {
      if (count > 0) {
        this.zeroRun = [];
        return null;
      }
      this.zeroRun.push(t);
      if (this.zeroRun.length < this.h.openAfter) return null;
      this.open = {
        outletId: this.outletId,
        fixtureId: this.fixtureId,
        sku: this.sku,
        start: this.zeroRun[0]!,
        raisedAt: t,
        end: null,
        clearedAt: null,
      };
      this.zeroRun = [];
      this.backRun = [];
      return { change: 'open', event: this.open };
    }
    if (count === 0) {
      this.backRun = [];
      return null;
    }
    this.backRun.push(t);
    if (count >= this.h.closeImmediateUnits || this.backRun.length >= this.h.closeAfter) {
      const ev = { ...this.open, end: this.backRun[0]!, clearedAt: t };
      this.open = null;
      this.backRun = [];
      return { change: 'close', event: ev };
    }
    return null;
  }
}

/** Replays a fixture's series for the given SKUs; returns every event (closed and still open). */
export const detectStockouts = (
  series: FixtureSeries,
  skus: string[],
  h: Hysteresis = DEFAULT_HYSTERESIS,
): StockoutEvent[] => {
  const out: StockoutEvent[] = [];
  for (const sku of skus) {
    const tr = new StockoutTracker(series.outletId, series.fixtureId, sku, h);
    for (const c of series.captures) {
      const r = tr.feed(c.t, countOf(c, sku));
      if (r?.change === 'close') out.push(r.event);
    }
    if (tr.open) out.push({ ...tr.open });
  }
  return out.sort((a, b) => a.start - b.start);
};
