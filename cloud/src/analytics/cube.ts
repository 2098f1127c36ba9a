import type { MasterDataRegistry, MasterDataView, PlannedSku } from '../masterdata/index.js';
import type { CountRecord, TimeSeriesStore } from '../store/index.js';
import { fixtureIntervals, hourProfile } from './demand.js';
import { rankOutlets, rollupSales, type OutletScore } from './engine.js';
import type { CaptureLike } from './load.js';
import type { OverviewKpis, OverviewResult } from './overview.js';
import { dailySales, estimateFixtureSales, DEFAULT_SALES_OPTIONS } from './sales.js';
import { DEFAULT_CLOCK, type Capture, type FixtureSeries, type OutletClock } from './series.js';
import type { FacingsRow, SkuInfo } from './shelf.js';
import { DEFAULT_HYSTERESIS, StockoutTracker, type StockoutEvent } from './stockouts.js';

/**
 * In-memory analytics rollups (docs/decisions.md D13). Every fixture's history is kept as columns
 * (capture times, and per SKU seen: count and facings per capture), loaded once from the store with
 * `scanCounts` and appended on ingest. What is expensive to derive — sales, which replay the whole
 * series with restock imputation and an hour-of-day demand shape — is precomputed per fixture as
 * per-interval, per-local-date contributions and recomputed only for fixtures that got new data.
 * A window's KPIs are then one pass over typed arrays (per fixture and local day), cached per
 * (window, scope, data generation). Definitions are those of the AnalyticsEngine over the window's
 * captures, except sales: see `salesOf`.
 */

const DAY = 86_400_000;
/** Fixtures whose full history feeds the pooled hour-of-day demand shape (evenly spread by id). */
export const PROFILE_SAMPLE_FIXTURES = 100;
/** Window results kept (LRU by insertion); the overview asks for two windows per view. */
const WINDOW_CACHE = 64;

export interface CubeOptions {
  /** How old the hour-of-day shape may get before new data triggers a refit (0: refit on any change). */
  profileMaxAgeMs?: number;
  /** Relative change of any hour's weight below which a refit keeps the old shape (no sales recompute). */
  profileTolerance?: number;
  /** Page size of the bulk load. */
  scanPage?: number;
  /**
   * Writes that bypass ingest (bulk imports, another process) are picked up by re-scanning what
   * the store received since the last scan (minus catchUpMarginMs for writes in flight): on every
   * window not in the cache, and for cached ones at most every catchUpIntervalMs.
   */
  catchUpIntervalMs?: number;
  /** A window not in the cache catches up only if the last scan is at least this old. */
  catchUpMinMs?: number;
  catchUpMarginMs?: number;
}

/** A window and the outlet/fixture scope (null = no filter), as the API resolves them. */
export interface CubeScope {
  from?: Date | undefined;
  to?: Date | undefined;
  outlets: ReadonlySet<string> | null;
  fixtures?: ReadonlySet<string> | null | undefined;
}

/** One fixture's history as columns; count −1 means the SKU was not reported in that capture. */
export class FixtureColumns {
  n = 0;
  t = new Float64Array(64);
  empty = new Int32Array(64);
  unknown = new Int32Array(64);
  readonly skus: string[] = [];
  readonly col = new Map<string, number>();
  counts: Int32Array[] = [];
  facings: Int32Array[] = [];
  /** Bumped on every change; derived state remembers the version it was computed from. */
  version = 0;

  constructor(
    readonly outletId: string,
    readonly fixtureId: string,
  ) {}

  private grow(): void {
    const cap = this.t.length * 2;
    const g64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const g32 = (a: Int32Array, fill = 0) => {
      const b = new Int32Array(cap).fill(fill);
      b.set(a);
      return b;
    };
    this.t = g64(this.t);
    this.empty = g32(this.empty);
    this.unknown = g32(this.unknown);
    this.counts = this.counts.map((a) => g32(a, -1));
    this.facings = this.facings.map((a) => g32(a));
  }

  private column(sku: string): number {
    let k = this.col.get(sku);
    if (k === undefined) {
      k = this.skus.length;
      this.col.set(sku, k);
      this.skus.push(sku);
      this.counts.push(new Int32Array(this.t.length).fill(-1));
      this.facings.push(new Int32Array(this.t.length));
    }
    return k;
  }

