import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { io as ioClient, type Socket } from 'socket.io-client';
import { topics } from '@shelfsight/protocol';
import { startCloud, type RunningCloud } from '@shelfsight/cloud';
import { connectDevice, waitFor } from './helpers/cloud.js';
import { makeObservation } from './helpers/observations.js';

/**
 * Tenant isolation: two brands (Alpha, Beta) with their own outlets, fixtures, devices, data,
 * promotions and alerts, a shop where both have a cooler, and a fixture that is no brand's. Every
 * route registered on the express app must have a case below (the list is checked against the
 * app's router stack, so a new route without one fails this test); every response a brand manager
 * gets is searched for the other brand's ids. Live socket.io events are checked per brand room.
 */

type Brand = 'alpha' | 'beta';
const other = (b: Brand): Brand => (b === 'alpha' ? 'beta' : 'alpha');

const SKUS = [
  { sku: 'alpha-cola', brand: 'Alpha', own: true, name: 'Alpha Cola', price: 3, unitCost: 1.2 },
  { sku: 'alpha-lemon', brand: 'Alpha', own: true, name: 'Alpha Lemon', price: 3, unitCost: 1.2 },
  { sku: 'beta-cola', brand: 'Beta', own: true, name: 'Beta Cola', price: 3, unitCost: 1.1 },
  { sku: 'beta-tea', brand: 'Beta', own: true, name: 'Beta Tea', price: 4, unitCost: 1.5 },
  { sku: 'rival-fizz', brand: 'Rival', own: false, name: 'Rival Fizz', price: 2.5, unitCost: 1 },
];

const outlet = (outletId: string, city: string) => ({
  outletId,
  name: `${city} store`,
  region: 'East',
  city,
  channel: 'convenience',
  lat: 31.2,
  lon: 121.5,
});

const positions = (skus: string[]) => skus.map((sku, column) => ({ row: 0, column, sku, depth: 6 }));

/** Planned SKUs: the brand's own two plus, in Alpha's coolers, the other brand's and a competitor's (context). */
const fixture = (fixtureId: string, outletId: string, deviceId: string | null, skus: string[], brand?: string) => ({
  fixtureId,
  outletId,
  ...(deviceId ? { deviceId } : {}),
  kind: 'branded-cooler' as const,
  captureIntervalMin: 15,
  positions: positions(skus),
  ...(brand ? { brand } : {}),
});

const ALPHA_SKUS = ['alpha-cola', 'alpha-cola', 'alpha-lemon', 'alpha-lemon', 'beta-cola', 'rival-fizz'];
const BETA_SKUS = ['beta-cola', 'beta-cola', 'beta-tea', 'beta-tea', 'rival-fizz'];

const side = {
  alpha: {
    brand: 'Alpha',
    username: 'alpha-manager',
    outlets: ['outlet-alpha-1', 'outlet-alpha-2'],
    fixtures: ['fix-alpha-1', 'fix-alpha-2', 'fix-alpha-shared'],
    devices: ['dev-alpha-1', 'dev-alpha-2', 'dev-alpha-shared'],
    promotion: 'promo-alpha',
    promotionName: 'Alpha confidential spring push',
    sku: 'alpha-lemon',
  },
  beta: {
    brand: 'Beta',
    username: 'beta-manager',
    outlets: ['outlet-beta-1', 'outlet-beta-2'],
    // fix-beta-3 holds Alpha's SKUs but is Beta's by its explicit brand; dev-beta-4 is in no master
    // data and becomes Beta's by reporting from fix-beta-4.
    fixtures: ['fix-beta-1', 'fix-beta-2', 'fix-beta-shared', 'fix-beta-3', 'fix-beta-4'],
    devices: ['dev-beta-1', 'dev-beta-2', 'dev-beta-shared', 'dev-beta-3', 'dev-beta-4'],
    promotion: 'promo-beta',
    promotionName: 'Beta confidential summer push',
    sku: 'beta-tea',
  },
};
const SHARED_OUTLET = 'outlet-shared';
/** A shelf of competitor SKUs only: no brand's, admins only. */
const NOBODY = { fixture: 'fix-nobody', device: 'dev-nobody', outlet: 'outlet-beta-2' };

const now = Date.now();
const iso = (msAgo: number) => new Date(now - msAgo).toISOString();
const DAY = 86_400_000;

