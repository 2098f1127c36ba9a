import { EventEmitter } from 'node:events';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MasterDataRegistry } from '../masterdata/index.js';
import type { FixtureSummary, TimeSeriesStore } from '../store/index.js';
import { AnalyticsCube, cubeKpis, cubeOverview, type CubeFilter, type CubeOptions, type CubeWindow } from './cube.js';
import { AnalyticsEngine } from './engine.js';
import { toSeries, type CaptureLike } from './load.js';
import { DEFAULT_HYSTERESIS, StockoutTracker, type Hysteresis } from './stockouts.js';

export interface AnalyticsScope {
  from?: Date;
  to?: Date;
  region?: string;
  channel?: string;
  outletId?: string;
  /** Tenant scope (a brand manager's outlets): intersected with every other filter. */
  outlets?: ReadonlySet<string>;
  /** Tenant scope (a brand manager's fixtures): only their observations are read. */
  fixtures?: ReadonlySet<string>;
}

/** Overview ranges of the dashboard (days), warmed for the admin scope once the rollups are ready. */
export const DEFAULT_OVERVIEW_DAYS = [7, 30, 90, 1];
/** Least time between background re-warms of the default overviews after new data. */
export const PREWARM_INTERVAL_MS = 30_000;

const r4 = (x: number | null) => (x === null ? null : Math.round(x * 10_000) / 10_000);
const round = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).map(([k, x]) => [k, typeof x === 'number' ? r4(x) : x])) as T;

/** GET /analytics/overview's body. */
export interface OverviewBody {
  from: string | null;
  to: string | null;
  kpis: ReturnType<typeof cubeKpis>;
  previous: ReturnType<typeof cubeKpis> | null;
  trend: ReturnType<typeof cubeOverview>['trend'];
  worstOutlets: ReturnType<typeof cubeOverview>['worstOutlets'];
  worstSkus: ReturnType<typeof cubeOverview>['worstSkus'];
}

/** Most observations one analytics request reads (≈ 100 fixtures × 5 weeks of hourly captures). */
export const MAX_SCAN_OBSERVATIONS = 200_000;
export const CACHE_TTL_MS = 30_000;

/** Pulls observations through the store port and hands them to the pure engine. */
export class AnalyticsService {
  /** In-memory rollups that the overview and the main metric endpoints read (docs/decisions.md D13). */
  readonly cube: AnalyticsCube;

  constructor(
    private readonly store: TimeSeriesStore,
    readonly masterdata: MasterDataRegistry,
    cubeOptions: CubeOptions = {},
  ) {
    this.cube = new AnalyticsCube(store, masterdata, cubeOptions);
  }

  /** The scope's window over the rollups (same definitions as `engine(scope)`, sales see AnalyticsCube). */
  window(scope: AnalyticsScope): Promise<CubeWindow> {
    const fixtures = (scope as { fixtures?: ReadonlySet<string> }).fixtures ?? null;
    return this.cube.window({ from: scope.from, to: scope.to, outlets: this.outletFilter(scope), fixtures });
  }

  /**
   * The overview of a period (KPI tiles, daily trend, worst outlets and SKUs) and the KPIs of the
   * previous period of equal length (when from and to are given), rounded as the API sends it. Cached
   * with the period's window per (filter, top, previous window): repeated requests cost a lookup
   * until data of a fixture in scope, master data or the hour shape change.
   */
  async overview(scope: AnalyticsScope, f: CubeFilter, top: number): Promise<OverviewBody> {
    const cur = await this.window(scope);
    const { from, to } = scope;
    const prev =
      from && to ? await this.window({ ...scope, from: new Date(2 * from.getTime() - to.getTime()), to: from }) : null;
    return cur.memo(`overview|${JSON.stringify([f.brand ?? null, f.sku ?? null, top, prev?.id ?? null])}`, () => {
      const o = cubeOverview(cur, f, top);
      return {
        from: from?.toISOString() ?? null,
        to: to?.toISOString() ?? null,
        kpis: round(o.kpis),
        previous: prev ? round(cubeKpis(prev, f)) : null,
        trend: o.trend.map(round),
        worstOutlets: o.worstOutlets.map(round),
        worstSkus: o.worstSkus.map(round),
      };
    });
  }

  private prewarmedAt = 0;
  private prewarmTimer: ReturnType<typeof setTimeout> | null = null;
  private prewarmStopped = false;

  /**
   * Computes the dashboard's default overviews (admin scope, no filters: 7/30/90 days and 24 h up to
   * the end of the current hour, as the dashboard asks) so the first navigation is a cache hit.
   * Yields to the event loop between windows.
   */
  async prewarm(now = Date.now()): Promise<OverviewBody[]> {
    this.prewarmedAt = Date.now();
    const to = Math.ceil(now / 3_600_000) * 3_600_000;
    const out: OverviewBody[] = [];
    for (const days of DEFAULT_OVERVIEW_DAYS) {
      out.push(await this.overview({ from: new Date(to - days * 86_400_000), to: new Date(to) }, {}, 10));
      await new Promise((r) => setImmediate(r));
    }
    return out;
  }

