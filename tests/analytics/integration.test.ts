import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMarket, type MarketRun } from '../../simulators/src/market/index.js';
import { DuckDbStore } from '../../cloud/src/store/index.js';
import { MasterDataRegistry } from '../../cloud/src/masterdata/index.js';
import { AlertEngine, AnalyticsService } from '../../cloud/src/analytics/service.js';
import { checkSales, checkStockouts, checkPromotions } from '../../cloud/src/analytics/eval/truthcheck.js';
import { createAnalyticsRouter } from '../../cloud/src/api/analytics.js';
import { errorHandler, notFound } from '../../cloud/src/api/errors.js';

let run: MarketRun;
let store: DuckDbStore;
let service: AnalyticsService;
let alerts: AlertEngine;
let server: Server;
let base: string;

beforeAll(async () => {
  run = runMarket({ seed: 7, outlets: 10, weeks: 2 });
  store = await DuckDbStore.open({ path: ':memory:' });
  const md = MasterDataRegistry.inMemory();
  md.import(JSON.parse(JSON.stringify(run.world.master)));
  alerts = new AlertEngine(':memory:', md);
  const received = new Date();
  for (const o of run.observations) {
    await store.writeObservation(o, received);
    alerts.onObservation({ ...o, capturedAt: new Date(o.capturedAt).toISOString() });
  }
  service = new AnalyticsService(store, md);
  const app = express();
  app.use('/api/v1', createAnalyticsRouter({ service, alerts }));
  app.use(notFound);
  app.use(errorHandler(pino({ level: 'silent' })));
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
}, 120_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await store?.close();
});

describe('market sim → DuckDB store → analytics, against truth', () => {
  it('weekly sales per outlet-SKU within 5% MAPE', async () => {
    const e = await service.engine({});
    const s = checkSales(e, run.truth);
    expect(s.cells).toBeGreaterThan(100);
    expect(s.mape).toBeLessThanOrEqual(0.05);
  });

  it('stockout detection: precision and recall ≥ 98%, median delay ≤ 1 capture', async () => {
    const e = await service.engine({});
    const s = checkStockouts(e, run.truth, run.world.config.captureIntervalMin * 60_000);
    expect(s.observableStockouts).toBeGreaterThan(10);
    expect(s.precision).toBeGreaterThanOrEqual(0.98);
    expect(s.recall).toBeGreaterThanOrEqual(0.98);
    expect(s.medianDelayCaptures).toBeLessThanOrEqual(1);
  });

  it('the live alert engine raised the same stockouts as the replay', async () => {
    const e = await service.engine({});
    const replay = e.stockouts();
    expect(alerts.list()).toHaveLength(replay.length);
    expect(alerts.list().filter((a) => a.state === 'open')).toHaveLength(replay.filter((x) => x.end === null).length);
  });

  it('promotion analysis yields an ROI and a 90% interval (accuracy is checked by the eval over seeds)', async () => {
    const e = await service.engine({});
    const p = checkPromotions(e, run.truth, 200);
    expect(p).toHaveLength(2);
    for (const x of p) {
      expect(Number.isFinite(x.estimatedRoi)).toBe(true);
      expect(x.interval!.low).toBeLessThanOrEqual(x.interval!.high);
    }
  });
});

describe('analytics API', () => {
  const get = async (path: string, init?: RequestInit) => fetch(`${base}${path}`, init);

  it('serves every metric with pagination', async () => {
    for (const p of [
      '/analytics/facings?by=brand',
      '/analytics/share-of-shelf',
      '/analytics/purity',
      '/analytics/availability?by=sku',
      '/analytics/availability',
      '/analytics/compliance',
      '/analytics/stockouts',
      '/analytics/alerts',
      '/analytics/sales?period=week',
      '/analytics/promotions?resamples=200',
      '/analytics/outlet-scores',
      '/analytics/replenishment?all=true',
    ]) {
      const res = await get(p);
      expect(res.status, p).toBe(200);
      const body = (await res.json()) as { items: unknown[]; total: number };
      expect(body.items.length, p).toBeGreaterThan(0);
    }
    const page = (await (await get('/analytics/sales?period=day&limit=5&offset=5')).json()) as {
      items: unknown[];
      nextOffset: number | null;
      total: number;
    };
    expect(page.items).toHaveLength(5);
    expect(page.nextOffset).toBe(10);
  });

  it('filters by region, brand and SKU', async () => {
    const region = run.world.master.outlets[0]!.region;
    const body = (await (await get(`/analytics/outlet-scores?region=${region}&limit=1000`)).json()) as {
      items: { region: string }[];
    };
    expect(body.items.every((x) => x.region === region)).toBe(true);
    const sku = run.world.master.fixtures[0]!.positions[0]!.sku;
    const s = (await (await get(`/analytics/sales?period=total&sku=${sku}&limit=1000`)).json()) as {
      items: { sku: string }[];
    };
    expect(s.items.length).toBeGreaterThan(0);
    expect(s.items.every((x) => x.sku === sku)).toBe(true);
  });

  it('exports CSV with format=csv or Accept: text/csv', async () => {
    const a = await get('/analytics/outlet-scores?format=csv');
    expect(a.headers.get('content-type')).toMatch(/text\/csv/);
    const text = await a.text();
    expect(text.split('\r\n')[0]).toBe(
      'outletId,region,city,channel,grade,score,availability,compliance,purity,salesPerDay,salesIndex',
    );
    const b = await get('/analytics/stockouts', { headers: { accept: 'text/csv' } });
    expect((await b.text()).startsWith('outletId,fixtureId,sku,state,')).toBe(true);
  });

  it.each([
    ['/analytics/sales?period=month', 'period'],
    ['/analytics/sales?from=yesterday', 'from'],
    ['/analytics/sales?from=2026-03-05T00:00:00Z&to=2026-03-01T00:00:00Z', 'to'],
    ['/analytics/facings?limit=0', 'limit'],
    ['/analytics/facings?offset=-1', 'offset'],
    ['/analytics/facings?outletId=a/b', 'outletId'],
    ['/analytics/facings?colour=red', 'colour'],
    ['/analytics/replenishment?horizonHours=0', 'horizonHours'],
    ['/analytics/promotions?promotionId=nope', 'promotionId'],
    ['/analytics/sales?format=xml', 'format'],
  ])('400 for %s names %s', async (path, param) => {
    const res = await get(path);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; details: { param: string; message: string }[] };
    expect(body.details.map((d) => d.param)).toContain(param);
    expect(body.details[0]!.message.length).toBeGreaterThan(0);
  });

  it('imports master data and rejects an invalid document with the failing path', async () => {
    const ok = await get('/masterdata/import', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(run.world.master),
    });
    expect(ok.status).toBe(200);
    const bad = await get('/masterdata/import', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...run.world.master, outlets: [{ outletId: 'x' }] }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { details: { param: string }[] };
    expect(body.details.some((d) => d.param.startsWith('outlets.0'))).toBe(true);
  });
});