const MASTER = {
  version: 1,
  currency: 'CNY',
  skus: SKUS,
  outlets: [
    outlet('outlet-alpha-1', 'Shanghai'),
    outlet('outlet-alpha-2', 'Hangzhou'),
    outlet('outlet-beta-1', 'Suzhou'),
    outlet('outlet-beta-2', 'Nanjing'),
    outlet(SHARED_OUTLET, 'Ningbo'),
  ],
  fixtures: [
    fixture('fix-alpha-1', 'outlet-alpha-1', 'dev-alpha-1', ALPHA_SKUS),
    fixture('fix-alpha-2', 'outlet-alpha-2', 'dev-alpha-2', ALPHA_SKUS),
    fixture('fix-alpha-shared', SHARED_OUTLET, 'dev-alpha-shared', ALPHA_SKUS),
    fixture('fix-beta-1', 'outlet-beta-1', 'dev-beta-1', BETA_SKUS),
    fixture('fix-beta-2', 'outlet-beta-2', 'dev-beta-2', BETA_SKUS),
    fixture('fix-beta-shared', SHARED_OUTLET, 'dev-beta-shared', BETA_SKUS),
    fixture('fix-beta-3', 'outlet-beta-1', 'dev-beta-3', ['alpha-cola', 'alpha-lemon'], 'Beta'),
    fixture('fix-beta-4', 'outlet-beta-2', null, BETA_SKUS),
    { ...fixture(NOBODY.fixture, NOBODY.outlet, NOBODY.device, ['rival-fizz', 'rival-fizz']), kind: 'shelf' as const },
  ],
  promotions: [
    {
      promotionId: 'promo-alpha',
      name: side.alpha.promotionName,
      skus: ['alpha-cola'],
      // Also runs in a Beta outlet (Beta's fix-beta-3 carries Alpha Cola): Alpha must not learn its id.
      outletIds: ['outlet-alpha-1', 'outlet-alpha-2', SHARED_OUTLET, 'outlet-beta-1'],
      start: iso(3 * DAY),
      end: iso(-DAY),
      discountPct: 0.1,
      cost: 300,
    },
    {
      promotionId: 'promo-beta',
      name: side.beta.promotionName,
      skus: ['beta-tea'],
      outletIds: ['outlet-beta-1', 'outlet-beta-2', SHARED_OUTLET],
      start: iso(3 * DAY),
      end: iso(-DAY),
      discountPct: 0.15,
      cost: 200,
    },
  ],
};

const fixtureOf = new Map(MASTER.fixtures.map((f) => [f.fixtureId, f]));
/** The device reporting from a fixture: its master-data device, or the unlisted one. */
const deviceOf = (f: (typeof MASTER.fixtures)[number]): string => f.deviceId ?? 'dev-beta-4';

/** One capture: the first planned SKU stocked, the brand's second SKU out (a stockout), the rest present. */
const capture = (fixtureId: string, capturedAt: string, seq: number) => {
  const f = fixtureOf.get(fixtureId)!;
  const planned = [...new Set(f.positions.map((p) => p.sku))];
  return makeObservation({
    deviceId: deviceOf(f),
    outletId: f.outletId,
    fixtureId,
    capturedAt,
    seq,
    skus: planned.map((sku, i) => ({ sku, count: i === 1 ? 0 : 5 + i, facings: i === 1 ? 0 : 2 })),
  });
};

interface Reply {
  status: number;
  text: string;
}

