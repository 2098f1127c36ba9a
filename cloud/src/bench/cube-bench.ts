/**
 * Analytics rollups without HTTP or a store (docs/decisions.md D13): N outlets × D days of the
 * synthetic captures of dashboard/bench/overview-bench.ts, served by an in-memory `scanCounts`, then
 * the AnalyticsService's overview timed as the API computes it: load + sales precompute, the
 * background prewarm of the default views, warm requests, the first requests after the hour moves
 * (new windows over cached whole days), the 90 d overview after one new observation (inside and
 * outside the scope), a region scope, and a page of `sales?period=day`.
 *   node cloud/dist/bench/cube-bench.js [--outlets 1000] [--days 90] [--interval-min 360]
 */
import { parseArgs } from 'node:util';
import { AnalyticsService } from '../analytics/service.js';
import { MasterDataRegistry } from '../masterdata/index.js';
import type { CountRecord, CountScanQuery, TimeSeriesStore } from '../store/index.js';

const { values } = parseArgs({
  options: {
    outlets: { type: 'string', default: '1000' },
    days: { type: 'string', default: '90' },
    'interval-min': { type: 'string', default: '360' },
  },
});
const OUTLETS = Number(values.outlets);
const DAYS = Number(values.days);
const INTERVAL = Number(values['interval-min']) * 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const SKUS = Array.from({ length: 12 }, (_, i) => `aur-sku-${i}`);
const ALL = [...SKUS, 'riv-sku-0', 'riv-sku-1'];
const regions = ['East', 'South', 'North', 'West'];
const oid = (i: number) => `o${String(i).padStart(4, '0')}`;

const md = MasterDataRegistry.inMemory();
md.import({
  version: 1,
  skus: [
    ...SKUS.map((sku) => ({ sku, brand: 'Aurora', own: true, name: sku, price: 4, unitCost: 2 })),
    ...['riv-sku-0', 'riv-sku-1'].map((sku) => ({ sku, brand: 'Delta', own: false, name: sku, price: 4, unitCost: 2 })),
  ],
  outlets: Array.from({ length: OUTLETS }, (_, i) => ({
    outletId: oid(i),
    name: `Outlet ${i}`,
    region: regions[i % 4]!,
    city: `City ${i % 20}`,
    channel: i % 3 ? 'convenience' : 'supermarket',
    lat: 22 + (i % 17),
    lon: 104 + (i % 19),
  })),
  fixtures: Array.from({ length: OUTLETS }, (_, i) => ({
    fixtureId: `${oid(i)}-c1`,
    outletId: oid(i),
    deviceId: `cam-${i}`,
    kind: 'branded-cooler',
    positions: SKUS.flatMap((sku, k) => [0, 1].map((c) => ({ row: k % 6, column: (k >> 1) * 2 + c, sku, depth: 4 }))),
  })),
  promotions: [],
} as Parameters<MasterDataRegistry['import']>[0]);

const end = Math.floor(Date.now() / HOUR) * HOUR;
const start = end - DAYS * DAY;
const steps = Math.floor((end - start) / INTERVAL);
const total = steps * OUTLETS;
const record = (i: number): CountRecord => {
  let seed = (i * 2654435761) % 2 ** 31;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const o = i % OUTLETS;
  return {
    messageId: `m${i}`,
    outletId: oid(o),
    fixtureId: `${oid(o)}-c1`,
    capturedAt: new Date(start + Math.floor(i / OUTLETS) * INTERVAL).toISOString(),
    skus: ALL.map((sku) => {
      const count = Math.floor(rnd() * 8);
      return { sku, count, facings: Math.min(2, count) };
    }),
    emptyFacings: 0,
    unknownProducts: 0,
  };
};
const store = {
  scanCounts: async (q: CountScanQuery) => {
    if (q.receivedFrom) return { items: [], nextCursor: null };
    const from = Number(q.cursor ?? 0);
    const to = Math.min(total, from + (q.limit ?? 1000));
    const items: CountRecord[] = [];
    for (let i = from; i < to; i++) items.push(record(i));
    return { items, nextCursor: to < total ? String(to) : null };
  },
} as unknown as TimeSeriesStore;

const svc = new AnalyticsService(store, md);
const ms = async <T>(f: () => Promise<T> | T): Promise<[number, T]> => {
  const a = performance.now();
  const v = await f();
  return [Math.round((performance.now() - a) * 10) / 10, v];
};
const scope = (days: number, to: number, region?: string) => ({
  from: new Date(to - days * DAY),
  to: new Date(to),
  ...(region ? { region } : {}),
});
const out: Record<string, number> = {};
const now = Date.now();
const to = Math.ceil(now / HOUR) * HOUR;

[out['load + sales precompute']] = await ms(() => svc.cube.warm());
[out['prewarm 7/30/90 d + 24 h']] = await ms(() => svc.prewarm(now));
for (const d of [7, 30, 90]) [out[`${d} d warm`]] = await ms(() => svc.overview(scope(d, to), {}, 10));
for (const d of [7, 30, 90])
  [out[`${d} d, hour moved (new window)`]] = await ms(() => svc.overview(scope(d, to + HOUR), {}, 10));
[out['90 d East, cold scope']] = await ms(() => svc.overview(scope(90, to, 'East'), {}, 10));
[out['90 d Aurora filter']] = await ms(() => svc.overview(scope(90, to), { brand: 'Aurora' }, 10));
[out['90 d South, cold scope']] = await ms(() => svc.overview(scope(90, to, 'South'), {}, 10));
// One new observation of o0000 (region East).
svc.cube.add({ ...record(total - OUTLETS), capturedAt: new Date(end + 60_000).toISOString() });
[out['after 1 new obs: 90 d South (not in scope: cached)']] = await ms(() =>
  svc.overview(scope(90, to, 'South'), {}, 10),
);
[out['after 1 new obs: 90 d all']] = await ms(() => svc.overview(scope(90, to), {}, 10));
[out['after 1 new obs: 90 d East']] = await ms(() => svc.overview(scope(90, to, 'East'), {}, 10));
const w = await svc.window(scope(90, to));
[out['sales?period=day 90 d page (table cached)']] = await ms(() => w.salesPage('day', {}, 5000, 100));
[out['sales?period=day 90 d sku filter (first)']] = await ms(() => w.salesPage('day', { sku: 'aur-sku-3' }, 0, 100));
console.log(
  `cube-bench: ${OUTLETS} outlets × ${DAYS} days, ${total} captures, ${w.sales('day').length} sales rows (90 d)`,
);
console.table(out);
