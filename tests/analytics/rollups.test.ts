import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMarket, type MarketRun } from '../../simulators/src/market/index.js';
import { DuckDbStore } from '../../cloud/src/store/index.js';
import { MasterDataRegistry } from '../../cloud/src/masterdata/index.js';
import { AnalyticsEngine } from '../../cloud/src/analytics/engine.js';
import { AnalyticsCube, cubeOverview, type CubeScope } from '../../cloud/src/analytics/cube.js';
import { toSeries, type CaptureLike } from '../../cloud/src/analytics/load.js';
import { overview } from '../../cloud/src/analytics/overview.js';
import { AnalyticsService } from '../../cloud/src/analytics/service.js';
import { dailySales, estimateFixtureSales, DEFAULT_SALES_OPTIONS } from '../../cloud/src/analytics/sales.js';
import { facingsAndShare, skuAvailability } from '../../cloud/src/analytics/shelf.js';
import { DEFAULT_CLOCK, type FixtureSeries } from '../../cloud/src/analytics/series.js';

/**
 * Rollup-based KPIs (AnalyticsCube) against the raw computation: the AnalyticsEngine over the
 * window's captures, with sales taken from the full-history estimate clipped to the window (the
 * cube's definition, written out here the plain way).
 */
let run: MarketRun;
let store: DuckDbStore;
let md: MasterDataRegistry;
let captures: CaptureLike[];

/** The engine with its daily sales replaced by a given map (everything else is the engine's own code). */
class RawEngine extends AnalyticsEngine {
  constructor(
    series: FixtureSeries[],
    master: AnalyticsEngine['master'],
    private readonly daily: Map<string, number>,
  ) {
    super(series, master);
  }
  override dailySales(): Map<string, number> {
    return this.daily;
  }
}

