/**
 * Capture → browser latency: a device publishes an observation showing a stockout (QoS 1, through
 * the embedded broker, validated ingest, DuckDB, the alert engine and socket.io), and headless
 * Chromium, signed in on the Stockouts & alerts page, shows the new alert row. Latency is the
 * time from just before the publish until a MutationObserver in the page sees the row (both read
 * the same system clock). Also reported: publish → PUBACK (= stored, D5).
 *
 *   npx vitest run --config dashboard/bench/vitest.bench.config.ts capture-to-browser   (env BENCH_ROUNDS)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';
import { build } from 'vite';
import { launchChromium } from '../../tests/helpers/chromium.js';
import type { MqttClient } from 'mqtt';
import { startCloud } from '@shelfsight/cloud';
import { topics } from '@shelfsight/protocol';
import { makeObservation } from '../../tests/cloud/helpers/observations.js';
import { connectDevice } from '../../tests/cloud/helpers/cloud.js';
import { seedMarket } from '../../tests/dashboard/seed.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

it(`capture → browser latency over ${ROUNDS} stockouts`, async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'shelfsight-c2b-'));
  await build({
    root: fileURLToPath(new URL('..', import.meta.url)),
    logLevel: 'silent',
    build: { outDir, emptyOutDir: true },
  });
  const cloud = await startCloud(
    { httpPort: 0, mqttPort: 0, dataDir: ':memory:', logLevel: 'silent', dashboardDir: outDir },
    { requireLogin: true, print: () => {} },
  );
  const run = await seedMarket(cloud, { outlets: Math.max(12, ROUNDS), weeks: 1 });
  const fixtures = run.world.master.fixtures.filter((f) => f.positions.length > 0).slice(0, ROUNDS);
  if (fixtures.length < ROUNDS) throw new Error(`only ${fixtures.length} fixtures with a planogram`);

  const browser = await launchChromium();
  const devices: MqttClient[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await page.goto(cloud.httpUrl);
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', cloud.users.initialAdminPassword!);
    await page.click('button[type=submit]');
    await page.locator('a.nav__link[href="/alerts"]').click();
    await page.locator('[data-testid=alert-feed] .state, [data-testid=alert-feed] table').first().waitFor();
    await page.evaluate(() => {
      const w = window as unknown as { __seen: Map<string, number> };
      w.__seen = new Map();
      const scan = () => {
        const now = Date.now();
        for (const tr of document.querySelectorAll('tr[data-alert][data-state=open]')) {
          const id = tr.getAttribute('data-alert')!;
          if (!w.__seen.has(id)) w.__seen.set(id, now);
        }
      };
      scan();
      new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
    });
    const seen = () =>
      page.evaluate(() => [...(window as unknown as { __seen: Map<string, number> }).__seen.entries()]);

    const toBrowser: number[] = [];
    const toStored: number[] = [];
    for (const [i, f] of fixtures.entries()) {
      const deviceId = f.deviceId ?? `c2b-dev-${i}`;
      const dev = await connectDevice(cloud, deviceId);
      devices.push(dev);
      const before = new Set((await seen()).map(([id]) => id));
      const obs = makeObservation({
        deviceId,
        outletId: f.outletId,
        fixtureId: f.fixtureId,
        capturedAt: new Date(Date.now() + 1000).toISOString(),
        seq: 1_000 + i,
        skus: [],
        emptyFacings: f.positions.length,
      });
      const t0 = Date.now();
      await dev.publishAsync(topics.observations(deviceId), JSON.stringify(obs), { qos: 1 });
      toStored.push(Date.now() - t0);
      await page.waitForFunction(
        (n) => (window as unknown as { __seen: Map<string, number> }).__seen.size > n,
        before.size,
        { timeout: 30_000, polling: 50 },
      );
      const fresh = (await seen()).filter(([id]) => !before.has(id)).map(([, t]) => t);
      toBrowser.push(Math.min(...fresh) - t0);
      process.stderr.write(`\r${i + 1}/${fixtures.length} stockouts shown`);
    }
    process.stderr.write('\n');
    const result = {
      rounds: toBrowser.length,
      captureToBrowserMs: { p50: pct(toBrowser, 50), p95: pct(toBrowser, 95), max: Math.max(...toBrowser) },
      publishToStoredMs: { p50: pct(toStored, 50), p95: pct(toStored, 95) },
    };
    console.log(JSON.stringify(result));
  } finally {
    for (const d of devices) await d.endAsync().catch(() => {});
    await browser.close();
    await cloud.close();
    rmSync(outDir, { recursive: true, force: true });
  }
});
