/**
 * Overview speed: N outlets × D days of synthetic history loaded through the store's bulk path
 * (concurrent writeObservation calls, which the DuckDB adapter group-commits with appenders), then
 * headless Chromium signs in and times navigation → overview data shown (`[data-ready="1"]`), cold
 * (first request for the window) and warm (cached engine).
 *
 *   npx vitest run --config dashboard/bench/vitest.bench.config.ts   (env BENCH_OUTLETS, BENCH_DAYS, BENCH_INTERVAL_MIN)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { it } from 'vitest';
import { build } from 'vite';
import { chromium } from 'playwright-core';
import { startCloud, DuckDbStore } from '@shelfsight/cloud';
import { Observation } from '@shelfsight/protocol';

const OUTLETS = Number(process.env.BENCH_OUTLETS ?? 1000);
const DAYS = Number(process.env.BENCH_DAYS ?? 90);
const INTERVAL_MIN = Number(process.env.BENCH_INTERVAL_MIN ?? 120);
const SKUS = Array.from({ length: 12 }, (_, i) => `aur-sku-${i}`);
const RIVALS = ['riv-sku-0', 'riv-sku-1'];

it(`overview with ${OUTLETS} outlets × ${DAYS} days`, async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'shelfsight-bench-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'shelfsight-bench-data-'));
  await build({
    root: fileURLToPath(new URL('..', import.meta.url)),
    logLevel: 'silent',
    build: { outDir, emptyOutDir: true },
  });
  const store = await DuckDbStore.open({ path: join(dataDir, 'bench.duckdb') });
  const cloud = await startCloud(
    { httpPort: 0, mqttPort: 0, dataDir, logLevel: 'silent', dashboardDir: outDir },
    { store, requireLogin: true, print: () => {} },
  );
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
  const r = await fetch(`${cloud.httpUrl}/api/v1/masterdata/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cloud.identity.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(master),
  });
  if (!r.ok) throw new Error(await r.text());

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

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  await page.goto(`${cloud.httpUrl}/login`);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', cloud.users.initialAdminPassword!);
  await page.click('button[type=submit]');
  await page.locator('[data-testid=who]').waitFor();
  const times: Record<string, number> = {};
  for (const [name, url] of [
    ['7d cold', '/?range=7d&channel=convenience'],
    ['7d warm', '/?range=7d&channel=convenience'],
    ['30d cold', '/?range=30d&region=East'],
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
  await cloud.close();
  rmSync(outDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}, 3_600_000);
