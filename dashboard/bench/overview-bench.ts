/**
 * Overview speed: N outlets × D days of synthetic history loaded through the store's bulk path
 * (concurrent writeObservation calls, which the DuckDB adapter group-commits), then the cloud is
 * restarted on that store (as after a bulk import) and the time until its analytics rollups are
 * loaded is printed. Headless Chromium signs in and times navigation → overview data shown
 * (`[data-ready="1"]`), cold (first request for the window) and warm (cached window). Then the REST
 * API: p50/p95 per endpoint over 4 windows × 6 rounds (the first round of each window is cold).
 *
 *   npx vitest run --config dashboard/bench/vitest.bench.config.ts   (env BENCH_OUTLETS, BENCH_DAYS, BENCH_INTERVAL_MIN)
 *
 * BENCH_STORE=influx runs the same on an influxd from Debian's `influxdb` package (started on a free
 * port with a throwaway data dir) instead of the embedded DuckDB file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { it } from 'vitest';
import { build } from 'vite';
import { launchChromium } from '../../tests/helpers/chromium.js';
import { pino } from 'pino';
import { startCloud, DuckDbStore, InfluxStore, type TimeSeriesStore } from '@shelfsight/cloud';
import { startInfluxd, type Influxd } from '../../tests/helpers/influxd.js';
import { Observation } from '@shelfsight/protocol';

const OUTLETS = Number(process.env.BENCH_OUTLETS ?? 1000);
const DAYS = Number(process.env.BENCH_DAYS ?? 90);
const INTERVAL_MIN = Number(process.env.BENCH_INTERVAL_MIN ?? 120);
const SKUS = Array.from({ length: 12 }, (_, i) => `aur-sku-${i}`);
const RIVALS = ['riv-sku-0', 'riv-sku-1'];
const STORE = process.env.BENCH_STORE ?? 'duckdb';
if (STORE !== 'duckdb' && STORE !== 'influx') throw new Error('BENCH_STORE must be duckdb or influx');

it(`overview with ${OUTLETS} outlets × ${DAYS} days`, async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'shelfsight-bench-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'shelfsight-bench-data-'));
  await build({
    root: fileURLToPath(new URL('..', import.meta.url)),
    logLevel: 'silent',
    build: { outDir, emptyOutDir: true },
  });
  const dbPath = join(dataDir, 'bench.duckdb');
  let influxd: Influxd | undefined;
  if (STORE === 'influx') influxd = await startInfluxd();
  const openStore = async (): Promise<TimeSeriesStore> =>
    influxd
      ? InfluxStore.open({ url: influxd.url, database: 'bench', createDatabase: true })
      : DuckDbStore.open({ path: dbPath });
  console.log(`store: ${STORE}${influxd ? ` (${influxd.url})` : ''}`);
  const first = await startCloud(
    { httpPort: 0, mqttPort: 0, dataDir, logLevel: 'silent', dashboardDir: outDir },
    { store: await openStore(), requireLogin: true, print: () => {} },
  );
  const password = first.users.initialAdminPassword!;
  const regions = ['East', 'South', 'North', 'West'];
  const master = {
    version: 1,
    skus: [
      ...SKUS.map((sku) => ({ sku, brand: 'Aurora', own: true, name: sku, price: 4, unitCost: 2 })),
      ...RIVALS.map((sku) => ({ sku, brand: 'Delta', own: false, name: sku, price: 4, unitCost: 2 })),
    ],
    outlets: Array.from({ length: OUTLETS }, (_, i) => ({
      outletId: `o${String(i).padStart(4, '0')}`,
      name: `Outlet ${i}`,
      region: regions[i % 4]!,
      city: `City ${i % 20}`,
      channel: i % 3 ? 'convenience' : 'supermarket',
      lat: 22 + (i % 17),
      lon: 104 + (i % 19),
    })),
    fixtures: Array.from({ length: OUTLETS }, (_, i) => ({
      fixtureId: `o${String(i).padStart(4, '0')}-c1`,
      outletId: `o${String(i).padStart(4, '0')}`,
      deviceId: `cam-${i}`,
      kind: 'branded-cooler',
      positions: SKUS.flatMap((sku, k) => [0, 1].map((c) => ({ row: k % 6, column: (k >> 1) * 2 + c, sku, depth: 4 }))),
    })),
    promotions: [],
  };
  const r = await fetch(`${first.httpUrl}/api/v1/masterdata/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${first.identity.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(master),
  });
  if (!r.ok) throw new Error(await r.text());
  await first.close();
  const store = await openStore();

  const t0 = Date.now();
  const end = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const start = end - DAYS * 86_400_000;
  let n = 0;
  let seed = 1;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let t = start; t < end; t += INTERVAL_MIN * 60_000) {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < OUTLETS; i++) {
      const obs = Observation.parse({
        messageId: randomUUID(),
        deviceId: `cam-${i}`,
        outletId: `o${String(i).padStart(4, '0')}`,
        fixtureId: `o${String(i).padStart(4, '0')}-c1`,
        capturedAt: new Date(t).toISOString(),
        seq: n,
        model: { name: 'bench', version: '1' },
        image: { width: 1280, height: 720, qualityFlags: [] },
        skus: [...SKUS, ...RIVALS].map((sku) => {
          const count = Math.floor(rnd() * 8);
          return { sku, count, facings: Math.min(2, count) };
        }),
        emptyFacings: 0,
        unknownProducts: 0,
        inferenceMs: 40,
      });
      batch.push(store.writeObservation(obs, new Date()));
      n++;
    }
    await Promise.all(batch);
  }
  const loadS = (Date.now() - t0) / 1000;
  console.log(`loaded ${n} observations in ${loadS.toFixed(1)} s (${Math.round(n / loadS)}/s)`);

  // Restart on the loaded store: the analytics rollups load from it in the background.
  let rollupsReady!: (line: string) => void;
  const ready = new Promise<string>((r) => (rollupsReady = r));
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        if (line.includes('analytics rollup')) rollupsReady(line);
      },
    },
  );
  const t1 = Date.now();
  const cloud = await startCloud(
    { httpPort: 0, mqttPort: 0, dataDir, logLevel: 'info', dashboardDir: outDir },
    { store, logger, requireLogin: true, print: () => {} },
  );
  const line = await ready;
  const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
  console.log(
    `restart → analytics rollups ready: ${((Date.now() - t1) / 1000).toFixed(1)} s, RSS ${rss} MB (${line.trim()})`,
  );

  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  await page.goto(`${cloud.httpUrl}/login`);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.locator('[data-testid=who]').waitFor();
  const times: Record<string, number> = {};
  for (const [name, url] of [
    ['7d cold', '/?range=7d'],
    ['7d warm', '/?range=7d'],
    ['30d cold', '/?range=30d'],
    ['30d warm', '/?range=30d'],
    ['90d cold', '/?range=90d'],
    ['90d warm', '/?range=90d'],
    ['90d East cold', '/?range=90d&region=East'],
    ['7d convenience Aurora cold', '/?range=7d&channel=convenience&brand=Aurora'],
  ] as const) {
    const a = Date.now();
    await page.goto(cloud.httpUrl + url);
    await page.locator('[data-testid=overview][data-ready="1"]').waitFor({ timeout: 300_000 });
    times[name] = Date.now() - a;
  }
  console.log(`navigation → overview data shown (ms): ${JSON.stringify(times)}`);
  await page.screenshot({
    path: fileURLToPath(new URL('../../artifacts/dashboard/bench-overview.png', import.meta.url)),
  });
  await browser.close();

  // REST API: each endpoint over the dashboard's 4 windows, 6 rounds (round 1 = cold per window).
  const auth = { authorization: `Bearer ${cloud.identity.adminToken}` };
  const hourEnd = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
  const windows = [1, 7, 30, 90].map(
    (d) => `from=${new Date(hourEnd - d * 86_400_000).toISOString()}&to=${new Date(hourEnd).toISOString()}`,
  );
  const endpoints = [
    '/analytics/overview?',
    '/analytics/share-of-shelf?',
    '/analytics/facings?by=sku&',
    '/analytics/availability?by=sku&',
    '/analytics/availability?',
    '/analytics/compliance?',
    '/analytics/purity?',
    '/analytics/stockouts?state=open&',
    '/analytics/sales?period=day&',
    '/analytics/outlet-scores?',
  ];
  const pct = (xs: number[], q: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]!;
  const api: Record<string, { p50: number; p95: number; max: number; cold: number }> = {};
  for (const ep of endpoints) {
    const all: number[] = [];
    const cold: number[] = [];
    for (let round = 0; round < 6; round++)
      for (const w of windows) {
        const a = performance.now();
        const res = await fetch(`${cloud.httpUrl}/api/v1${ep}${w}`, { headers: auth });
        if (!res.ok) throw new Error(`${ep}: HTTP ${res.status}`);
        await res.arrayBuffer();
        const ms = performance.now() - a;
        all.push(ms);
        if (round === 0) cold.push(ms);
      }
    api[ep.replace(/[?&]$/, '')] = {
      p50: Math.round(pct(all, 0.5)),
      p95: Math.round(pct(all, 0.95)),
      max: Math.round(Math.max(...all)),
      cold: Math.round(Math.max(...cold)),
    };
  }
  console.log('REST API ms (24 requests each: 4 windows × 6 rounds; cold = slowest first request of a window):');
  console.table(api);
  await cloud.close();
  await influxd?.stop();
  rmSync(outDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}, 3_600_000);