  /** First index with t ≥ x. */
  lowerBound(x: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.t[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Adds a capture in time order. A second capture at the same instant replaces the first when
   * `replace` (the bulk load reads ties in messageId order, and the engine keeps the largest id),
   * else it is ignored.
   */
  add(c: CaptureLike, replace: boolean): boolean {
    const t = Date.parse(c.capturedAt);
    const i = this.n > 0 && this.t[this.n - 1]! < t ? this.n : this.lowerBound(t);
    if (i < this.n && this.t[i] === t) {
      if (!replace) return false;
      for (let k = 0; k < this.skus.length; k++) {
        this.counts[k]![i] = -1;
        this.facings[k]![i] = 0;
      }
    } else {
      if (this.n === this.t.length) this.grow();
      if (i < this.n) {
        const shift = (a: Float64Array | Int32Array) => a.copyWithin(i + 1, i, this.n);
        shift(this.t);
        shift(this.empty);
        shift(this.unknown);
        for (let k = 0; k < this.skus.length; k++) {
          shift(this.counts[k]!);
          shift(this.facings[k]!);
          this.counts[k]![i] = -1;
          this.facings[k]![i] = 0;
        }
      }
      this.n++;
    }
    this.t[i] = t;
    this.empty[i] = c.emptyFacings;
    this.unknown[i] = c.unknownProducts;
    for (const s of c.skus) {
      const k = this.column(s.sku);
      this.counts[k]![i] = s.count;
      this.facings[k]![i] = s.facings;
    }
    this.version++;
    return true;
  }

  /** The engine's series shape for captures [i0, i1) (SKUs in id order, as the store returns them). */
  toSeries(i0 = 0, i1 = this.n): FixtureSeries {
    const order = this.skus.map((s, k) => [s, k] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const captures: Capture[] = [];
    for (let i = i0; i < i1; i++) {
      const skus = new Map<string, { count: number; facings: number }>();
      for (const [s, k] of order) {
        const c = this.counts[k]![i]!;
        if (c >= 0) skus.set(s, { count: c, facings: this.facings[k]![i]! });
      }
      captures.push({ t: this.t[i]!, skus, emptyFacings: this.empty[i]!, unknownProducts: this.unknown[i]! });
    }
    return { outletId: this.outletId, fixtureId: this.fixtureId, captures };
  }
}

/** Sales of one fixture over its whole history, as contributions of each capture interval i → i+1. */
interface FixtureSales {
  version: number;
  weightsGen: number;
  /** Contributions of interval i are [start[i], start[i+1]). */
  start: Int32Array;
  sku: string[];
  day: Int32Array;
  units: Float64Array;
}

/** Per (fixture, local day) or per fixture: sums over captures. Arrays are per column of the fixture. */
interface Agg {
  day: number;
  n: number;
  present: Float64Array;
  reported: Float64Array;
  facings: Float64Array;
  availSum: number;
  availN: number;
  compSum: number;
  compN: number;
  purSum: number;
  purN: number;
}

interface FixtureWindow {
  fx: FixtureColumns;
  i0: number;
  i1: number;
  clock: OutletClock;
  planned: PlannedSku[];
  shelf: boolean;
  total: Agg;
  days: Agg[];
}

const newAgg = (day: number, cols: number): Agg => ({
  day,
  n: 0,
  present: new Float64Array(cols),
  reported: new Float64Array(cols),
  facings: new Float64Array(cols),
  availSum: 0,
  availN: 0,
  compSum: 0,
  compN: 0,
  purSum: 0,
  purN: 0,
});

const addAgg = (a: Agg, b: Agg): void => {
  a.n += b.n;
  for (let k = 0; k < b.present.length; k++) {
    a.present[k]! += b.present[k]!;
    a.reported[k]! += b.reported[k]!;
    a.facings[k]! += b.facings[k]!;
  }
  a.availSum += b.availSum;
  a.availN += b.availN;
  a.compSum += b.compSum;
  a.compN += b.compN;
  a.purSum += b.purSum;
  a.purN += b.purN;
};

const dateCache = new Map<number, string>();
const dateOf = (day: number): string => {
  let d = dateCache.get(day);
  if (d === undefined) dateCache.set(day, (d = new Date(day * DAY).toISOString().slice(0, 10)));
  return d;
};

export class AnalyticsCube {
  private readonly fixtures = new Map<string, FixtureColumns>();
  private loading: Promise<void> | null = null;
  private loaded = false;
  private buffered: CaptureLike[] = [];
  private master: MasterDataView | null = null;
  private weights: number[] | null = null;
  private weightsGen = 0;
  private weightsAt = 0;
  private weightsDataGen = -1;
  private readonly sales = new Map<string, FixtureSales>();
  private readonly windows = new Map<string, CubeWindow>();
  private readonly scopeIds = new WeakMap<ReadonlySet<string>, number>();
  private nextScopeId = 1;
  /** Bumped on every data change. */
  generation = 0;

  constructor(
    private readonly store: Pick<TimeSeriesStore, 'scanCounts'>,
    private readonly masterdata: Pick<MasterDataRegistry, 'current'>,
    private readonly opts: CubeOptions = {},
  ) {}

  /** Loads the history from the store (once; concurrent callers share the load). */
  ready(): Promise<void> {
    this.loading ??= this.load().catch((err: unknown) => {
      this.loading = null;
      throw err;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const started = Date.now();
    let cursor: string | undefined;
    do {
      const page = await this.store.scanCounts({ limit: this.opts.scanPage ?? 20_000, ...(cursor ? { cursor } : {}) });
      for (const r of page.items) this.put(r, true);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    this.scannedAt = started;
    this.loaded = true;
    for (const c of this.buffered) this.put(c, false);
    this.buffered = [];
    this.generation++;
  }

  /**
   * Precomputes every fixture's sales (after the load, and after ingest for the fixtures that got
   * data), yielding to the event loop between fixtures so requests are served meanwhile.
   */
  async warm(): Promise<void> {
    await this.ready();
    this.hourWeights();
    for (const fx of [...this.fixtures.values()]) {
      this.salesOf(fx);
      await new Promise((r) => setImmediate(r));
    }
  }

  private warmTimer: ReturnType<typeof setTimeout> | null = null;
  private scheduleWarm(): void {
    this.warmTimer ??= setTimeout(() => {
      this.warmTimer = null;
      this.warm().catch(() => undefined);
    }, 1000);
    this.warmTimer.unref?.();
  }

  /** Ingest hook: an observation the store has just accepted. Before the load starts it is left to the load. */
  add(c: CaptureLike | CountRecord): void {
    if (this.loaded) {
      this.put(c, false);
      this.generation++;
      this.windows.clear();
      this.scheduleWarm();
    } else if (this.loading) this.buffered.push(c);
  }

  private put(c: CaptureLike, replace: boolean): boolean {
    let fx = this.fixtures.get(c.fixtureId);
    if (!fx) this.fixtures.set(c.fixtureId, (fx = new FixtureColumns(c.outletId, c.fixtureId)));
    return fx.add(c, replace);
  }

  private scannedAt = 0;
  private catchingUp: Promise<void> | null = null;

  /** Reads what the store received since the last scan; captures already held are skipped. */
  catchUp(): Promise<void> {
    this.catchingUp ??= (async () => {
      const started = Date.now();
      const receivedFrom = new Date(this.scannedAt - (this.opts.catchUpMarginMs ?? 5_000));
      let cursor: string | undefined;
      let added = 0;
      do {
        const page = await this.store.scanCounts({
          receivedFrom,
          limit: this.opts.scanPage ?? 20_000,
          ...(cursor ? { cursor } : {}),
        });
        for (const r of page.items) if (this.put(r, false)) added++;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      this.scannedAt = started;
      if (added > 0) {
        this.generation++;
        this.windows.clear();
        this.scheduleWarm();
      }
    })().finally(() => (this.catchingUp = null));
    return this.catchingUp;
  }

  /** Captures held (all fixtures). */
  get captures(): number {
    let n = 0;
    for (const f of this.fixtures.values()) n += f.n;
    return n;
  }

  fixture(fixtureId: string): FixtureColumns | undefined {
    return this.fixtures.get(fixtureId);
  }

  clock(outletId: string): OutletClock {
    const o = this.view().outlets.get(outletId);
    return o ? { utcOffsetMinutes: o.utcOffsetMinutes, openHour: o.openHour, closeHour: o.closeHour } : DEFAULT_CLOCK;
  }

  /** Current master data; a new import drops everything derived from the old one. */
  view(): MasterDataView {
    const md = this.masterdata.current();
    if (md !== this.master) {
      this.master = md;
      this.sales.clear();
      this.windows.clear();
      this.weights = null;
    }
    return md;
  }

  /**
   * Pooled hour-of-day demand shape used by every fixture's sales: `hourProfile` over the full
   * history of up to PROFILE_SAMPLE_FIXTURES fixtures. Refitted when data changed and the shape is
   * older than profileMaxAgeMs; a refit that moves no hour by more than profileTolerance keeps the
   * old shape, so fixtures' sales are not all recomputed for noise.
   */
  hourWeights(): number[] {
    this.view();
    const maxAge = this.opts.profileMaxAgeMs ?? 3_600_000;
    if (this.weights && (this.weightsDataGen === this.generation || Date.now() - this.weightsAt < maxAge))
      return this.weights;
    const ids = [...this.fixtures.keys()].sort();
    const step = Math.max(1, ids.length / PROFILE_SAMPLE_FIXTURES);
    const sample: string[] = [];
    for (let x = 0; Math.floor(x) < ids.length && sample.length < PROFILE_SAMPLE_FIXTURES; x += step)
      sample.push(ids[Math.floor(x)]!);
    const min = DEFAULT_SALES_OPTIONS.restockMinUnits;
    const w = hourProfile(
      sample.map((id) => {
        const fx = this.fixtures.get(id)!;
        return fixtureIntervals(fx.toSeries(), this.clock(fx.outletId), min);
      }),
    );
    const tol = this.opts.profileTolerance ?? 0.01;
    const old = this.weights;
    if (!old || w.some((x, h) => Math.abs(x - old[h]!) > tol * Math.max(Math.abs(old[h]!), 1e-9))) {
      this.weights = w;
      this.weightsGen++;
      this.windows.clear();
    }
    this.weightsAt = Date.now();
    this.weightsDataGen = this.generation;
    return this.weights!;
  }

  /**
   * Sales of a fixture over its whole history (estimateFixtureSales with the pooled hour shape),
   * spread over local dates (dailySales) per capture interval. A window's sales are the
   * contributions of the intervals whose both captures lie in the window — the intervals the engine
   * would see — but each interval's units come from the full history, so a restock near the window
   * edge is imputed from its real neighbours and a day's sales do not change with the window.
   */
  salesOf(fx: FixtureColumns): FixtureSales {
    const w = this.hourWeights();
    const cached = this.sales.get(fx.fixtureId);
    if (cached && cached.version === fx.version && cached.weightsGen === this.weightsGen) return cached;
    const clock = this.clock(fx.outletId);
    const series = fx.toSeries();
    const res = estimateFixtureSales(series, clock, DEFAULT_SALES_OPTIONS, w);
    const byFrom = new Map<number, typeof res.intervals>();
    for (const iv of res.intervals) {
      const l = byFrom.get(iv.from);
      if (l) l.push(iv);
      else byFrom.set(iv.from, [iv]);
    }
    const start = new Int32Array(fx.n + 1);
    const sku: string[] = [];
    const day: number[] = [];
    const units: number[] = [];
    for (let i = 0; i < fx.n; i++) {
      start[i] = sku.length;
      const ivs = byFrom.get(fx.t[i]!);
      if (!ivs) continue;
      for (const [key, u] of dailySales(ivs, clock)) {
        const bar = key.indexOf('|');
        sku.push(key.slice(0, bar));
        day.push(Date.parse(`${key.slice(bar + 1)}T00:00:00Z`) / DAY);
        units.push(u);
      }
    }
    start[fx.n] = sku.length;
    const out: FixtureSales = {
      version: fx.version,
      weightsGen: this.weightsGen,
      start,
      sku,
      day: Int32Array.from(day),
      units: Float64Array.from(units),
    };
    this.sales.set(fx.fixtureId, out);
    return out;
  }

  private scopeId(s: ReadonlySet<string> | null | undefined): number | null {
    if (!s) return null;
    let id = this.scopeIds.get(s);
    if (id === undefined) this.scopeIds.set(s, (id = this.nextScopeId++));
    return id;
  }

  /** The window's KPIs (cached until data or master data change). */
  async window(scope: CubeScope): Promise<CubeWindow> {
    await this.ready();
    if (Date.now() - this.scannedAt >= (this.opts.catchUpIntervalMs ?? 2000)) await this.catchUp();
    this.view();
    const keyOf = () =>
      JSON.stringify([
        scope.from?.getTime() ?? null,
        scope.to?.getTime() ?? null,
        scope.outlets ? [...scope.outlets].sort().join(',') : null,
        this.scopeId(scope.fixtures),
        this.generation,
      ]);
    let key = keyOf();
    let hit = this.windows.get(key);
    if (hit) return hit;
    if (Date.now() - this.scannedAt >= (this.opts.catchUpMinMs ?? 250)) await this.catchUp();
    key = keyOf();
    hit = this.windows.get(key);
    if (hit) return hit;
    // Derived state first (may clear the cache), then the window.
    this.hourWeights();
    const w = new CubeWindow(this, this.view(), this.select(scope), scope);
    if (this.windows.size >= WINDOW_CACHE) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(key, w);
    return w;
  }

  private select(scope: CubeScope): FixtureWindow[] {
    const md = this.view();
    const from = scope.from?.getTime() ?? Number.NEGATIVE_INFINITY;
    const to = scope.to?.getTime() ?? Number.POSITIVE_INFINITY;
    const out: FixtureWindow[] = [];
    for (const fx of this.fixtures.values()) {
      if (scope.outlets && !scope.outlets.has(fx.outletId)) continue;
      if (scope.fixtures && !scope.fixtures.has(fx.fixtureId)) continue;
      const i0 = fx.lowerBound(from);
      const i1 = fx.lowerBound(to);
      if (i1 <= i0) continue;
      const clock = this.clock(fx.outletId);
      const planned = md.plannedSkus(fx.fixtureId);
      const shelf = md.fixtures.get(fx.fixtureId)?.kind === 'shelf';
      out.push({ fx, i0, i1, clock, planned, shelf, ...aggregate(fx, i0, i1, clock, planned, md) });
    }
    return out.sort((a, b) => a.fx.fixtureId.localeCompare(b.fx.fixtureId));
  }
}

/** One pass over a fixture's captures [i0, i1): per local day and in total. */
const aggregate = (
  fx: FixtureColumns,
  i0: number,
  i1: number,
  clock: OutletClock,
  planned: PlannedSku[],
  md: MasterDataView,
): { total: Agg; days: Agg[] } => {
  const cols = fx.skus.length;
  const off = clock.utcOffsetMinutes * 60_000;
  const pcol = planned.map((p) => fx.col.get(p.sku) ?? -1);
  const plannedFacings = planned.reduce((s, p) => s + p.facings, 0);
  const own = fx.skus.map((s) => md.skus.get(s)?.own ?? false);
  const days: Agg[] = [];
  let cur: Agg | null = null;
  for (let i = i0; i < i1; i++) {
    const day = Math.floor((fx.t[i]! + off) / DAY);
    if (!cur || cur.day !== day) days.push((cur = newAgg(day, cols)));
    cur.n++;
    let all = fx.unknown[i]!;
    let mine = 0;
    for (let k = 0; k < cols; k++) {
      const c = fx.counts[k]![i]!;
      if (c < 0) continue;
      cur.reported[k]!++;
      cur.facings[k]! += fx.facings[k]![i]!;
      if (c > 0) cur.present[k]!++;
      all += c;
      if (own[k]) mine += c;
    }
    if (all > 0) {
      cur.purSum += mine / all;
      cur.purN++;
    }
    if (planned.length > 0) {
      let here = 0;
      for (const k of pcol) if (k >= 0 && fx.counts[k]![i]! > 0) here++;
      cur.availSum += here / planned.length;
      cur.availN++;
    }
    if (plannedFacings > 0) {
      let s = 0;
      for (let p = 0; p < planned.length; p++) {
        const k = pcol[p]!;
        s += Math.min(k >= 0 ? fx.facings[k]![i]! : 0, planned[p]!.facings);
      }
      cur.compSum += s / plannedFacings;
      cur.compN++;
    }
  }
  const total = newAgg(0, cols);
  for (const d of days) addAgg(total, d);
  return { total, days };
};

export interface CubeFilter {
  brand?: string | undefined;
  sku?: string | undefined;
}

const mean = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};
const ratio = (s: number, n: number): number | null => (n > 0 ? s / n : null);

/** KPIs of one window and scope; the same numbers the AnalyticsEngine gives over the window's captures. */
export class CubeWindow {
  private stockoutCache: StockoutEvent[] | null = null;
  private dailyCache: Map<string, number> | null = null;
  private scoreCache: OutletScore[] | null = null;

  constructor(
    readonly cube: AnalyticsCube,
    readonly master: MasterDataView,
    readonly fixtures: FixtureWindow[],
    readonly scope: CubeScope,
  ) {}

  readonly lookup = (sku: string): SkuInfo => {
    const s = this.master.skus.get(sku);
    return s ? { brand: s.brand, own: s.own } : { brand: 'unknown', own: false };
  };

  inFilter(f: CubeFilter, sku: string): boolean {
    return (!f.sku || sku === f.sku) && (!f.brand || this.lookup(sku).brand === f.brand);
  }

  get captures(): number {
    return this.fixtures.reduce((s, x) => s + x.total.n, 0);
  }

  /** As facingsAndShare over the window's series (or over the given per-fixture aggregates). */
  facings(by: 'sku' | 'brand', parts: [FixtureWindow, Agg][] = this.fixtures.map((x) => [x, x.total])): FacingsRow[] {
    const acc = new Map<string, FacingsRow>();
    let total = 0;
    for (const [x, a] of parts) {
      if (a.n === 0) continue;
      x.fx.skus.forEach((sku, k) => {
        if (a.reported[k] === 0) return;
        const info = this.lookup(sku);
        const key = by === 'sku' ? sku : info.brand;
        const row = acc.get(key) ?? { key, brand: info.brand, own: info.own, facings: 0, share: 0 };
        row.facings += a.facings[k]! / a.n;
        total += a.facings[k]! / a.n;
        acc.set(key, row);
      });
    }
    return [...acc.values()]
      .map((r) => ({ ...r, share: total > 0 ? r.facings / total : 0 }))
      .sort((a, b) => b.facings - a.facings || a.key.localeCompare(b.key));
  }

  /** As skuAvailability with the planned SKUs narrowed by the filter. */
  skuAvailability(
    f: CubeFilter = {},
    parts: [FixtureWindow, Agg][] = this.fixtures.map((x) => [x, x.total]),
  ): { sku: string; availability: number; outlets: number; observations: number }[] {
    const acc = new Map<string, { present: number; n: number; outlets: Set<string> }>();
    for (const [x, a] of parts)
      for (const p of x.planned) {
        if (!this.inFilter(f, p.sku)) continue;
        const s = acc.get(p.sku) ?? { present: 0, n: 0, outlets: new Set<string>() };
        s.outlets.add(x.fx.outletId);
        s.n += a.n;
        const k = x.fx.col.get(p.sku);
        if (k !== undefined) s.present += a.present[k]!;
        acc.set(p.sku, s);
      }
    return [...acc.entries()]
      .filter(([, a]) => a.n > 0)
      .map(([sku, a]) => ({ sku, availability: a.present / a.n, outlets: a.outlets.size, observations: a.n }))
      .sort((a, b) => a.sku.localeCompare(b.sku));
  }

  /** Per-fixture rows of /analytics/purity, /compliance and /availability (series order). */
  perFixture(): {
    outletId: string;
    fixtureId: string;
    kind: string | null;
    purity: number | null;
    availability: number | null;
    compliance: number | null;
    plannedFacings: number;
    captures: number;
  }[] {
    return this.fixtures.map((x) => ({
      outletId: x.fx.outletId,
      fixtureId: x.fx.fixtureId,
      kind: this.master.fixtures.get(x.fx.fixtureId)?.kind ?? null,
      purity: ratio(x.total.purSum, x.total.purN),
      availability: ratio(x.total.availSum, x.total.availN),
      compliance: ratio(x.total.compSum, x.total.compN),
      plannedFacings: x.planned.reduce((s, p) => s + p.facings, 0),
      captures: x.total.n,
    }));
  }

  /** As AnalyticsEngine.stockouts over the window's captures. */
  stockouts(): StockoutEvent[] {
    if (this.stockoutCache) return this.stockoutCache;
    const out: StockoutEvent[] = [];
    for (const x of this.fixtures) {
      const { fx, i0, i1 } = x;
      let tracked: string[];
      if (x.planned.length > 0) tracked = x.planned.map((p) => p.sku);
      else {
        // Every SKU seen in the window, in first-seen order (SKUs of one capture in id order).
        const order = fx.skus.map((s, k) => [s, k] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        const seen = new Set<string>();
        for (let i = i0; i < i1; i++) for (const [s, k] of order) if (fx.counts[k]![i]! >= 0) seen.add(s);
        tracked = [...seen];
      }
      const events: StockoutEvent[] = [];
      for (const sku of tracked) {
        const tr = new StockoutTracker(fx.outletId, fx.fixtureId, sku, DEFAULT_HYSTERESIS);
        const k = fx.col.get(sku);
        const counts = k === undefined ? null : fx.counts[k]!;
        for (let i = i0; i < i1; i++) {
          const r = tr.feed(fx.t[i]!, counts ? Math.max(0, counts[i]!) : 0);
          if (r?.change === 'close') events.push(r.event);
        }
        if (tr.open) events.push({ ...tr.open });
      }
      out.push(...events.sort((a, b) => a.start - b.start));
    }
    return (this.stockoutCache = out);
  }

  /** Estimated units per `outletId|sku|date` over the window (see AnalyticsCube.salesOf). */
  dailySales(): Map<string, number> {
    if (this.dailyCache) return this.dailyCache;
    const out = new Map<string, number>();
    for (const x of this.fixtures) {
      const s = this.cube.salesOf(x.fx);
      // Intervals i → i+1 with both captures in [i0, i1).
      const a = s.start[x.i0]!;
      const b = s.start[x.i1 - 1]!;
      for (let j = a; j < b; j++) {
        const key = `${x.fx.outletId}|${s.sku[j]!}|${dateOf(s.day[j]!)}`;
        out.set(key, (out.get(key) ?? 0) + s.units[j]!);
      }
    }
    return (this.dailyCache = out);
  }

  sales(period: 'day' | 'week' | 'total'): { outletId: string; sku: string; period: string; units: number }[] {
    return rollupSales(this.dailySales(), period);
  }

  /** As AnalyticsEngine.outletScores over the window. */
  outletScores(): OutletScore[] {
    if (this.scoreCache) return this.scoreCache;
    const byOutlet = new Map<string, FixtureWindow[]>();
    for (const x of this.fixtures) byOutlet.set(x.fx.outletId, [...(byOutlet.get(x.fx.outletId) ?? []), x]);
    const salesPerDay = new Map<string, number>();
    const daysPerOutlet = new Map<string, Set<string>>();
    for (const [k, u] of this.dailySales()) {
      const [o, , d] = k.split('|') as [string, string, string];
      salesPerDay.set(o, (salesPerDay.get(o) ?? 0) + u);
      daysPerOutlet.set(o, (daysPerOutlet.get(o) ?? new Set()).add(d));
    }
    const rows = [...byOutlet.entries()].map(([outletId, list]) => {
      const days = daysPerOutlet.get(outletId)?.size ?? 0;
      return {
        outletId,
        availability: mean(list.map((x) => ratio(x.total.availSum, x.total.availN))),
        compliance: mean(list.map((x) => ratio(x.total.compSum, x.total.compN))),
        purity: mean(list.map((x) => (x.shelf ? null : ratio(x.total.purSum, x.total.purN)))),
        salesPerDay: days ? (salesPerDay.get(outletId) ?? 0) / days : 0,
      };
    });
    return (this.scoreCache = rankOutlets(rows));
  }

  /** KPIs over per-fixture aggregates (the window's totals, or one local date's). */
  kpis(f: CubeFilter, parts: [FixtureWindow, Agg][] = this.fixtures.map((x) => [x, x.total])) {
    const osa = this.skuAvailability(f, parts);
    const n = osa.reduce((s, r) => s + r.observations, 0);
    const present = osa.reduce((s, r) => s + r.availability * r.observations, 0);
    const brands = this.facings('brand', parts);
    const share = brands.length
      ? brands.filter((b) => (f.brand ? b.brand === f.brand : b.own)).reduce((s, b) => s + b.share, 0)
      : null;
    return {
      availability: n > 0 ? present / n : null,
      shareOfShelf: share,
      purity: mean(parts.filter(([x]) => !x.shelf).map(([, a]) => ratio(a.purSum, a.purN))),
      compliance: mean(parts.map(([, a]) => ratio(a.compSum, a.compN))),
      openStockouts: 0,
      salesUnits: 0,
      salesRevenue: 0,
      fixtures: parts.length,
      outlets: new Set(parts.map(([x]) => x.fx.outletId)).size,
      captures: parts.reduce((s, [, a]) => s + a.n, 0),
    };
  }

  /** Per local date (each outlet's clock): the fixtures' aggregates of that date. */
  byDay(): Map<string, [FixtureWindow, Agg][]> {
    const out = new Map<string, [FixtureWindow, Agg][]>();
    for (const x of this.fixtures)
      for (const d of x.days) {
        const date = dateOf(d.day);
        const l = out.get(date);
        if (l) l.push([x, d]);
        else out.set(date, [[x, d]]);
      }
    return out;
  }
}

/** The overview page's numbers from a cube window: the same shape and definitions as `overview(engine)`. */
export const cubeOverview = (w: CubeWindow, f: CubeFilter, limit = 10): OverviewResult => {
  const k: OverviewKpis = w.kpis(f);
  const stockouts = w.stockouts().filter((s) => w.inFilter(f, s.sku));
  k.openStockouts = stockouts.filter((s) => s.end === null).length;
  const price = (sku: string) => w.master.skus.get(sku)?.price ?? 0;
  const salesByDay = new Map<string, { units: number; revenue: number }>();
  for (const [key, u] of w.dailySales()) {
    const [, sku, date] = key.split('|') as [string, string, string];
    if (!w.inFilter(f, sku)) continue;
    const a = salesByDay.get(date) ?? { units: 0, revenue: 0 };
    a.units += u;
    a.revenue += u * price(sku);
    salesByDay.set(date, a);
  }
  for (const a of salesByDay.values()) {
    k.salesUnits += a.units;
    k.salesRevenue += a.revenue;
  }
  const byDay = w.byDay();
  const trend = [...byDay.keys()].sort().map((date) => {
    const d = w.kpis(f, byDay.get(date)!);
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
  const worstOutlets =
    limit > 0
      ? [...w.outletScores()]
          .sort((a, b) => a.score - b.score || a.outletId.localeCompare(b.outletId))
          .slice(0, limit)
          .map((x) => {
            const o = w.master.outlets.get(x.outletId);
            return {
              outletId: x.outletId,
              name: o?.name ?? '',
              region: o?.region ?? null,
              city: o?.city ?? null,
              grade: x.grade,
              score: x.score,
              availability: x.availability,
            };
          })
      : [];
  const outs = new Map<string, number>();
  for (const s of stockouts) outs.set(s.sku, (outs.get(s.sku) ?? 0) + 1);
  const worstSkus = w
    .skuAvailability(f)
    .sort((a, b) => a.availability - b.availability || a.sku.localeCompare(b.sku))
    .slice(0, limit)
    .map((x) => ({
      sku: x.sku,
      name: w.master.skus.get(x.sku)?.name ?? '',
      brand: w.lookup(x.sku).brand,
      own: w.lookup(x.sku).own,
      availability: x.availability,
      outlets: x.outlets,
      stockouts: outs.get(x.sku) ?? 0,
    }));
  return { kpis: k, trend, worstOutlets, worstSkus };
};