describe('tenant isolation: every route and live event, brand against brand', () => {
  let cloud: RunningCloud;
  const cookie: Record<Brand | 'admin', string> = { alpha: '', beta: '', admin: '' };
  const secrets: Record<Brand, string[]> = { alpha: [], beta: [] };
  const devices = new Map<string, MqttClient>();
  const commandsSeen: string[] = [];
  const sockets: Socket[] = [];
  const events: Record<Brand | 'admin', { event: string; payload: Record<string, unknown> }[]> = {
    alpha: [],
    beta: [],
    admin: [],
  };
  const alertIds: Record<Brand, string> = { alpha: '', beta: '' };

  const call = async (
    who: Brand | 'admin' | 'token',
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<Reply> => {
    const headers: Record<string, string> = { ...extra };
    if (who === 'token') headers.authorization = `Bearer ${cloud.identity.adminToken}`;
    else headers.cookie = cookie[who];
    if (method !== 'GET' && who !== 'token') headers['x-shelfsight-csrf'] = '1';
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${cloud.httpUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      redirect: 'manual',
    });
    return { status: res.status, text: await res.text() };
  };

  const login = async (username: string, password: string): Promise<string> => {
    const res = await fetch(`${cloud.httpUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    expect(res.status).toBe(200);
    return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  };

  /**
   * What `who` must never see: the other brand's ids, names and data, and the no-brand fixture
   * (`asked`: what the request itself named, which an error message may repeat).
   */
  const leaks = (who: Brand, text: string, asked = ''): string[] =>
    secrets[other(who)].filter((s) => text.includes(s) && !asked.includes(s));

  beforeAll(async () => {
    cloud = await startCloud(
      { httpPort: 0, mqttPort: 0, dataDir: ':memory:', logLevel: 'silent', commandTimeoutMs: 800 },
      { requireLogin: true, print: () => {} },
    );
    const imported = await call('token', 'POST', '/api/v1/masterdata/import', MASTER);
    expect(imported.status, imported.text).toBe(200);
    for (const b of ['alpha', 'beta'] as const) {
      const made = await call('token', 'POST', '/api/v1/users', {
        username: side[b].username,
        password: `${b}-password-1`,
        role: 'brand_manager',
        brand: side[b].brand,
      });
      expect(made.status).toBe(201);
      cookie[b] = await login(side[b].username, `${b}-password-1`);
    }
    cookie.admin = await login('admin', cloud.users.initialAdminPassword!);

    // History through the store (the bulk path): one capture per fixture per 6 hours for 5 days.
    let seq = 0;
    for (const f of MASTER.fixtures)
      for (let h = 5 * 24; h > 0; h -= 6) {
        const o = capture(f.fixtureId, iso(h * 3_600_000), ++seq);
        await cloud.store.writeObservation(o, new Date());
        const owner = f.fixtureId.startsWith('fix-alpha') ? 'alpha' : f.fixtureId === NOBODY.fixture ? null : 'beta';
        for (const b of ['alpha', 'beta'] as const) if (owner === b || owner === null) secrets[b].push(o.messageId);
      }
    for (const b of ['alpha', 'beta'] as const) {
      const s = side[b];
      secrets[b].push(
        ...s.outlets,
        ...s.fixtures,
        ...s.devices,
        s.promotion,
        s.promotionName,
        ...[NOBODY.fixture, NOBODY.device],
      );
    }
    // fix-beta-3 (Beta's, by explicit brand) stands in outlet-beta-1; NOBODY in outlet-beta-2: both Beta outlets.
  }, 120_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.all([...devices.values()].map((d) => d.endAsync()));
    await cloud?.close();
  });

  it('live events reach only the brand that owns the fixture or device; admins get all', async () => {
    const connect = (who: Brand | 'admin' | null) =>
      new Promise<Socket>((resolve, reject) => {
        const s = ioClient(cloud.httpUrl, {
          transports: ['websocket'],
          reconnection: false,
          extraHeaders: who ? { cookie: cookie[who] } : {},
        });
        sockets.push(s);
        if (who) s.onAny((event: string, payload: Record<string, unknown>) => events[who].push({ event, payload }));
        s.on('connect', () => resolve(s));
        s.on('connect_error', reject);
      });
    await expect(connect(null)).rejects.toThrow(/login required/);
    await Promise.all((['alpha', 'beta', 'admin'] as const).map((w) => connect(w)));

    const all = MASTER.fixtures;
    for (const f of all) {
      const d = await connectDevice(cloud, deviceOf(f));
      devices.set(deviceOf(f), d);
      await d.subscribeAsync(topics.commands(deviceOf(f)), { qos: 1 });
      d.on('message', (topic) => commandsSeen.push(topic));
    }
    let seq = 1000;
    for (const f of all) {
      const d = devices.get(deviceOf(f))!;
      const at = iso(60_000);
      await d.publishAsync(
        topics.status(deviceOf(f)),
        JSON.stringify({ deviceId: deviceOf(f), state: 'online', at, agentVersion: '1.0.0' }),
        { qos: 1, retain: true },
      );
      await d.publishAsync(topics.observations(deviceOf(f)), JSON.stringify(capture(f.fixtureId, at, ++seq)), {
        qos: 1,
      });
      await d.publishAsync(
        topics.events(deviceOf(f)),
        JSON.stringify({ deviceId: deviceOf(f), kind: 'door', state: 'open', at }),
        { qos: 1 },
      );
      await d.publishAsync(
        topics.otaState(deviceOf(f)),
        JSON.stringify({ deviceId: deviceOf(f), kind: 'model', version: '2.0.0', state: 'DOWNLOADING', at }),
        { qos: 1 },
      );
    }
    const kinds = ['observation', 'device-status', 'door-event', 'ota-state', 'alert'];
    // Every fixture with two planned SKUs or more opens one stockout alert.
    const expected = (k: string) =>
      k === 'alert' ? all.filter((f) => new Set(f.positions.map((p) => p.sku)).size > 1).length : all.length;
    await waitFor(
      () => kinds.every((k) => events.admin.filter((e) => e.event === k).length >= expected(k)),
      10_000,
      'admin to receive every event',
    );
    await new Promise((r) => setTimeout(r, 300));

    /** The brand of an event's fixture (observations, alerts) or else its device. */
    const ownerOf = (payload: Record<string, unknown>): Brand | null => {
      for (const b of ['alpha', 'beta'] as const)
        if (
          typeof payload.fixtureId === 'string'
            ? side[b].fixtures.includes(payload.fixtureId)
            : side[b].devices.includes(String(payload.deviceId))
        )
          return b;
      return null;
    };
    for (const b of ['alpha', 'beta'] as const) {
      for (const k of kinds)
        expect(
          events[b].some((e) => e.event === k),
          `${b} got a ${k}`,
        ).toBe(true);
      for (const e of events[b]) {
        expect(ownerOf(e.payload), `${b} received ${e.event} ${JSON.stringify(e.payload)}`).toBe(b);
        expect(leaks(b, JSON.stringify(e.payload))).toEqual([]);
      }
      // Everything the brand owns came through, and nothing else.
      const got = new Set(events[b].filter((e) => e.event === 'observation').map((e) => e.payload.fixtureId));
      expect([...got].sort()).toEqual([...side[b].fixtures].sort());
    }
    expect(events.admin.some((e) => e.payload.fixtureId === NOBODY.fixture)).toBe(true);
    // The unlisted device: its first status (before it reported from a fixture) reached admins only;
    // once it reported from Beta's fixture, its events are Beta's.
    const unlisted = (who: Brand | 'admin', event: string) =>
      events[who].filter((e) => e.event === event && e.payload.deviceId === 'dev-beta-4').length;
    expect([unlisted('admin', 'device-status'), unlisted('beta', 'device-status')]).toEqual([1, 0]);
    expect([unlisted('beta', 'door-event'), unlisted('beta', 'ota-state')]).toEqual([1, 1]);

    // Alerts for the write checks below; live observations join the secrets of their brand.
    for (const b of ['alpha', 'beta'] as const)
      alertIds[b] = String(events[b].find((e) => e.event === 'alert')!.payload.id);
    for (const e of events.admin)
      if (e.event === 'observation')
        for (const b of ['alpha', 'beta'] as const)
          if ([b, null].includes(ownerOf(e.payload))) secrets[b].push(String(e.payload.messageId));
  });

  // ---- REST ------------------------------------------------------------------------------------

  interface Probe {
    method?: string;
    path: string;
    body?: unknown;
    /** Expected status for the brand manager making the probe. */
    status: number | number[];
  }
  /** Probes a brand manager of `me` runs against one route; `o` is the other brand. */
  type Case = (me: Brand, o: Brand) => Probe[];

  const A = '/api/v1';
  const promo = (b: Brand, over: Record<string, unknown> = {}) => ({
    ...MASTER.promotions.find((p) => p.promotionId === side[b].promotion)!,
    ...over,
  });
  const analyticsList =
    (name: string): Case =>
    (_me, o) => [
      { path: `${A}/analytics/${name}`, status: 200 },
      { path: `${A}/analytics/${name}?limit=1000&format=csv`, status: 200 },
      { path: `${A}/analytics/${name}?outletId=${SHARED_OUTLET}`, status: 200 },
      { path: `${A}/analytics/${name}?outletId=${side[o].outlets[0]}`, status: 404 },
      { path: `${A}/analytics/${name}?outletId=no-such-outlet`, status: 404 },
      { path: `${A}/analytics/${name}?brand=${side[o].brand}&limit=1000`, status: 200 },
      { path: `${A}/analytics/${name}?sku=${side[o].sku}`, status: 200 },
      { path: `${A}/analytics/${name}?region=East&channel=convenience`, status: 200 },
      { path: `${A}/analytics/${name}?from=${iso(2 * DAY)}&to=${iso(0)}`, status: 200 },
    ];

  /** Every route on the app, `METHOD path` as registered. A new route needs a case here. */
  const CASES: Record<string, Case> = {
    'POST /api/v1/auth/login': (me) => [
      {
        method: 'POST',
        path: `${A}/auth/login`,
        body: { username: side[me].username, password: 'wrong' },
        status: 401,
      },
    ],
    'POST /api/v1/auth/logout': () => [], // run below with a throwaway session
    'GET /api/v1/auth/me': () => [{ path: `${A}/auth/me`, status: 200 }],
    'GET /api/v1/users': () => [{ path: `${A}/users`, status: 403 }],
    'POST /api/v1/users': (me) => [
      {
        method: 'POST',
        path: `${A}/users`,
        body: { username: 'sneaky', password: 'sneaky-pass-1', role: 'admin' },
        status: 403,
      },
      {
        method: 'POST',
        path: `${A}/users`,
        body: { username: 'sneaky2', password: 'sneaky-pass-1', role: 'brand_manager', brand: side[me].brand },
        status: 403,
      },
    ],
    'GET /api/v1/healthz': () => [{ path: `${A}/healthz`, status: 200 }],
    'GET /api/v1/ingest/stats': () => [{ path: `${A}/ingest/stats`, status: 403 }],
    'GET /api/v1/observations': (me, o) => [
      { path: `${A}/observations?limit=1000`, status: 200 },
      { path: `${A}/observations?outletId=${SHARED_OUTLET}&limit=1000`, status: 200 },
      { path: `${A}/observations?outletId=${side[o].outlets[0]}`, status: 404 },
      { path: `${A}/observations?fixtureId=${side[o].fixtures[0]}`, status: 404 },
      { path: `${A}/observations?fixtureId=${NOBODY.fixture}`, status: 404 },
      { path: `${A}/observations?deviceId=${side[o].devices[0]}`, status: 404 },
      { path: `${A}/observations?deviceId=${side[me].devices[0]}`, status: 200 },
      { path: `${A}/observations?fixtureId=no-such-fixture`, status: 404 },
      { path: `${A}/observations?cursor=eyJ1cyI6IjEiLCJpZCI6IngifQ`, status: 400 }, // a raw store cursor
    ],
    'GET /api/v1/fixtures': () => [{ path: `${A}/fixtures`, status: 200 }],
    'GET /api/v1/fixtures/:fixtureId/history': (me, o) => [
      { path: `${A}/fixtures/${side[me].fixtures[0]}/history`, status: 200 },
      { path: `${A}/fixtures/${side[o].fixtures[0]}/history`, status: 404 },
      { path: `${A}/fixtures/${side[o].fixtures[2]}/history`, status: 404 }, // the other brand's cooler in the shared shop
      { path: `${A}/fixtures/${NOBODY.fixture}/history`, status: 404 },
      { path: `${A}/fixtures/no-such-fixture/history`, status: 404 },
    ],
    'GET /api/v1/devices': () => [{ path: `${A}/devices`, status: 200 }],
    'POST /api/v1/devices/:deviceId/commands': (me, o) => [
      {
        method: 'POST',
        path: `${A}/devices/${side[o].devices[0]}/commands`,
        body: { name: 'capture-now' },
        status: 404,
      },
      { method: 'POST', path: `${A}/devices/${NOBODY.device}/commands`, body: { name: 'restart' }, status: 404 },
      {
        method: 'POST',
        path: `${A}/devices/${side[me].devices[0]}/commands`,
        body: { name: 'capture-now' },
        status: 403,
      },
    ],
    'GET /api/v1/analytics/facings': (me, o) => [
      ...analyticsList('facings')(me, o),
      { path: `${A}/analytics/facings?by=brand`, status: 200 },
    ],
    'GET /api/v1/analytics/share-of-shelf': analyticsList('share-of-shelf'),
    'GET /api/v1/analytics/purity': analyticsList('purity'),
    'GET /api/v1/analytics/availability': (me, o) => [
      ...analyticsList('availability')(me, o),
      { path: `${A}/analytics/availability?by=sku`, status: 200 },
    ],
    'GET /api/v1/analytics/compliance': analyticsList('compliance'),
    'GET /api/v1/analytics/stockouts': analyticsList('stockouts'),
    'GET /api/v1/analytics/alerts': analyticsList('alerts'),
    'GET /api/v1/analytics/sales': (me, o) => [
      ...analyticsList('sales')(me, o),
      { path: `${A}/analytics/sales?period=total`, status: 200 },
    ],
    'GET /api/v1/analytics/promotions': (me, o) => [
      { path: `${A}/analytics/promotions?resamples=100`, status: 200 },
      { path: `${A}/analytics/promotions?resamples=100&promotionId=${side[me].promotion}`, status: 200 },
      { path: `${A}/analytics/promotions?resamples=100&promotionId=${side[o].promotion}`, status: 400 },
      { path: `${A}/analytics/promotions?resamples=100&outletId=${side[o].outlets[0]}`, status: 404 },
    ],
    'GET /api/v1/analytics/outlet-scores': analyticsList('outlet-scores'),
    'GET /api/v1/analytics/replenishment': (me, o) => [
      ...analyticsList('replenishment')(me, o),
      { path: `${A}/analytics/replenishment?all=true`, status: 200 },
    ],
    'GET /api/v1/analytics/overview': (me, o) => [
      { path: `${A}/analytics/overview`, status: 200 },
      { path: `${A}/analytics/overview?from=${iso(2 * DAY)}&to=${iso(0)}`, status: 200 },
      { path: `${A}/analytics/overview?outletId=${side[o].outlets[1]}`, status: 404 },
    ],
    'GET /api/v1/analytics/promotions/:promotionId': (me, o) => [
      { path: `${A}/analytics/promotions/${side[me].promotion}?resamples=100`, status: 200 },
      { path: `${A}/analytics/promotions/${side[o].promotion}?resamples=100`, status: 404 },
      { path: `${A}/analytics/promotions/no-such-promo`, status: 404 },
    ],
    'POST /api/v1/analytics/alerts/:id/:action': (me, o) => [
      ...['acknowledge', 'resolve'].flatMap((action) => [
        {
          method: 'POST',
          path: `${A}/analytics/alerts/${encodeURIComponent(alertIds[o])}/${action}`,
          status: 404,
        },
        {
          method: 'POST',
          path: `${A}/analytics/alerts/${encodeURIComponent(alertIds[me])}/${action}`,
          status: 403,
        },
      ]),
      { method: 'POST', path: `${A}/analytics/alerts/no-such-alert/acknowledge`, status: 404 },
    ],
    'POST /api/v1/masterdata/promotions': (me, o) => [
      { method: 'POST', path: `${A}/masterdata/promotions`, body: promo(me, { promotionId: 'new-own' }), status: 403 },
      { method: 'POST', path: `${A}/masterdata/promotions`, body: promo(o, { promotionId: 'new-cross' }), status: 403 },
    ],
    'PUT /api/v1/masterdata/promotions/:promotionId': (me, o) => [
      {
        method: 'PUT',
        path: `${A}/masterdata/promotions/${side[o].promotion}`,
        body: promo(o, { cost: 1 }),
        status: 404,
      },
      {
        method: 'PUT',
        path: `${A}/masterdata/promotions/${side[me].promotion}`,
        body: promo(me, { cost: 1 }),
        status: 403,
      },
    ],
    'DELETE /api/v1/masterdata/promotions/:promotionId': (me, o) => [
      { method: 'DELETE', path: `${A}/masterdata/promotions/${side[o].promotion}`, status: 404 },
      { method: 'DELETE', path: `${A}/masterdata/promotions/${side[me].promotion}`, status: 403 },
    ],
    'GET /api/v1/masterdata': () => [{ path: `${A}/masterdata`, status: 200 }],
    'POST /api/v1/masterdata/import': () => [
      { method: 'POST', path: `${A}/masterdata/import`, body: { ...MASTER, promotions: [] }, status: 403 },
    ],
    'POST /api/v1/claims': (me) => [
      { method: 'POST', path: `${A}/claims`, body: { outletId: side[me].outlets[0] }, status: 403 },
    ],
    'POST /api/v1/provision': () => [
      { method: 'POST', path: `${A}/provision`, body: { claimToken: 'x' }, status: 403 },
    ],
    'GET /api/v1/devices/registry': () => [{ path: `${A}/devices/registry`, status: 401 }],
    'DELETE /api/v1/devices/:deviceId/credentials': (me, o) => [
      { method: 'DELETE', path: `${A}/devices/${side[o].devices[0]}/credentials`, status: 404 },
      { method: 'DELETE', path: `${A}/devices/${side[me].devices[0]}/credentials`, status: 403 },
    ],
    'POST /api/v1/ota/artifacts': () => [{ method: 'POST', path: `${A}/ota/artifacts`, body: 'x', status: 403 }],
    'POST /api/v1/ota/announcements': (me) => [
      { method: 'POST', path: `${A}/ota/announcements`, body: { deviceIds: side[me].devices }, status: 403 },
    ],
    'POST /api/v1/ota/withdrawals': (me) => [
      { method: 'POST', path: `${A}/ota/withdrawals`, body: { deviceIds: side[me].devices }, status: 403 },
    ],
    'GET /api/v1/ota/states': () => [{ path: `${A}/ota/states`, status: 401 }],
    // Outside the API: signed, content-addressed OTA files, Prometheus metrics (aggregates), the dashboard.
    'GET /ota/files/:sha256': () => [{ path: `/ota/files/${'0'.repeat(64)}`, status: 404 }],
    'GET /metrics': () => [{ path: '/metrics', status: 200 }],
    'GET /': () => [{ path: '/', status: [200, 503] }],
    'GET /^\\/(?!api\\/|socket\\.io\\/)[^.]*$/': () => [{ path: '/outlets', status: [200, 404] }],
    // Shared master data (the SKU catalog is not tenant-private); enrolment is admin-only.
    'GET /api/v1/catalog': () => [{ path: `${A}/catalog`, status: 200 }],
    'GET /api/v1/catalog/gallery': () => [{ path: `${A}/catalog/gallery`, status: [200, 404] }],
    'GET /api/v1/catalog/gallery/changes': () => [{ path: `${A}/catalog/gallery/changes`, status: [200, 404] }],
    'GET /api/v1/catalog/galleries/:version': () => [{ path: `${A}/catalog/galleries/0.0.0`, status: [401, 404] }],
    'GET /api/v1/catalog/skus/:sku/references': (_me, o) => [
      { path: `${A}/catalog/skus/${side[o].sku}/references`, status: [200, 404] },
    ],
    'GET /api/v1/catalog/skus/:sku/references/:id': (_me, o) => [
      { path: `${A}/catalog/skus/${side[o].sku}/references/0123456789abcdef`, status: 404 },
    ],
    'POST /api/v1/catalog/skus/:sku/references': (me) => [
      {
        method: 'POST',
        path: `${A}/catalog/skus/${side[me].sku}/references`,
        body: { images: [{ data: 'aGVsbG8=' }] },
        status: 403,
      },
    ],
  };

  /** `/api/v1/fixtures/x` → `/api/v1/FIXTURES/x`. */
  const upperRoute = (path: string) =>
    path.replace(/^\/api\/v1\/([a-z-]+)/, (_m, name: string) => `/api/v1/${name.toUpperCase()}`);

  /** `METHOD path` of every route on the app, walking nested routers. */
  const registeredRoutes = (): string[] => {
    interface Layer {
      route?: { path: string | RegExp; methods: Record<string, boolean> };
      handle?: { stack?: Layer[] };
      rawPath?: string | RegExp;
    }
    const out: string[] = [];
    const walk = (stack: Layer[], prefix: string) => {
      for (const l of stack) {
        if (l.route)
          for (const m of Object.keys(l.route.methods))
            if (m !== '_all') out.push(`${m.toUpperCase()} ${prefix}${String(l.route.path)}`);
        if (l.handle?.stack) walk(l.handle.stack, prefix + (l.rawPath && l.rawPath !== '/' ? String(l.rawPath) : ''));
      }
    };
    walk((cloud.app as unknown as { router: { stack: Layer[] } }).router.stack, '');
    return [...new Set(out)].sort();
  };

  it('refuses anonymous reads of every data route, however the path is spelled', async () => {
    const open = ['/api/v1/healthz', '/api/v1/auth/login', '/api/v1/auth/logout'];
    const failures: string[] = [];
    for (const route of registeredRoutes().filter((r) => r.startsWith('GET /api/v1/')))
      for (const p of CASES[route]!('alpha', 'beta'))
        for (const path of [p.path, upperRoute(p.path), p.path.replace(/\?|$/, '/$&')]) {
          if (open.some((o) => path.toLowerCase().startsWith(o))) continue;
          const res = await fetch(`${cloud.httpUrl}${path}`);
          const text = await res.text();
          if (res.status !== 401 && res.status !== 404) failures.push(`${path} → ${res.status}`);
          if (leaks('alpha', text, path).length || leaks('beta', text, path).length) failures.push(`${path} leaked`);
        }
    expect(failures).toEqual([]);
  });

  it('has a tenant case for every route on the app (a new route needs one)', () => {
    const routes = registeredRoutes();
    expect(routes.length).toBeGreaterThan(40);
    expect(
      routes.filter((r) => !(r in CASES)),
      'routes without a tenant-isolation case',
    ).toEqual([]);
    expect(
      Object.keys(CASES).filter((k) => !routes.includes(k)),
      'cases for routes that no longer exist',
    ).toEqual([]);
  });

  it('a brand manager never receives the other brand’s ids or data, and cannot write', async () => {
    // Admins read everything first, so any cache that forgets the tenant would serve it to a brand.
    for (const route of registeredRoutes().filter((r) => r.startsWith('GET ')))
      for (const p of CASES[route]!('alpha', 'beta'))
        await call('token', 'GET', p.path.replace(/(outletId|fixtureId|deviceId)=[^&]*&?/g, ''));
    const before = await call('token', 'GET', `${A}/masterdata`);
    const alertsBefore = await call('token', 'GET', `${A}/analytics/alerts?limit=1000`);
    const failures: string[] = [];
    let probes = 0;
    for (const route of registeredRoutes())
      for (const me of ['alpha', 'beta'] as const)
        for (const p of CASES[route]!(me, other(me)))
          // Each probe as written and with its route name upper-cased (express routes ignore case).
          for (const path of new Set([p.path, upperRoute(p.path)])) {
            probes++;
            const r = await call(me, p.method ?? 'GET', path, p.body);
            const want = Array.isArray(p.status) ? p.status : [p.status];
            const tag = `${me}: ${p.method ?? 'GET'} ${path}`;
            if (!want.includes(r.status))
              failures.push(`${tag} → ${r.status} (want ${want.join('|')}) ${r.text.slice(0, 200)}`);
            const leaked = leaks(me, r.text, decodeURIComponent(path) + JSON.stringify(p.body ?? ''));
            if (leaked.length) failures.push(`${tag} leaked ${leaked.join(', ')}`);
          }
    expect(failures).toEqual([]);
    expect(probes).toBeGreaterThan(300);

    // Refused writes changed nothing: promotions, alerts, users; no command reached a device.
    expect((await call('token', 'GET', `${A}/masterdata`)).text).toBe(before.text);
    expect((await call('token', 'GET', `${A}/analytics/alerts?limit=1000`)).text).toBe(alertsBefore.text);
    expect(JSON.parse(alertsBefore.text).items.some((a: { acknowledgedAt?: string }) => a.acknowledgedAt)).toBe(false);
    expect(cloud.users.store.list().map((u) => u.username)).toEqual(['admin', 'alpha-manager', 'beta-manager']);
    expect(commandsSeen).toEqual([]);
  });

  it('lists hold exactly the brand’s own items; admins see both brands', async () => {
    const json = async (who: Brand | 'token', path: string) => {
      const r = await call(who, 'GET', path);
      expect(r.status, r.text).toBe(200);
      return JSON.parse(r.text);
    };
    for (const me of ['alpha', 'beta'] as const) {
      const s = side[me];
      const fixtures = (await json(me, `${A}/fixtures`)).items.map((f: { fixtureId: string }) => f.fixtureId);
      expect(fixtures.sort()).toEqual([...s.fixtures].sort());
      const devs = (await json(me, `${A}/devices`)).items.map((d: { deviceId: string }) => d.deviceId);
      expect(devs.sort()).toEqual([...s.devices].sort());
      const md = await json(me, `${A}/masterdata`);
      expect(md.outlets.map((o: { outletId: string }) => o.outletId).sort()).toEqual(
        [...s.outlets, SHARED_OUTLET].sort(),
      );
      expect(md.fixtures.map((f: { fixtureId: string }) => f.fixtureId).sort()).toEqual([...s.fixtures].sort());
      expect(md.promotions.map((p: { promotionId: string }) => p.promotionId)).toEqual([s.promotion]);
      for (const p of md.promotions as { outletIds: string[] }[])
        for (const o of p.outletIds) expect([...s.outlets, SHARED_OUTLET]).toContain(o);
      expect(md.counts).toEqual({
        skus: SKUS.length,
        outlets: s.outlets.length + 1,
        fixtures: s.fixtures.length,
        promotions: 1,
      });
      // Paging through the brand's observations with sealed cursors yields each once, none foreign.
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { messageId: string; fixtureId: string }[]; nextCursor: string | null } = await json(
          me,
          `${A}/observations?limit=7${cursor ? `&cursor=${cursor}` : ''}`,
        );
        for (const o of page.items) {
          expect(s.fixtures).toContain(o.fixtureId);
          seen.push(o.messageId);
        }
        cursor = page.nextCursor;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBe(s.fixtures.length * 21); // 20 stored + 1 live per fixture
      const scores = await json(me, `${A}/analytics/outlet-scores?limit=1000`);
      expect(scores.items.map((x: { outletId: string }) => x.outletId).sort()).toEqual(
        [...s.outlets, SHARED_OUTLET].sort(),
      );
      const promoDetail = await json(me, `${A}/analytics/promotions/${s.promotion}?resamples=100`);
      for (const o of promoDetail.outletIds) expect([...s.outlets, SHARED_OUTLET]).toContain(o);
      const alerts = await json(me, `${A}/analytics/alerts?limit=1000`);
      expect(alerts.items.length).toBeGreaterThan(0);
      for (const a of alerts.items as { fixtureId: string }[]) expect(s.fixtures).toContain(a.fixtureId);
      // Share of shelf keeps the competitors in the brand's own coolers as context.
      const sos = await json(me, `${A}/analytics/share-of-shelf`);
      expect(sos.items.some((x: { brand: string }) => x.brand === 'Rival')).toBe(true);
    }
    // The checks above would catch a leak: the admin's answers hold both brands' ids.
    for (const path of [`${A}/fixtures`, `${A}/devices`, `${A}/masterdata`, `${A}/observations?limit=1000`]) {
      const text = (await call('token', 'GET', path)).text;
      expect(leaks('alpha', text).length, path).toBeGreaterThan(0);
      expect(leaks('beta', text).length, path).toBeGreaterThan(0);
    }
  });

  it('log-out ends only the session it is sent with, and closes its live sockets', async () => {
    const open = (c: string) =>
      new Promise<Socket>((resolve, reject) => {
        const s = ioClient(cloud.httpUrl, {
          transports: ['websocket'],
          reconnection: false,
          extraHeaders: { cookie: c },
        });
        sockets.push(s);
        s.on('connect', () => resolve(s));
        s.on('connect_error', reject);
      });
    for (const me of ['alpha', 'beta'] as const) {
      const throwaway = await login(side[me].username, `${me}-password-1`);
      const [gone, kept] = await Promise.all([open(throwaway), open(cookie[me])]);
      const closed = new Promise<string>((resolve) => gone.on('disconnect', resolve));
      const out = await fetch(`${cloud.httpUrl}${A}/auth/logout`, {
        method: 'POST',
        headers: { cookie: throwaway, 'x-shelfsight-csrf': '1' },
      });
      expect(out.status).toBe(200);
      expect(leaks(me, await out.text())).toEqual([]);
      expect(await closed).toBe('io server disconnect');
      expect(kept.connected).toBe(true);
      expect((await fetch(`${cloud.httpUrl}${A}/fixtures`, { headers: { cookie: throwaway } })).status).toBe(401);
      expect((await call(me, 'GET', `${A}/fixtures`)).status).toBe(200);
      await expect(open(throwaway)).rejects.toThrow(/login required/);
    }
  });
});
