import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import type { MqttClient } from 'mqtt';
import { topics } from '@shelfsight/protocol';
import type { RunningCloud } from '@shelfsight/cloud';
import { makeObservation } from '../cloud/helpers/observations.js';
import { connectDevice, startTestCloud } from '../cloud/helpers/cloud.js';

const dashboardRoot = fileURLToPath(new URL('../../dashboard', import.meta.url));
const artifacts = fileURLToPath(new URL('../../artifacts', import.meta.url));

describe('dashboard in headless Chromium', () => {
  let outDir: string;
  let cloud: RunningCloud;
  let browser: Browser;
  let page: Page;
  let dev: MqttClient;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // Build into a temp dir so the test never depends on (or clobbers) dashboard/dist.
    outDir = mkdtempSync(join(tmpdir(), 'shelfsight-dash-'));
    await build({ root: dashboardRoot, logLevel: 'silent', build: { outDir, emptyOutDir: true } });
    cloud = await startTestCloud({ dashboardDir: outDir });
    dev = await connectDevice(cloud, 'cam-0042');
    browser = await chromium.launch({
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
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  afterAll(async () => {
    await browser?.close();
    await dev?.endAsync();
    await cloud?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  const publish = (obs: ReturnType<typeof makeObservation>) =>
    dev.publishAsync(topics.observations(obs.deviceId), JSON.stringify(obs), { qos: 1 });

  it('shows the empty state, then cards that update live without reload', async () => {
    await page.goto(cloud.httpUrl + '/');
    await page.getByText('No coolers have reported yet.').waitFor({ timeout: 10_000 });
    await page.locator('.conn--live').waitFor({ timeout: 10_000 });

    const first = makeObservation({
      deviceId: 'cam-0042',
      outletId: 'shanghai-xuhui-017',
      fixtureId: 'cooler-front',
      capturedAt: new Date(Date.now() - 4 * 60_000).toISOString(),
      skus: [
        { sku: 'cola-330ml', count: 14, facings: 6 },
        { sku: 'orange-soda-330ml', count: 8, facings: 4 },
        { sku: 'green-tea-500ml', count: 5, facings: 3 },
        { sku: 'rival-cola-330ml', count: 3, facings: 2 },
      ],
      emptyFacings: 2,
      unknownProducts: 1,
    });
    await publish(first);
    const card = page.locator('article[data-fixture="cooler-front"]');
    await card.waitFor({ timeout: 10_000 });
    await expect(card.locator('.card__outlet').textContent()).resolves.toBe('shanghai-xuhui-017');
    await expect(card.locator('tr[data-sku="cola-330ml"] td.num').first().textContent()).resolves.toBe('6');

    // A second device/fixture, with quality problems, to see a mixed grid.
    const other = makeObservation({
      deviceId: 'cam-0042',
      outletId: 'shanghai-xuhui-017',
      fixtureId: 'cooler-back',
      capturedAt: new Date(Date.now() - 60_000).toISOString(),
      image: { width: 1280, height: 720, qualityFlags: ['too_dark', 'door_open'] },
      skus: [
        { sku: 'mineral-water-550ml', count: 12, facings: 6 },
        { sku: 'cola-330ml', count: 2, facings: 1 },
      ],
      emptyFacings: 0,
      unknownProducts: 0,
    });
    await publish(other);
    await page.locator('article[data-fixture="cooler-back"] .flag').first().waitFor({ timeout: 10_000 });

    // The live update of an existing card: cola sold down, more empty facings.
    const update = makeObservation({
      ...first,
      messageId: crypto.randomUUID(),
      seq: 2,
      capturedAt: new Date().toISOString(),
      skus: [
        { sku: 'cola-330ml', count: 3, facings: 2 },
        { sku: 'orange-soda-330ml', count: 8, facings: 4 },
        { sku: 'green-tea-500ml', count: 5, facings: 3 },
        { sku: 'rival-cola-330ml', count: 6, facings: 4 },
      ],
      emptyFacings: 4,
    });
    await publish(update);
    await page.locator(`article[data-message="${update.messageId}"]`).waitFor({ timeout: 10_000 });
    await expect(card.locator('tr[data-sku="cola-330ml"] td.num').first().textContent()).resolves.toBe('2');
    await expect(card.locator('.kpi--bad .kpi__value').textContent()).resolves.toBe('4');
    await expect(page.locator('article.card').count()).resolves.toBe(2);
    await expect(page.locator('#summary').textContent()).resolves.toMatch(/2 coolers/);

    await page.waitForTimeout(1800); // let the update flash finish so the screenshot shows the resting state
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('keeps working after a reload (state comes from REST)', async () => {
    await page.reload();
    await page.locator('article.card').nth(1).waitFor({ timeout: 10_000 });
    await expect(page.locator('article.card').count()).resolves.toBe(2);
  });
});