/** Deep equality with numbers compared to 1e-9 (relative); reports the path of the first difference. */
const near = (a: unknown, b: unknown, path = '$'): string | null => {
  if (typeof a === 'number' && typeof b === 'number')
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)) ? null : `${path}: ${a} vs ${b}`;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = near(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) return `${path}: keys ${ka.join()} vs ${kb.join()}`;
    for (const k of ka) {
      const d = near((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${path}: ${String(a)} vs ${String(b)}`;
};

const raw = (cube: AnalyticsCube, scope: CubeScope, all = captures): RawEngine => {
  const from = scope.from?.getTime() ?? -Infinity;
  const to = scope.to?.getTime() ?? Infinity;
  const keep = (c: CaptureLike) =>
    (!scope.outlets || scope.outlets.has(c.outletId)) && (!scope.fixtures || scope.fixtures.has(c.fixtureId));
  const inWindow = all.filter((c) => keep(c) && Date.parse(c.capturedAt) >= from && Date.parse(c.capturedAt) < to);
  const daily = new Map<string, number>();
  const weights = cube.hourWeights();
  for (const s of toSeries(all.filter(keep))) {
    const o = md.current().outlets.get(s.outletId);
    const clock = o ?? DEFAULT_CLOCK;
    const res = estimateFixtureSales(s, clock, DEFAULT_SALES_OPTIONS, weights, md.current().plannedSkus(s.fixtureId));
    const kept = res.intervals.filter((iv) => iv.from >= from && iv.to < to);
    for (const [k, u] of dailySales(kept, clock)) {
      const key = `${s.outletId}|${k}`;
      daily.set(key, (daily.get(key) ?? 0) + u);
    }
  }
  return new RawEngine(toSeries(inWindow), md.current(), daily);
};

beforeAll(async () => {
  run = runMarket({ seed: 11, outlets: 8, weeks: 2 });
  store = await DuckDbStore.open({ path: ':memory:' });
  md = MasterDataRegistry.inMemory();
  md.import(JSON.parse(JSON.stringify(run.world.master)));
  const received = new Date();
  await Promise.all(run.observations.map((o) => store.writeObservation(o, received)));
  captures = run.observations.map((o) => ({ ...o, capturedAt: new Date(o.capturedAt).toISOString() }));
}, 120_000);

afterAll(async () => {
  await store?.close();
});

describe('analytics rollups (AnalyticsCube) against the raw computation', () => {
  const times = () => captures.map((c) => Date.parse(c.capturedAt)).sort((a, b) => a - b);
  const hour = 3_600_000;

  it('over all history: sales equal the unmodified engine, every KPI equals the engine over the captures', async () => {
    const cube = new AnalyticsCube(store, md, { profileMaxAgeMs: 0 });
    const w = await cube.window({ outlets: null });
    const engine = new AnalyticsEngine(toSeries(captures), md.current());
    // Same data, same pooled hour shape (≤ 100 fixtures → all of them): the engine's own sales.
    expect(cube.hourWeights()).toEqual(engine.demand().hourWeights);
    expect(near(w.sales('day'), engine.sales('day'))).toBeNull();
    expect(near(w.outletScores(), engine.outletScores())).toBeNull();
    expect(near(w.stockouts(), engine.stockouts())).toBeNull();
    expect(near(w.facings('sku'), facingsAndShare(engine.series, engine.lookup, 'sku'))).toBeNull();
    expect(near(cubeOverview(w, {}), overview(engine, {}))).toBeNull();
  });

  it('over hour-aligned windows, with outlet, brand and SKU filters', async () => {
    const cube = new AnalyticsCube(store, md, { profileMaxAgeMs: 0 });
    const t = times();
    const start = Math.ceil(t[0]! / hour) * hour;
    const region = run.world.master.outlets[0]!.region;
    const outlets = new Set(run.world.master.outlets.filter((o) => o.region === region).map((o) => o.outletId));
    const brand = run.world.master.skus.find((s) => s.own)!.brand;
    const sku = run.world.master.fixtures[0]!.positions[0]!.sku;
    const scopes: CubeScope[] = [
      {
        from: new Date(start + 3 * 86_400_000 + 5 * hour),
        to: new Date(start + 10 * 86_400_000 + 7 * hour),
        outlets: null,
      },
      { from: new Date(start + 86_400_000), to: new Date(start + 8 * 86_400_000), outlets },
      { to: new Date(start + 6 * 86_400_000 + 13 * hour), outlets: null },
    ];
    for (const scope of scopes) {
      const w = await cube.window(scope);
      const e = raw(cube, scope);
      expect(w.captures).toBe(e.series.reduce((s, x) => s + x.captures.length, 0));
      expect(w.captures).toBeGreaterThan(0);
      for (const f of [{}, { brand }, { sku }])
        expect(near(cubeOverview(w, f, 100), overview(e, f, 100)), JSON.stringify(f)).toBeNull();
      expect(near(w.sales('week'), e.sales('week'))).toBeNull();
      expect(near(w.stockouts(), e.stockouts())).toBeNull();
      expect(near(w.outletScores(), e.outletScores())).toBeNull();
      expect(near(w.facings('brand'), facingsAndShare(e.series, e.lookup, 'brand'))).toBeNull();
      expect(
        near(
          w.skuAvailability(),
          skuAvailability(e.series, (f) => e.master.plannedSkus(f)),
        ),
      ).toBeNull();
    }
  });

  it('maintained incrementally: half loaded from the store, the rest added out of order, equals a full load', async () => {
    const t = times();
    const cut = t[Math.floor(t.length / 2)]!;
    const half = await DuckDbStore.open({ path: ':memory:' });
    const received = new Date();
    await Promise.all(
      run.observations.filter((o) => Date.parse(o.capturedAt) < cut).map((o) => half.writeObservation(o, received)),
    );
    const inc = new AnalyticsCube(half, md, { profileMaxAgeMs: 0 });
    await inc.ready();
    const rest = captures.filter((c) => Date.parse(c.capturedAt) >= cut);
    // Newest first: each one lands before the ones already added (the out-of-order path).
    for (const c of [...rest].reverse()) inc.add(c);
    const full = new AnalyticsCube(store, md, { profileMaxAgeMs: 0 });
    const scope = { from: new Date(cut - 4 * 86_400_000), to: new Date(t[t.length - 1]! + 1), outlets: null };
    const a = await inc.window(scope);
    const b = await full.window(scope);
    expect(inc.captures).toBe(full.captures);
    expect(near(cubeOverview(a, {}), cubeOverview(b, {}))).toBeNull();
    expect(near(a.sales('day'), b.sales('day'))).toBeNull();
    await half.close();
  });

  it('picks up writes that bypassed ingest, and a master-data import', async () => {
    const empty = await DuckDbStore.open({ path: ':memory:' });
    // Cached windows may be catchUpIntervalMs stale for writes that bypass ingest; none here.
    const cube = new AnalyticsCube(empty, md, { profileMaxAgeMs: 0, catchUpIntervalMs: 0, catchUpMinMs: 0 });
    expect((await cube.window({ outlets: null })).captures).toBe(0);
    const received = new Date();
    await Promise.all(run.observations.slice(0, 500).map((o) => empty.writeObservation(o, received)));
    expect((await cube.window({ outlets: null })).captures).toBe(500);
    const before = cubeOverview(await cube.window({ outlets: null }), {});
    const doc = JSON.parse(JSON.stringify(run.world.master)) as typeof run.world.master;
    doc.fixtures = doc.fixtures.map((f) => ({ ...f, positions: f.positions.slice(1) }));
    md.import(doc);
    try {
      const after = cubeOverview(await cube.window({ outlets: null }), {});
      expect(after.kpis.compliance).not.toBe(before.kpis.compliance);
    } finally {
      md.import(JSON.parse(JSON.stringify(run.world.master)));
    }
    await empty.close();
  });

  it('caches (whole days, stockout replays, windows, sales tables, overview bodies) equal a fresh computation after new data', async () => {
    const t = times();
    const cut = t[Math.floor(t.length * 0.7)]!;
    const part = await DuckDbStore.open({ path: ':memory:' });
    const received = new Date();
    await Promise.all(
      run.observations.filter((o) => Date.parse(o.capturedAt) < cut).map((o) => part.writeObservation(o, received)),
    );
    // The default profile age (1 h): the hour shape stays fitted on the first part; raw() uses the cube's.
    const svc = new AnalyticsService(part, md);
    const end = Math.ceil((t[t.length - 1]! + 1) / hour) * hour;
    const region = run.world.master.outlets[0]!.region;
    const inRegion = run.world.master.outlets.filter((o) => o.region === region).map((o) => o.outletId);
    const brand = run.world.master.skus.find((s) => s.own)!.brand;
    const round = (o: object) =>
      Object.fromEntries(
        Object.entries(o).map(([k, x]) => [k, typeof x === 'number' ? Math.round(x * 10_000) / 10_000 : x]),
      );
    const scopes = [
      { from: new Date(end - 7 * 86_400_000), to: new Date(end) },
      { from: new Date(end - 3 * 86_400_000 - 5 * hour), to: new Date(end - 2 * hour) },
      { from: new Date(end - 7 * 86_400_000), to: new Date(end), region },
    ];
    /** The service's overview body against the engine over the raw captures (same hour shape). */
    let held = captures.filter((c) => Date.parse(c.capturedAt) < cut);
    const check = async (scope: (typeof scopes)[number], f: { brand?: string }) => {
      const body = await svc.overview(scope, f, 10);
      const outlets = scope.region ? new Set(inRegion) : null;
      const e = raw(svc.cube, { ...scope, outlets }, held);
      const prev = raw(
        svc.cube,
        { from: new Date(2 * scope.from.getTime() - scope.to.getTime()), to: scope.from, outlets },
        held,
      );
      const o = overview(e, f, 10);
      const want = {
        from: scope.from.toISOString(),
        to: scope.to.toISOString(),
        kpis: round(o.kpis),
        previous: round(overview(prev, f, 0).kpis),
        trend: o.trend.map(round),
        worstOutlets: o.worstOutlets.map(round),
        worstSkus: o.worstSkus.map(round),
      };
      expect(near(body, want), JSON.stringify([scope, f])).toBeNull();
      // Sales pages come from the pre-aggregated table: a filtered slice of the engine's rows.
      const w = await svc.window(scope);
      const rows = e.sales('day').filter((r) => !f.brand || e.lookup(r.sku).brand === f.brand);
      const page = w.salesPage('day', f, 3, 17);
      expect(page.total).toBe(rows.length);
      expect(near(page.rows, rows.slice(3, 20))).toBeNull();
      return body;
    };
    // The dashboard's default overviews are computed ahead: the first request is a cache hit.
    const warmed = await svc.prewarm(end - 1);
    expect(await svc.overview({ from: new Date(end - 7 * 86_400_000), to: new Date(end) }, {}, 10)).toBe(warmed[0]);
    const before = await Promise.all(scopes.map((s) => check(s, {})));
    expect(await svc.overview(scopes[0]!, {}, 10)).toBe(before[0]); // warm: O(1)
    const regionWindow = await svc.window(scopes[2]!);
    const allWindow = await svc.window(scopes[0]!);

    // New data of one fixture outside the region (out of order): only windows holding it are rebuilt.
    const rest = captures.filter((c) => Date.parse(c.capturedAt) >= cut);
    const other = rest.find((c) => !inRegion.includes(c.outletId))!.fixtureId;
    const first = rest.filter((c) => c.fixtureId === other);
    for (const c of [...first].reverse()) svc.cube.add(c);
    held = [...held, ...first];
    expect(await svc.window(scopes[2]!)).toBe(regionWindow);
    expect(await svc.overview(scopes[2]!, {}, 10)).toBe(before[2]);
    expect(await svc.window(scopes[0]!)).not.toBe(allWindow);
    expect(near(await check(scopes[0]!, {}), before[0])).not.toBeNull();

    // Then everything else (newest first): every cached result equals the raw computation.
    for (const c of [...rest.filter((c) => c.fixtureId !== other)].reverse()) svc.cube.add(c);
    held = captures;
    for (const scope of scopes) for (const f of [{}, { brand }]) await check(scope, f);
    await part.close();
  });
});
