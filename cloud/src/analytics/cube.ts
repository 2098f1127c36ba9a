import type { MasterDataRegistry, MasterDataView, PlannedSku } from '../masterdata/index.js';
import type { CountRecord, TimeSeriesStore } from '../store/index.js';
import { fixtureIntervals, hourProfile } from './demand.js';
import { rankOutlets, type OutletScore } from './engine.js';
import type { CaptureLike } from './load.js';
import type { OverviewKpis, OverviewResult } from './overview.js';
import { dailySales, estimateFixtureSales, DEFAULT_SALES_OPTIONS } from './sales.js';
import { DEFAULT_CLOCK, weekOf, type Capture, type FixtureSeries, type OutletClock } from './series.js';
import type { FacingsRow, SkuInfo } from './shelf.js';
import { DEFAULT_HYSTERESIS, type Hysteresis, type StockoutEvent } from './stockouts.js';

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
/** Window results kept (least recently used out); the overview asks for two windows per view. */
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
  /**
   * Aggregates of whole local days (all captures of the day held), keyed by local day number with
   * the UTC offset `dayOff` (ms); a capture added drops its own day only. Filled by AnalyticsCube.
   */
  readonly dayAggs = new Map<number, Agg>();
  dayOff = 0;
  /** Per-capture-range results (stockout replays), valid while `version` is unchanged. */
  readonly memo = new Map<string, { version: number; value: unknown }>();

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
      // Cached day aggregates are per column.
      this.dayAggs.clear();
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
    if (this.dayAggs.size > 0) this.dayAggs.delete(Math.floor((t + this.dayOff) / DAY));
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
  /** The distinct SKUs of the contributions, and each contribution's index into them. */
  skus: string[];
  skuIdx: Int32Array;
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
  /** Position in the window's fixture list. */
  idx: number;
  fx: FixtureColumns;
  i0: number;
  i1: number;
  clock: OutletClock;
  planned: PlannedSku[];
  shelf: boolean;
  /** Brand and own flag of each column of the fixture (master data lookup). */
  colBrand: string[];
  colOwn: boolean[];
  total: Agg;
  /** Per local day; whole days are the fixture's cached aggregates (read-only). */
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
  private nextWindowId = 1;
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

  /** Called after each background warm that follows new data (the service re-warms its default views). */
  onWarmed: (() => void) | null = null;

  private warmTimer: ReturnType<typeof setTimeout> | null = null;
  private scheduleWarm(): void {
    this.warmTimer ??= setTimeout(() => {
      this.warmTimer = null;
      this.warm().then(
        () => this.onWarmed?.(),
        () => undefined,
      );
    }, 1000);
    this.warmTimer.unref?.();
  }

  /** Ingest hook: an observation the store has just accepted. Before the load starts it is left to the load. */
  add(c: CaptureLike | CountRecord): void {
    if (this.loaded) {
      this.put(c, false);
      this.generation++;
      this.invalidate([c]);
      this.scheduleWarm();
    } else if (this.loading) this.buffered.push(c);
  }

  /**
   * Drops the cached windows whose scope holds one of these fixtures; windows of other scopes stay
   * (a window reads only its own fixtures, besides master data and the hour shape, which clear all).
   */
  private invalidate(changed: readonly { outletId: string; fixtureId: string }[]): void {
    for (const [key, w] of this.windows) {
      const { outlets, fixtures } = w.scope;
      if (changed.some((c) => (!outlets || outlets.has(c.outletId)) && (!fixtures || fixtures.has(c.fixtureId))))
        this.windows.delete(key);
    }
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
      const added = new Map<string, CountRecord>();
      do {
        const page = await this.store.scanCounts({
          receivedFrom,
          limit: this.opts.scanPage ?? 20_000,
          ...(cursor ? { cursor } : {}),
        });
        for (const r of page.items) if (this.put(r, false)) added.set(r.fixtureId, r);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      this.scannedAt = started;
      if (added.size > 0) {
        this.generation++;
        this.invalidate([...added.values()]);
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
      // Day aggregates and stockout replays depend on planograms, own brands and clocks.
      for (const fx of this.fixtures.values()) {
        fx.dayAggs.clear();
        fx.memo.clear();
      }
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
    const res = estimateFixtureSales(series, clock, DEFAULT_SALES_OPTIONS, w, this.view().plannedSkus(fx.fixtureId));
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
    const skuPos = new Map<string, number>();
    const skuIdx = new Int32Array(sku.length);
    for (let j = 0; j < sku.length; j++) {
      let k = skuPos.get(sku[j]!);
      if (k === undefined) skuPos.set(sku[j]!, (k = skuPos.size));
      skuIdx[j] = k;
    }
    const out: FixtureSales = {
      version: fx.version,
      weightsGen: this.weightsGen,
      start,
      sku,
      skus: [...skuPos.keys()],
      skuIdx,
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

  /**
   * The window's KPIs: cached until master data, the hour shape, or data of a fixture in its scope
   * change (new data elsewhere leaves it cached). A window is built from per-fixture caches (whole
   * days' aggregates, stockout replays, sales), so after new data only that fixture is recomputed.
   */
  async window(scope: CubeScope): Promise<CubeWindow> {
    await this.ready();
    if (Date.now() - this.scannedAt >= (this.opts.catchUpIntervalMs ?? 2000)) await this.catchUp();
    this.view();
    const key = JSON.stringify([
      scope.from?.getTime() ?? null,
      scope.to?.getTime() ?? null,
      scope.outlets ? [...scope.outlets].sort().join(',') : null,
      this.scopeId(scope.fixtures),
    ]);
    // Derived state first: a refitted hour shape clears every window (O(1) unless a refit is due).
    this.hourWeights();
    let hit = this.windows.get(key);
    if (hit) {
      // Least recently used first out (windows of past hours leave before the current ones).
      this.windows.delete(key);
      this.windows.set(key, hit);
      return hit;
    }
    if (Date.now() - this.scannedAt >= (this.opts.catchUpMinMs ?? 250)) await this.catchUp();
    this.hourWeights();
    hit = this.windows.get(key);
    if (hit) return hit;
    const w = new CubeWindow(this, this.view(), this.select(scope), scope, this.nextWindowId++);
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
      const colBrand = fx.skus.map((sku) => md.skus.get(sku)?.brand ?? 'unknown');
      const colOwn = fx.skus.map((sku) => md.skus.get(sku)?.own ?? false);
      out.push({
        idx: 0,
        fx,
        i0,
        i1,
        clock,
        planned,
        shelf,
        colBrand,
        colOwn,
        ...aggregate(fx, i0, i1, clock, planned, colOwn),
      });
    }
    out.sort((a, b) => a.fx.fixtureId.localeCompare(b.fx.fixtureId));
    out.forEach((x, i) => (x.idx = i));
    return out;
  }

  /** Stockout events of a fixture over captures [i0, i1) (replayed once per range and data version). */
  stockoutsOf(x: FixtureWindow): StockoutEvent[] {
    const key = `stockouts|${x.i0}|${x.i1}`;
    const m = x.fx.memo.get(key);
    if (m && m.version === x.fx.version) return m.value as StockoutEvent[];
    const value = replayStockouts(x.fx, x.i0, x.i1, trackedSkus(x), DEFAULT_HYSTERESIS);
    // A few ranges per fixture (the dashboard's windows move every hour).
    if (x.fx.memo.size >= FIXTURE_MEMO) x.fx.memo.delete(x.fx.memo.keys().next().value!);
    x.fx.memo.set(key, { version: x.fx.version, value });
    return value;
  }
}

/** Ranges per fixture whose stockout replay is kept. */
const FIXTURE_MEMO = 16;

/** SKUs whose stockouts are tracked: the planogram's, else every SKU seen in the window (first-seen order). */
const trackedSkus = (x: FixtureWindow): string[] => {
  if (x.planned.length > 0) return x.planned.map((p) => p.sku);
  const { fx, i0, i1 } = x;
  // SKUs of one capture in id order.
  const order = fx.skus.map((s, k) => [s, k] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const seen = new Set<string>();
  for (let i = i0; i < i1; i++) for (const [s, k] of order) if (fx.counts[k]![i]! >= 0) seen.add(s);
  return [...seen];
};

/** StockoutTracker's hysteresis over the columns (same events), without per-capture allocations. */
const replayStockouts = (
  fx: FixtureColumns,
  i0: number,
  i1: number,
  tracked: string[],
  h: Hysteresis,
): StockoutEvent[] => {
  const events: StockoutEvent[] = [];
  for (const sku of tracked) {
    const k = fx.col.get(sku);
    const counts = k === undefined ? null : fx.counts[k]!;
    let open: StockoutEvent | null = null;
    let zeroLen = 0;
    let zeroStart = 0;
    let backLen = 0;
    let backStart = 0;
    for (let i = i0; i < i1; i++) {
      const t = fx.t[i]!;
      const count = counts ? Math.max(0, counts[i]!) : 0;
      if (!open) {
        if (count > 0) {
          zeroLen = 0;
          continue;
        }
        if (zeroLen === 0) zeroStart = t;
        if (++zeroLen < h.openAfter) continue;
        open = {
          outletId: fx.outletId,
          fixtureId: fx.fixtureId,
          sku,
          start: zeroStart,
          raisedAt: t,
          end: null,
          clearedAt: null,
        };
        zeroLen = 0;
        backLen = 0;
        continue;
      }
      if (count === 0) {
        backLen = 0;
        continue;
      }
      if (backLen === 0) backStart = t;
      backLen++;
      if (count >= h.closeImmediateUnits || backLen >= h.closeAfter) {
        events.push({ ...open, end: backStart, clearedAt: t });
        open = null;
        backLen = 0;
      }
    }
    if (open) events.push({ ...open });
  }
  return events.sort((a, b) => a.start - b.start);
};

/** What one fixture's per-capture aggregation needs, under the current master data. */
interface AggCtx {
  off: number;
  cols: number;
  planned: PlannedSku[];
  pcol: number[];
  plannedFacings: number;
  own: boolean[];
}

/** Sums over captures [a, b) of one fixture, all of local day `day`. */
const aggregateRange = (fx: FixtureColumns, a: number, b: number, day: number, x: AggCtx): Agg => {
  const { cols, planned, pcol, plannedFacings, own } = x;
  const cur = newAgg(day, cols);
  for (let i = a; i < b; i++) {
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
  return cur;
};

/**
 * A fixture's captures [i0, i1) per local day and in total. Whole local days (every capture of the
 * day held is in the window) come from the fixture's day cache; only the window's partial edge days
 * are summed here, so a window costs two edge days plus one addition per day.
 */
const aggregate = (
  fx: FixtureColumns,
  i0: number,
  i1: number,
  clock: OutletClock,
  planned: PlannedSku[],
  own: boolean[],
): { total: Agg; days: Agg[] } => {
  const cols = fx.skus.length;
  const off = clock.utcOffsetMinutes * 60_000;
  if (fx.dayOff !== off) {
    fx.dayAggs.clear();
    fx.dayOff = off;
  }
  const ctx: AggCtx = {
    off,
    cols,
    planned,
    pcol: planned.map((p) => fx.col.get(p.sku) ?? -1),
    plannedFacings: planned.reduce((s, p) => s + p.facings, 0),
    own,
  };
  const days: Agg[] = [];
  for (let i = i0; i < i1;) {
    const day = Math.floor((fx.t[i]! + off) / DAY);
    const end = fx.lowerBound((day + 1) * DAY - off);
    const b = Math.min(end, i1);
    const whole = b === end && (i === 0 || Math.floor((fx.t[i - 1]! + off) / DAY) < day);
    let agg = whole ? fx.dayAggs.get(day) : undefined;
    if (!agg) {
      agg = aggregateRange(fx, i, b, day, ctx);
      if (whole) fx.dayAggs.set(day, agg);
    }
    days.push(agg);
    i = b;
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

/** A window's estimated sales per (outlet, SKU, period) as columns, rows in `rollupSales` order. */
export interface SalesTable {
  n: number;
  /** Outlets and SKUs the rows index. */
  outlets: string[];
  skus: string[];
  outlet: Int32Array;
  sku: Int32Array;
  /** Period 'day': the local day number; else an index into `periods`. */
  key: Int32Array;
  periods: string[] | null;
  units: Float64Array;
}

/** The day table, plus per outlet (index of `outlets`) its units and days with sales. */
interface DayTable extends SalesTable {
  outletUnits: Float64Array;
  outletDays: Int32Array;
  dayMin: number;
  dayMax: number;
}

export interface SalesRow {
  outletId: string;
  sku: string;
  period: string;
  units: number;
}

const filterKey = (f: CubeFilter): string => JSON.stringify([f.brand ?? null, f.sku ?? null]);
/** Derived results kept per window (overview responses, filtered sales indexes, ...). */
const WINDOW_MEMO = 256;

/** KPIs of one window and scope; the same numbers the AnalyticsEngine gives over the window's captures. */
export class CubeWindow {
  private stockoutCache: StockoutEvent[] | null = null;
  private dayTableCache: DayTable | null = null;
  private scoreCache: OutletScore[] | null = null;
  private byDayCache: Map<string, [FixtureWindow, Agg][]> | null = null;
  private readonly memos = new Map<string, unknown>();

  constructor(
    readonly cube: AnalyticsCube,
    readonly master: MasterDataView,
    readonly fixtures: FixtureWindow[],
    readonly scope: CubeScope,
    /** Unique per window object (a rebuilt window of the same scope gets a new id). */
    readonly id = 0,
  ) {}

  /** A derived value computed once per window (the window is dropped when its data change). */
  memo<T>(key: string, compute: () => T): T {
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const v = compute();
    if (this.memos.size >= WINDOW_MEMO) this.memos.delete(this.memos.keys().next().value!);
    this.memos.set(key, v);
    return v;
  }

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

  /** As AnalyticsEngine.stockouts over the window's captures (per fixture, replayed once per capture range). */
  stockouts(): StockoutEvent[] {
    if (this.stockoutCache) return this.stockoutCache;
    const out: StockoutEvent[] = [];
    for (const x of this.fixtures) for (const e of this.cube.stockoutsOf(x)) out.push(e);
    return (this.stockoutCache = out);
  }

  /**
   * Estimated units per (outlet, SKU, local date) over the window (see AnalyticsCube.salesOf): the
   * contributions of intervals with both captures in the window, summed per outlet in fixture order
   * (as the engine's daily map), rows in rollupSales order (outlet, SKU, date).
   */
  private dayTable(): DayTable {
    if (this.dayTableCache) return this.dayTableCache;
    const fs = this.fixtures.map((x) => this.cube.salesOf(x.fx));
    const byOutlet = new Map<string, FixtureWindow[]>();
    for (const x of this.fixtures) {
      const l = byOutlet.get(x.fx.outletId);
      if (l) l.push(x);
      else byOutlet.set(x.fx.outletId, [x]);
    }
    const outlets = [...byOutlet.keys()].sort((a, b) => a.localeCompare(b));
    // Pass 1, per outlet: its SKUs (each fixture's mapped onto them) and local day range; rows ≤ SKUs × days.
    let cap = 0;
    const plan = outlets.map((o) => {
      const parts = byOutlet.get(o)!;
      const local = new Map<string, number>();
      const maps = parts.map((x) =>
        Int32Array.from(fs[x.idx]!.skus, (sku) => {
          let k = local.get(sku);
          if (k === undefined) local.set(sku, (k = local.size));
          return k;
        }),
      );
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of parts) {
        const s = fs[x.idx]!;
        for (let j = s.start[x.i0]!, b = s.start[x.i1 - 1]!; j < b; j++) {
          const d = s.day[j]!;
          if (d < lo) lo = d;
          if (d > hi) hi = d;
        }
      }
      if (lo <= hi) cap += local.size * (hi - lo + 1);
      return { parts, local, maps, lo, hi };
    });
    // SKUs sorted once (localeCompare is slow); a row's SKU index is the SKU's rank.
    const all = new Set<string>();
    for (const { local } of plan) for (const sku of local.keys()) all.add(sku);
    const skus = [...all].sort((a, b) => a.localeCompare(b));
    const rank = new Map(skus.map((sku, i) => [sku, i]));
    const rOutlet = new Int32Array(cap);
    const rSku = new Int32Array(cap);
    const rDay = new Int32Array(cap);
    const rUnits = new Float64Array(cap);
    const outletUnits = new Float64Array(outlets.length);
    const outletDays = new Int32Array(outlets.length);
    let n = 0;
    let dayMin = Infinity;
    let dayMax = -Infinity;
    // Pass 2: sum per (SKU, day) in fixture and contribution order (as the engine's daily map), emit sorted.
    plan.forEach(({ parts, local, maps, lo, hi }, oi) => {
      if (lo > hi) return;
      const nd = hi - lo + 1;
      const acc = new Float64Array(local.size * nd);
      const seen = new Uint8Array(local.size * nd);
      parts.forEach((x, p) => {
        const s = fs[x.idx]!;
        const m = maps[p]!;
        for (let j = s.start[x.i0]!, b = s.start[x.i1 - 1]!; j < b; j++) {
          const c = m[s.skuIdx[j]!]! * nd + s.day[j]! - lo;
          acc[c]! += s.units[j]!;
          seen[c] = 1;
        }
      });
      const daySeen = new Uint8Array(nd);
      let units = 0;
      const order = [...local.entries()].map(([sku, ls]) => [rank.get(sku)!, ls] as const).sort((a, b) => a[0] - b[0]);
      for (const [g, ls] of order) {
        for (let d = 0; d < nd; d++) {
          const c = ls * nd + d;
          if (!seen[c]) continue;
          rOutlet[n] = oi;
          rSku[n] = g;
          rDay[n] = lo + d;
          rUnits[n] = acc[c]!;
          n++;
          units += acc[c]!;
          daySeen[d] = 1;
        }
      }
      outletUnits[oi] = units;
      outletDays[oi] = daySeen.reduce((a, b) => a + b, 0);
      dayMin = Math.min(dayMin, lo);
      dayMax = Math.max(dayMax, hi);
    });
    return (this.dayTableCache = {
      n,
      outlets,
      skus,
      outlet: rOutlet.subarray(0, n),
      sku: rSku.subarray(0, n),
      key: rDay.subarray(0, n),
      periods: null,
      units: rUnits.subarray(0, n),
      outletUnits,
      outletDays,
      dayMin,
      dayMax,
    });
  }

  /** Sales per (outlet, SKU, period) as columns (rollupSales over the window's daily sales). */
  salesTable(period: 'day' | 'week' | 'total'): SalesTable {
    const t = this.dayTable();
    if (period === 'day') return t;
    return this.memo(`sales|${period}`, () => {
      const outlet: number[] = [];
      const sku: number[] = [];
      const key: number[] = [];
      const units: number[] = [];
      const periods: string[] = [];
      const pos = new Map<string, number>();
      for (let i = 0; i < t.n;) {
        const acc = new Map<string, number>();
        let j = i;
        for (; j < t.n && t.outlet[j] === t.outlet[i] && t.sku[j] === t.sku[i]; j++) {
          const p = period === 'week' ? weekOf(dateOf(t.key[j]!)) : 'total';
          acc.set(p, (acc.get(p) ?? 0) + t.units[j]!);
        }
        for (const [p, u] of [...acc.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
          let k = pos.get(p);
          if (k === undefined) {
            pos.set(p, (k = periods.length));
            periods.push(p);
          }
          outlet.push(t.outlet[i]!);
          sku.push(t.sku[i]!);
          key.push(k);
          units.push(u);
        }
        i = j;
      }
      return {
        n: outlet.length,
        outlets: t.outlets,
        skus: t.skus,
        outlet: Int32Array.from(outlet),
        sku: Int32Array.from(sku),
        key: Int32Array.from(key),
        periods,
        units: Float64Array.from(units),
      };
    });
  }

  /** Rows [offset, offset + limit) of the period's sales whose SKU is in the filter, and how many there are. */
  salesPage(
    period: 'day' | 'week' | 'total',
    f: CubeFilter,
    offset = 0,
    limit = Number.POSITIVE_INFINITY,
  ): { total: number; rows: SalesRow[] } {
    const t = this.salesTable(period);
    const idx =
      f.sku || f.brand
        ? this.memo(`salesIdx|${period}|${filterKey(f)}`, () => {
            const ok = t.skus.map((s) => this.inFilter(f, s));
            const out: number[] = [];
            for (let i = 0; i < t.n; i++) if (ok[t.sku[i]!]) out.push(i);
            return Int32Array.from(out);
          })
        : null;
    const total = idx ? idx.length : t.n;
    const rows: SalesRow[] = [];
    for (let r = offset; r < Math.min(total, offset + limit); r++) {
      const i = idx ? idx[r]! : r;
      rows.push({
        outletId: t.outlets[t.outlet[i]!]!,
        sku: t.skus[t.sku[i]!]!,
        period: t.periods ? t.periods[t.key[i]!]! : dateOf(t.key[i]!),
        units: t.units[i]!,
      });
    }
    return { total, rows };
  }

  sales(period: 'day' | 'week' | 'total'): SalesRow[] {
    return this.salesPage(period, {}).rows;
  }

  /** Units and revenue per local date of the SKUs in the filter (dates ascending). */
  salesByDay(f: CubeFilter): Map<string, { units: number; revenue: number }> {
    return this.memo(`salesByDay|${filterKey(f)}`, () => {
      const t = this.dayTable();
      const out = new Map<string, { units: number; revenue: number }>();
      if (t.n === 0) return out;
      const ok = t.skus.map((s) => this.inFilter(f, s));
      const price = t.skus.map((s) => this.master.skus.get(s)?.price ?? 0);
      const nd = t.dayMax - t.dayMin + 1;
      const units = new Float64Array(nd);
      const revenue = new Float64Array(nd);
      const seen = new Uint8Array(nd);
      for (let i = 0; i < t.n; i++) {
        const k = t.sku[i]!;
        if (!ok[k]) continue;
        const d = t.key[i]! - t.dayMin;
        const u = t.units[i]!;
        units[d]! += u;
        revenue[d]! += u * price[k]!;
        seen[d] = 1;
      }
      for (let d = 0; d < nd; d++)
        if (seen[d]) out.set(dateOf(t.dayMin + d), { units: units[d]!, revenue: revenue[d]! });
      return out;
    });
  }

  /** As AnalyticsEngine.outletScores over the window. */
  outletScores(): OutletScore[] {
    if (this.scoreCache) return this.scoreCache;
    const byOutlet = new Map<string, FixtureWindow[]>();
    for (const x of this.fixtures) {
      const l = byOutlet.get(x.fx.outletId);
      if (l) l.push(x);
      else byOutlet.set(x.fx.outletId, [x]);
    }
    const t = this.dayTable();
    const pos = new Map(t.outlets.map((o, i) => [o, i]));
    const rows = [...byOutlet.entries()].map(([outletId, list]) => {
      const i = pos.get(outletId);
      const days = i === undefined ? 0 : t.outletDays[i]!;
      return {
        outletId,
        availability: mean(list.map((x) => ratio(x.total.availSum, x.total.availN))),
        compliance: mean(list.map((x) => ratio(x.total.compSum, x.total.compN))),
        purity: mean(list.map((x) => (x.shelf ? null : ratio(x.total.purSum, x.total.purN)))),
        salesPerDay: days ? t.outletUnits[i!]! / days : 0,
      };
    });
    return (this.scoreCache = rankOutlets(rows));
  }

  /** Brands of the window's columns as indexes: names, and per fixture (by idx) each column's brand index. */
  private brandIndex(): { names: string[]; col: Int32Array[] } {
    return this.memo('brands', () => {
      const names: string[] = [];
      const pos = new Map<string, number>();
      const col = this.fixtures.map((x) =>
        Int32Array.from(x.colBrand, (b) => {
          let k = pos.get(b);
          if (k === undefined) {
            pos.set(b, (k = names.length));
            names.push(b);
          }
          return k;
        }),
      );
      return { names, col };
    });
  }

  /** Per fixture (by idx): the columns of its planned SKUs in the filter (−1: never seen). */
  private plannedCols(f: CubeFilter): Int32Array[] {
    return this.memo(`planned|${filterKey(f)}`, () =>
      this.fixtures.map((x) =>
        Int32Array.from(
          x.planned.filter((p) => this.inFilter(f, p.sku)),
          (p) => x.fx.col.get(p.sku) ?? -1,
        ),
      ),
    );
  }

  /**
   * KPIs over per-fixture aggregates (the window's totals, or one local date's): as the engine's
   * `kpis` (availability = Σ present ÷ Σ observations of the planned SKUs in the filter; share of
   * shelf from per-fixture mean facings by brand; purity and compliance as means of fixture means),
   * in one numeric pass.
   */
  kpis(
    f: CubeFilter,
    parts: [FixtureWindow, Agg][] = this.fixtures.map((x) => [x, x.total]),
    /** false: leave `outlets` 0 (the trend does not show it). */
    countOutlets = true,
  ): OverviewKpis {
    const pcols = this.plannedCols(f);
    const brands = this.brandIndex();
    const bf = new Float64Array(brands.names.length);
    const bOwn = new Int8Array(brands.names.length).fill(-1);
    let n = 0;
    let present = 0;
    let total = 0;
    let anyBrand = false;
    let pS = 0;
    let pN = 0;
    let cS = 0;
    let cN = 0;
    let captures = 0;
    const outlets = new Set<string>();
    for (let q = 0; q < parts.length; q++) {
      const [x, a] = parts[q]!;
      const pc = pcols[x.idx]!;
      for (let p = 0; p < pc.length; p++) {
        const k = pc[p]!;
        n += a.n;
        if (k >= 0) present += a.present[k]!;
      }
      if (a.n > 0) {
        const bc = brands.col[x.idx]!;
        for (let k = 0; k < a.reported.length; k++) {
          if (a.reported[k] === 0) continue;
          const v = a.facings[k]! / a.n;
          const b = bc[k]!;
          bf[b]! += v;
          total += v;
          anyBrand = true;
          if (bOwn[b] === -1) bOwn[b] = x.colOwn[k] ? 1 : 0;
        }
      }
      if (!x.shelf && a.purN > 0) {
        pS += a.purSum / a.purN;
        pN++;
      }
      if (a.compN > 0) {
        cS += a.compSum / a.compN;
        cN++;
      }
      captures += a.n;
      if (countOutlets) outlets.add(x.fx.outletId);
    }
    let share: number | null = null;
    if (anyBrand) {
      share = 0;
      for (let b = 0; b < bf.length; b++)
        if (bOwn[b] !== -1 && (f.brand ? brands.names[b] === f.brand : bOwn[b] === 1))
          share += total > 0 ? bf[b]! / total : 0;
    }
    return {
      availability: n > 0 ? present / n : null,
      shareOfShelf: share,
      purity: pN > 0 ? pS / pN : null,
      compliance: cN > 0 ? cS / cN : null,
      openStockouts: 0,
      salesUnits: 0,
      salesRevenue: 0,
      fixtures: parts.length,
      outlets: outlets.size,
      captures,
    };
  }

  /** Stockout events per SKU: [all, still open] (for the overview's filtered counts). */
  stockoutCounts(): Map<string, [number, number]> {
    return this.memo('stockoutCounts', () => {
      const out = new Map<string, [number, number]>();
      for (const e of this.stockouts()) {
        let c = out.get(e.sku);
        if (!c) out.set(e.sku, (c = [0, 0]));
        c[0]++;
        if (e.end === null) c[1]++;
      }
      return out;
    });
  }

  /** Per local date (each outlet's clock): the fixtures' aggregates of that date. */
  byDay(): Map<string, [FixtureWindow, Agg][]> {
    if (this.byDayCache) return this.byDayCache;
    const out = new Map<string, [FixtureWindow, Agg][]>();
    for (const x of this.fixtures)
      for (const d of x.days) {
        const date = dateOf(d.day);
        const l = out.get(date);
        if (l) l.push([x, d]);
        else out.set(date, [[x, d]]);
      }
    return (this.byDayCache = out);
  }
}

/** The overview's KPI tiles of a window (no trend): as `kpis(engine)` plus open stockouts and sales. */
export const cubeKpis = (w: CubeWindow, f: CubeFilter): OverviewKpis => {
  const k = w.kpis(f);
  for (const [sku, [, open]] of w.stockoutCounts()) if (w.inFilter(f, sku)) k.openStockouts += open;
  for (const a of w.salesByDay(f).values()) {
    k.salesUnits += a.units;
    k.salesRevenue += a.revenue;
  }
  return k;
};

/** The overview page's numbers from a cube window: the same shape and definitions as `overview(engine)`. */
export const cubeOverview = (w: CubeWindow, f: CubeFilter, limit = 10): OverviewResult => {
  const k = cubeKpis(w, f);
  const salesByDay = w.salesByDay(f);
  const byDay = w.byDay();
  const trend = [...byDay.keys()].sort().map((date) => {
    const d = w.kpis(f, byDay.get(date)!, false);
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
  const outs = w.stockoutCounts();
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
      stockouts: outs.get(x.sku)?.[0] ?? 0,
    }));
  return { kpis: k, trend, worstOutlets, worstSkus };
};
