import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import sharp from 'sharp';
import type { MqttClient } from 'mqtt';
import { topics, type Command } from '@shelfsight/protocol';
import { startCloud, type RunningCloud } from '@shelfsight/cloud';
import { makeObservation } from '../cloud/helpers/observations.js';
import { connectDevice } from '../cloud/helpers/cloud.js';
import type { MarketRun } from '../../simulators/src/market/index.js';
import { giveShelvesTo, seedMarket } from './seed.js';
import { launchChromium } from '../helpers/chromium.js';

const dashboardRoot = fileURLToPath(new URL('../../dashboard', import.meta.url));
const artifacts = fileURLToPath(new URL('../../artifacts/dashboard', import.meta.url));

describe('dashboard in headless Chromium against a running cloud', () => {
  let outDir: string;
  let cloud: RunningCloud;
  let browser: Browser;
  let page: Page;
  let dev: MqttClient;
  let run: MarketRun;
  let deviceId: string;
  let fixture: MarketRun['world']['master']['fixtures'][number];
  const pageErrors: string[] = [];
  let step = 'setup';
  const external: string[] = [];

  const shot = async (name: string) => {
    await page.waitForTimeout(400); // chart animations
    await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  };
  const apiAsPage = <T>(path: string): Promise<T> =>
    page.evaluate(async (p) => (await fetch(`/api/v1${p}`)).json(), path) as Promise<T>;

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    outDir = mkdtempSync(join(tmpdir(), 'shelfsight-dash-'));
    await build({ root: dashboardRoot, logLevel: 'silent', build: { outDir, emptyOutDir: true, sourcemap: 'hidden' } });
    cloud = await startCloud(
      {
        httpPort: 0,
        mqttPort: 0,
        dataDir: ':memory:',
        logLevel: 'silent',
        commandTimeoutMs: 5000,
        dashboardDir: outDir,
      },
      { requireLogin: true, print: () => {} },
    );
    run = await seedMarket(cloud, { outlets: 12, weeks: 2 });
    fixture = run.world.master.fixtures.find((f) => f.kind === 'branded-cooler')!;
    deviceId = fixture.deviceId!;
    dev = await connectDevice(cloud, deviceId);
    // A fake agent: answers capture-now with a fresh observation.
    await dev.subscribeAsync(topics.commands(deviceId), { qos: 1 });
    dev.on('message', (topic, payload) => {
      if (topic !== topics.commands(deviceId)) return;
      const cmd = JSON.parse(payload.toString()) as Command;
      const obs = makeObservation({
        deviceId,
        outletId: fixture.outletId,
        fixtureId: fixture.fixtureId,
        capturedAt: new Date().toISOString(),
        seq: 99,
        skus: [{ sku: fixture.positions[0]!.sku, count: 5, facings: 3 }],
      });
      void dev.publishAsync(topics.observations(deviceId), JSON.stringify(obs), { qos: 1 }).then(() =>
        dev.publishAsync(
          topics.replies(deviceId),
          JSON.stringify({
            commandId: cmd.id,
            deviceId,
            ok: true,
            at: new Date().toISOString(),
            observationId: obs.messageId,
          }),
          { qos: 1 },
        ),
      );
    });
    await dev.publishAsync(
      topics.status(deviceId),
      JSON.stringify({
        deviceId,
        state: 'online',
        at: new Date().toISOString(),
        agentVersion: '0.1.0',
        model: { name: 'shelf-yolo', version: '1.0.0' },
        health: {
          cpuPercent: 12,
          rssMb: 80,
          outboxDepth: 0,
          lastCaptureLatencyMs: 640,
          uptimeS: 100,
          capturesOk: 10,
          capturesFailed: 0,
        },
      }),
      { qos: 1, retain: true },
    );
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 900 }, locale: 'en-GB' });
    // The step and the whole stack, so a rare error under CI load can be traced (`sourcemap: 'hidden'`
    // in the dashboard build leaves .map files beside the bundle to map the positions back).
    page.on('pageerror', (err) => pageErrors.push(`[${step}] ${err.message}\n${err.stack ?? ''}`.slice(0, 3000)));
    page.on('request', (r) => {
      if (!r.url().startsWith(cloud.httpUrl) && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
        external.push(r.url());
    });
  }, 180_000);

  beforeEach((ctx) => {
    step = ctx.task.name;
  });

  afterAll(async () => {
    await browser?.close();
    await dev?.endAsync();
    await cloud?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('refuses the API without a session, then signs in as admin', async () => {
    expect((await fetch(`${cloud.httpUrl}/api/v1/analytics/overview`)).status).toBe(401);
    await page.goto(`${cloud.httpUrl}/?range=30d`);
    await page.locator('form.login__form').waitFor();
    await shot('01-login');
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', 'wrong-password');
    await page.click('button[type=submit]');
    await page.locator('.form-error', { hasText: 'Wrong username or password' }).waitFor();
    await page.fill('input[name=password]', cloud.users.initialAdminPassword!);
    await page.click('button[type=submit]');
    await page.locator('[data-testid=who]').waitFor();
    expect(new URL(page.url()).search).toBe('?range=30d'); // back where the link pointed
  });

  it('overview: KPI tiles equal the API, trends and worst lists render', async () => {
    await page.locator('[data-testid=overview][data-ready="1"]').waitFor({ timeout: 30_000 });
    const query = await page.locator('[data-testid=overview]').getAttribute('data-query');
    const o = await apiAsPage<{ kpis: Record<string, number>; worstOutlets: { outletId: string }[] }>(
      `/analytics/overview${query}`,
    );
    expect(o.kpis.captures).toBeGreaterThan(100);
    for (const k of ['availability', 'shareOfShelf', 'purity', 'compliance', 'openStockouts'])
      expect(Number(await page.locator(`[data-kpi=${k}]`).getAttribute('data-raw')), k).toBe(o.kpis[k]);
    expect(Number(await page.locator('[data-kpi=sales]').getAttribute('data-raw'))).toBe(o.kpis.salesUnits);
    const availText = await page.locator('[data-kpi=availability] .tile__value').textContent();
    expect(availText).toBe(`${(o.kpis.availability! * 100).toFixed(1)}%`);
    await page.locator('[data-testid=trend-shelf] canvas').waitFor();
    const firstWorst = await page.locator('[data-testid=worst-outlets] tbody tr').first().getAttribute('data-outlet');
    expect(firstWorst).toBe(o.worstOutlets[0]!.outletId);
    await shot('02-overview');
  });

  it('filters live in the URL and narrow the numbers', async () => {
    const region = run.world.master.outlets[0]!.region;
    await page.selectOption('select[data-filter=region]', region);
    await page.waitForURL((u) => u.searchParams.get('region') === region);
    await page.locator('[data-testid=overview][data-ready="1"]').waitFor();
    await expect
      .poll(() => page.locator('[data-testid=overview]').getAttribute('data-query'))
      .toContain(`region=${region}`);
    await page.locator('[data-kpi=availability]').waitFor();
    await shot('03-overview-filtered');
    // Moving between pages keeps the filters in use; pages that do not use them get a clean address.
    await page.click('a.nav__link[href="/outlets"]');
    await page.waitForURL((u) => u.pathname === '/outlets');
    expect(new URL(page.url()).searchParams.get('region')).toBe(region);
    expect(new URL(page.url()).searchParams.get('range')).toBe('30d');
    await page.click('a.nav__link[href="/devices"]');
    await page.waitForURL((u) => u.pathname === '/devices');
    expect(new URL(page.url()).search).toBe('');
    await page.goBack();
    await page.click('a.nav__link[href="/"]');
    await page.waitForURL((u) => u.pathname === '/');
    await expect.poll(() => page.locator('select[data-filter=region]').inputValue()).toBe(region);
    await page.goto(`${cloud.httpUrl}/?range=30d`);
  });

  it('outlets: sortable list with grades, map, and an outlet page with the capture drawn', async () => {
    await page.click('a.nav__link[href="/outlets"]');
    await page.locator('[data-testid=outlets-table] tbody tr').first().waitFor({ timeout: 20_000 });
    const q = (await page.locator('[data-testid=outlets]').getAttribute('data-query'))!;
    const scores = await apiAsPage<{ total: number }>(`/analytics/outlet-scores${q}&limit=1`);
    await expect(page.locator('.count').textContent()).resolves.toContain(String(scores.total));
    await page.click('[data-testid=outlets-table] th[data-col=score]'); // ascending
    const shown = (await page.locator('[data-testid=outlets-table] tbody tr td[data-col=score]').allTextContents()).map(
      Number,
    );
    expect(shown.length).toBe(Math.min(25, scores.total));
    expect([...shown].sort((x, y) => x - y)).toEqual(shown);
    await page.locator('[data-testid=outlet-map] canvas').waitFor();
    await shot('04-outlets');
    // A map container that collapses to zero height (e.g. mid-navigation) must not make the geo view throw.
    await page.locator('[data-testid=outlet-map]').evaluate(async (el: HTMLElement) => {
      const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      el.style.height = '0px';
      await frame();
      el.style.height = '';
      await frame();
    });

    // A fresh capture with detections for the outlet page.
    const pos = fixture.positions.slice(0, 6);
    const obs = makeObservation({
      deviceId,
      outletId: fixture.outletId,
      fixtureId: fixture.fixtureId,
      capturedAt: new Date().toISOString(),
      seq: 50,
      image: { width: 1280, height: 960, brightness: 0.5, qualityFlags: [] },
      skus: [{ sku: pos[0]!.sku, count: 4, facings: 2 }],
      detections: pos.map((p, i) => ({
        kind: i === 5 ? 'empty' : 'product',
        ...(i === 5 ? {} : { sku: p.sku }),
        box: [0.05 + i * 0.15, 0.1, 0.13, 0.3],
        confidence: 0.9,
        row: 0,
        column: i,
        facing: true,
      })),
    });
    await dev.publishAsync(topics.observations(deviceId), JSON.stringify(obs), { qos: 1 });
    await page.goto(`${cloud.httpUrl}/outlets/${fixture.outletId}?range=30d`);
    await page.locator('[data-testid=capture] svg rect').nth(6).waitFor({ timeout: 20_000 });
    await expect(page.locator('[data-testid=capture] text').first().textContent()).resolves.toBe(pos[0]!.sku);
    await page.locator('[data-testid=history] canvas').waitFor();
    await shot('05-outlet');
  });

  it('alerts: a simulated stockout appears live, then is acknowledged and resolved', async () => {
    await page.click('a.nav__link[href="/alerts"]');
    await page.locator('[data-testid=alert-feed] .state, [data-testid=alert-feed] table').first().waitFor();
    const sku = fixture.positions[0]!.sku;
    const out = makeObservation({
      deviceId,
      outletId: fixture.outletId,
      fixtureId: fixture.fixtureId,
      capturedAt: new Date(Date.now() + 1000).toISOString(),
      seq: 51,
      skus: [],
      emptyFacings: 8,
    });
    await dev.publishAsync(topics.observations(deviceId), JSON.stringify(out), { qos: 1 });
    const row = page.locator(`[data-testid=alert-feed] tr[data-state=open]:has(td[data-col=sku]:text-is("${sku}"))`);
    await row.waitFor({ timeout: 15_000 });
    await expect(row.locator('.pill--new').count()).resolves.toBe(1);
    await shot('06-alerts');
    await row.locator('[data-action=ack]').click();
    await row.locator('text=Acknowledged by admin').waitFor();
    await row.locator('[data-action=resolve]').click();
    await page
      .locator(`[data-testid=alert-feed] tr[data-state=open]:has(td[data-col=sku]:text-is("${sku}"))`)
      .waitFor({ state: 'detached' });
  });

  it('promotions: create one and see it listed, with its uplift page', async () => {
    await page.click('a.nav__link[href="/promotions"]');
    await page.locator('[data-testid=promos-table], .state--empty, .state--error').first().waitFor({ timeout: 60_000 });
    if (await page.locator('.state--error').count())
      throw new Error(`promotions page: ${await page.locator('.state--error .muted').textContent()}`);
    await page.click('[data-action=new-promo]');
    const form = page.locator('[data-testid=promo-form]');
    await form.waitFor();
    await form.locator('input[name=promotionId]').fill('e2e-spring');
    await form.locator('input[name=name]').fill('E2E spring push');
    const m = run.world.master;
    await form.locator('select[name=skus]').selectOption([m.skus.find((s) => s.own)!.sku]);
    await form.locator('select[name=outletIds]').selectOption(m.outlets.slice(0, 3).map((o) => o.outletId));
    const start = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
    await form.locator('input[name=start]').fill(start);
    await form.locator('input[name=end]').fill(new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10));
    await shot('07-promotion-form');
    await form.locator('[data-action=save]').click();
    await page.locator('[data-testid=promos-table] tr[data-promo=e2e-spring]').waitFor({ timeout: 30_000 });
    await shot('08-promotions');
    await page.click('[data-testid=promos-table] tr[data-promo=e2e-spring] a');
    await page.locator('[data-testid=uplift] canvas').waitFor({ timeout: 30_000 });
    await shot('09-promotion');
  });

  it('devices: fleet health and capture-now with its result', async () => {
    await page.click('a.nav__link[href="/devices"]');
    const row = page.locator(`[data-testid=devices-table] tr[data-device=${deviceId}]`);
    await row.waitFor({ timeout: 15_000 });
    await expect(row.locator('td[data-col=latency]').textContent()).resolves.toBe('640 ms');
    await row.locator('[data-action=capture]').click();
    await row.locator('.capture-result.good').waitFor({ timeout: 15_000 });
    await expect(row.locator('.capture-result').textContent()).resolves.toMatch(/Captured: 5 products/);
    await shot('10-devices');
  });

  it('catalog: own and competitor SKUs, and enrolling a SKU from uploaded photos', async () => {
    await page.click('a.nav__link[href="/catalog"]');
    await page.locator('[data-testid=catalog-own] tbody tr').first().waitFor();
    const before = await apiAsPage<{ gallery: { version: string } }>('/catalog');
    await expect(page.locator('[data-testid=gallery-version]').textContent()).resolves.toContain(
      before.gallery.version,
    );
    // Two pack photos: crops of committed frames, written as files the way a user would pick them.
    const fixtures = fileURLToPath(new URL('../fixtures/recognition', import.meta.url));
    const coco = JSON.parse(readFileSync(join(fixtures, 'annotations.json'), 'utf8')) as {
      images: { id: number; file_name: string; width: number; height: number }[];
      annotations: { image_id: number; bbox: number[]; facing?: boolean }[];
    };
    const photoDir = mkdtempSync(join(tmpdir(), 'shelfsight-photos-'));
    const photos = await Promise.all(
      coco.annotations
        .filter((a) => a.facing && a.bbox[3]! > 60)
        .slice(0, 2)
        .map(async (a, i) => {
          const im = coco.images.find((x) => x.id === a.image_id)!;
          const [x, y, w, h] = a.bbox.map(Math.round) as [number, number, number, number];
          const file = join(photoDir, `pack-${i}.jpg`);
          await sharp(join(fixtures, im.file_name)).extract({ left: x, top: y, width: w, height: h }).toFile(file);
          return file;
        }),
    );
    const sku = fixture.positions[0]!.sku;
    await page.selectOption('[data-testid=enroll-sku]', sku);
    await page.setInputFiles('[data-testid=enroll-images]', photos);
    await page.locator('.previews img').nth(1).waitFor();
    await page.click('[data-action=enroll]');
    const done = page.locator('[data-testid=enroll-result] p.good');
    const failed = page.locator('[data-testid=enroll-form] .form-error');
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid=enroll-result] p.good') ||
        document.querySelector('[data-testid=enroll-form] .form-error')?.textContent,
      undefined,
      { timeout: 30_000 },
    );
    expect(await failed.textContent()).toBe('');
    const after = await apiAsPage<{ gallery: { version: string }; items: { sku: string; source: string | null }[] }>(
      '/catalog',
    );
    expect(after.gallery.version).not.toBe(before.gallery.version);
    await expect(done.getAttribute('data-version')).resolves.toBe(after.gallery.version);
    expect(after.items.find((x) => x.sku === sku)!.source).toBe('enrolled');
    // The list reloads with the SKU's reference images and its new gallery state.
    const row = page.locator(`tr[data-sku="${sku}"]`);
    await row.locator('td[data-col=img] img').first().waitFor({ timeout: 15_000 });
    await row.locator('.pill--new').waitFor();
    await page.locator('[data-testid=gallery-history] tbody tr').nth(1).waitFor();
    await shot('11-catalog');
  });

  it('switches to Chinese: every visible label changes', async () => {
    await page.click('a.nav__link[href="/"]');
    await page.click('[data-action=lang]');
    await page.locator('a.nav__link', { hasText: '概览' }).waitFor();
    await page.locator('[data-testid=overview][data-ready="1"]').waitFor({ timeout: 30_000 });
    await expect(page.locator('[data-kpi=availability] .tile__label').textContent()).resolves.toBe('在架率');
    await expect(page.evaluate(() => document.documentElement.lang)).resolves.toBe('zh-CN');
    await shot('12-overview-zh');
    await page.click('[data-action=lang]');
  });

  it('tablet width keeps the layout usable', async () => {
    await page.setViewportSize({ width: 820, height: 1180 });
    await page.goto(`${cloud.httpUrl}/?range=30d`);
    await page.locator('[data-testid=overview][data-ready="1"]').waitFor({ timeout: 30_000 });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('13-overview-tablet');
    await page.setViewportSize({ width: 1366, height: 900 });
  });

  it('a brand manager sees only the brand’s outlets and cannot write', async () => {
    const own = run.world.master.skus.find((s) => s.own)!.brand;
    // Kodiak's cameras watch the ambient shelves; the branded coolers stay the own brand's.
    const allowed = await giveShelvesTo(cloud, 'Kodiak');
    const res = await fetch(`${cloud.httpUrl}/api/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cloud.identity.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bm', password: 'manager-pass-1', role: 'brand_manager', brand: 'Kodiak' }),
    });
    expect(res.status).toBe(201);
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const p2 = await ctx.newPage();
    await p2.goto(`${cloud.httpUrl}/outlets?range=30d`);
    await p2.fill('input[name=username]', 'bm');
    await p2.fill('input[name=password]', 'manager-pass-1');
    await p2.click('button[type=submit]');
    await p2.locator('[data-testid=who]', { hasText: 'Kodiak' }).waitFor();
    await p2.locator('[data-testid=outlets-table], .state--empty').first().waitFor({ timeout: 20_000 });
    const scoped = (await p2.evaluate(async () =>
      (await fetch('/api/v1/analytics/outlet-scores?limit=1000')).json(),
    )) as { items: { outletId: string }[] };
    expect(allowed.size).toBeGreaterThan(0);
    expect(allowed.size).toBeLessThan(run.world.master.outlets.length);
    expect(scoped.items.length).toBe(allowed.size);
    for (const x of scoped.items) expect(allowed.has(x.outletId)).toBe(true);
    const rows = await p2.locator('[data-testid=outlets-table] tbody tr').count();
    expect(rows).toBe(Math.min(scoped.items.length, 25));
    // Another brand's promotion is not found (404); writes are refused even with the CSRF header (403).
    const status = await p2.evaluate(async () => {
      const del = await fetch('/api/v1/masterdata/promotions/e2e-spring', {
        method: 'DELETE',
        headers: { 'x-shelfsight-csrf': '1' },
      });
      const create = await fetch('/api/v1/masterdata/promotions', {
        method: 'POST',
        headers: { 'x-shelfsight-csrf': '1', 'content-type': 'application/json' },
        body: '{}',
      });
      return [del.status, create.status];
    });
    expect(status).toEqual([404, 403]);
    await p2.screenshot({ path: join(artifacts, '14-brand-manager-outlets.png'), fullPage: true });
    await ctx.close();
    expect(own).toBeTruthy();
  });

  it('made no requests outside the cloud and threw no page errors', () => {
    expect(external).toEqual([]);
    expect(pageErrors.map((e) => mapStack(e, outDir))).toEqual([]);
  });
});

/** Maps the bundle positions in a browser stack back to dashboard sources, via the hidden source maps. */
const mapStack = (stack: string, distDir: string): string => {
  const maps = new Map<string, SourceMap | null>();
  return stack.replace(/https?:\/\/[^/\s]+\/(assets\/[^:\s)]+\.js):(\d+):(\d+)/g, (all, file: string, l, c) => {
    if (!maps.has(file)) {
      const path = join(distDir, `${file}.map`);
      maps.set(file, existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, 'utf8'))) : null);
    }
    const e = maps.get(file)?.findEntry(Number(l) - 1, Number(c) - 1);
    return e && 'originalSource' in e ? `${e.originalSource}:${e.originalLine + 1}:${e.originalColumn + 1}` : all;
  });
};