  /** Re-warms the default overviews after new data, at most every PREWARM_INTERVAL_MS (trailing). */
  /** Stops background prewarming (the cloud is shutting down; the store is about to close). */
  stopPrewarm(): void {
    if (this.prewarmTimer) clearTimeout(this.prewarmTimer);
    this.prewarmTimer = null;
    this.prewarmStopped = true;
  }

  schedulePrewarm(onError: (err: unknown) => void = () => undefined): void {
    if (this.prewarmTimer || this.prewarmStopped) return;
    const wait = Math.max(0, this.prewarmedAt + PREWARM_INTERVAL_MS - Date.now());
    this.prewarmTimer = setTimeout(() => {
      this.prewarmTimer = null;
      this.prewarm().catch(onError);
    }, wait);
    this.prewarmTimer.unref?.();
  }

  /** Outlets in scope by master data; null = no outlet filter (region/channel unset). */
  outletFilter(scope: AnalyticsScope): Set<string> | null {
    const base = this.baseOutletFilter(scope);
    if (!scope.outlets) return base;
    if (!base) return new Set(scope.outlets);
    return new Set([...base].filter((o) => scope.outlets!.has(o)));
  }

  private baseOutletFilter(scope: AnalyticsScope): Set<string> | null {
    if (!scope.region && !scope.channel && !scope.outletId) return null;
    const md = this.masterdata.current();
    const ok = new Set<string>();
    if (scope.outletId && !scope.region && !scope.channel) return new Set([scope.outletId]);
    for (const o of md.outlets.values())
      if (
        (!scope.region || o.region === scope.region) &&
        (!scope.channel || o.channel === scope.channel) &&
        (!scope.outletId || o.outletId === scope.outletId)
      )
        ok.add(o.outletId);
    return ok;
  }

  private cache = new Map<string, { at: number; engine: Promise<AnalyticsEngine> }>();
  private readonly scopeIds = new WeakMap<ReadonlySet<string>, number>();
  private nextScopeId = 1;
  private scopeId(s: ReadonlySet<string>): number {
    let id = this.scopeIds.get(s);
    if (id === undefined) this.scopeIds.set(s, (id = this.nextScopeId++));
    return id;
  }

  /** Drops cached engines; called on every ingested observation. */
  invalidate(): void {
    this.cache.clear();
  }

  /** An engine over the scope's observations; reused for up to `CACHE_TTL_MS` until new data arrives. */
  engine(scope: AnalyticsScope): Promise<AnalyticsEngine> {
    const key = JSON.stringify([
      scope.from,
      scope.to,
      scope.region,
      scope.channel,
      scope.outletId,
      scope.outlets ? this.scopeId(scope.outlets) : null,
      scope.fixtures ? this.scopeId(scope.fixtures) : null,
    ]);
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.engine;
    const engine = this.load(scope);
    if (this.cache.size > 32) this.cache.clear();
    this.cache.set(key, { at: Date.now(), engine });
    engine.catch(() => this.cache.delete(key));
    return engine;
  }

  private async load(scope: AnalyticsScope): Promise<AnalyticsEngine> {
    const outlets = this.outletFilter(scope);
    const items: CaptureLike[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.queryObservations({
        ...(scope.outletId ? { outletId: scope.outletId } : {}),
        ...(scope.from ? { from: scope.from } : {}),
        ...(scope.to ? { to: scope.to } : {}),
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      for (const o of page.items)
        if ((!outlets || outlets.has(o.outletId)) && (!scope.fixtures || scope.fixtures.has(o.fixtureId)))
          items.push(o);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && items.length < MAX_SCAN_OBSERVATIONS);
    return new AnalyticsEngine(toSeries(items), this.masterdata.current());
  }
}

export interface StockoutAlert {
  id: string;
  type: 'stockout';
  state: 'open' | 'closed';
  outletId: string;
  fixtureId: string;
  sku: string;
  /** First capture that showed the SKU out. */
  start: string;
  raisedAt: string;
  end: string | null;
  clearedAt: string | null;
  /** Set by a user in the dashboard (acknowledge: someone is on it; resolve: closed by hand). */
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  resolvedAt?: string;
  resolvedBy?: string;
}

/**
 * Evaluates stockout hysteresis on every ingested observation (live), keeps the alert log in
 * `alerts.jsonl` in the data dir (one line per open/close; replayed on start) and emits `alert`.
 * Observations older than the last one seen for their fixture (outbox backfill) are skipped.
 */
export interface AlertAct {
  id: string;
  action: 'acknowledge' | 'resolve';
  by: string;
  at: string;
}

export class AlertEngine extends EventEmitter<{ alert: [StockoutAlert]; act: [AlertAct] }> {
  private readonly trackers = new Map<string, StockoutTracker>();
  private readonly lastSeen = new Map<string, number>();
  private readonly alerts = new Map<string, StockoutAlert>();
  private readonly file: string | null;

  constructor(
    dataDir: string,
    private readonly masterdata: MasterDataRegistry,
    private readonly h: Hysteresis = DEFAULT_HYSTERESIS,
  ) {
    super();
    this.file = dataDir === ':memory:' ? null : join(dataDir, 'alerts.jsonl');
    if (this.file) {
      mkdirSync(dataDir, { recursive: true });
      if (existsSync(this.file))
        for (const line of readFileSync(this.file, 'utf8').split('\n'))
          if (line.trim()) {
            const a = JSON.parse(line) as StockoutAlert;
            this.alerts.set(a.id, a);
          }
      // Re-arm trackers of alerts still open, so they can close after a restart.
      for (const a of this.alerts.values())
        if (a.state === 'open') {
          const tr = new StockoutTracker(a.outletId, a.fixtureId, a.sku, this.h);
          tr.open = {
            outletId: a.outletId,
            fixtureId: a.fixtureId,
            sku: a.sku,
            start: Date.parse(a.start),
            raisedAt: Date.parse(a.raisedAt),
            end: null,
            clearedAt: null,
          };
          this.trackers.set(`${a.fixtureId}|${a.sku}`, tr);
        }
    }
  }

  list(): StockoutAlert[] {
    return [...this.alerts.values()].sort((a, b) => b.raisedAt.localeCompare(a.raisedAt) || a.id.localeCompare(b.id));
  }

  onObservation(obs: Pick<FixtureSummary, 'outletId' | 'fixtureId' | 'capturedAt' | 'skus'>): StockoutAlert[] {
    const t = Date.parse(obs.capturedAt);
    if (t <= (this.lastSeen.get(obs.fixtureId) ?? Number.NEGATIVE_INFINITY)) return [];
    this.lastSeen.set(obs.fixtureId, t);
    const planned = this.masterdata.current().plannedSkus(obs.fixtureId);
    const counts = new Map(obs.skus.map((s) => [s.sku, s.count]));
    // Without a planogram: every SKU ever seen on the fixture is tracked.
    const skus = planned.length
      ? planned.map((p) => p.sku)
      : [
          ...new Set([
            ...counts.keys(),
            ...[...this.trackers.keys()].filter((k) => k.startsWith(`${obs.fixtureId}|`)).map((k) => k.split('|')[1]!),
          ]),
        ];
    const changed: StockoutAlert[] = [];
    for (const sku of skus) {
      const key = `${obs.fixtureId}|${sku}`;
      let tr = this.trackers.get(key);
      if (!tr) this.trackers.set(key, (tr = new StockoutTracker(obs.outletId, obs.fixtureId, sku, this.h)));
      const r = tr.feed(t, counts.get(sku) ?? 0);
      if (!r) continue;
      const e = r.event;
      const alert: StockoutAlert = {
        id: `${obs.fixtureId}|${sku}|${e.start}`,
        type: 'stockout',
        state: r.change === 'open' ? 'open' : 'closed',
        outletId: e.outletId,
        fixtureId: e.fixtureId,
        sku,
        start: new Date(e.start).toISOString(),
        raisedAt: new Date(e.raisedAt).toISOString(),
        end: e.end === null ? null : new Date(e.end).toISOString(),
        clearedAt: e.clearedAt === null ? null : new Date(e.clearedAt).toISOString(),
      };
      const prev = this.alerts.get(alert.id);
      const merged: StockoutAlert = {
        ...alert,
        ...(prev?.acknowledgedAt ? { acknowledgedAt: prev.acknowledgedAt, acknowledgedBy: prev.acknowledgedBy! } : {}),
      };
      this.record(merged);
      changed.push(merged);
    }
    return changed;
  }

  private record(alert: StockoutAlert): void {
    this.alerts.set(alert.id, alert);
    if (this.file) appendFileSync(this.file, `${JSON.stringify(alert)}\n`);
    this.emit('alert', alert);
  }

  get(id: string): StockoutAlert | undefined {
    return this.alerts.get(id);
  }

  /**
   * Acknowledge (someone is on it) or resolve (closed by hand: the tracker is reset, so the next
   * capture that still shows the SKU out opens a new alert). Returns the updated alert. Emits
   * `act` unless `relayed` (an act another cluster process took and this one replays).
   */
  act(
    id: string,
    action: 'acknowledge' | 'resolve',
    by: string,
    at = new Date(),
    relayed = false,
  ): StockoutAlert | undefined {
    const a = this.alerts.get(id);
    if (!a) return undefined;
    if (!relayed) this.emit('act', { id, action, by, at: at.toISOString() });
    const iso = at.toISOString();
    const next: StockoutAlert =
      action === 'acknowledge'
        ? { ...a, acknowledgedAt: a.acknowledgedAt ?? iso, acknowledgedBy: a.acknowledgedBy ?? by }
        : { ...a, state: 'closed', resolvedAt: iso, resolvedBy: by, clearedAt: a.clearedAt ?? iso };
    if (action === 'resolve' && a.state === 'open') this.trackers.delete(`${a.fixtureId}|${a.sku}`);
    this.record(next);
    return next;
  }
}
