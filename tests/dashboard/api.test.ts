import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '@shelfsight/cloud';
import type { MarketRun } from '../../simulators/src/market/index.js';
import { giveShelvesTo, seedMarket } from './seed.js';

/** The dashboard's API contract: log-in, CSRF, roles, tenant scope, overview, promotions, alerts. */
describe('dashboard API: users, sessions and tenant scope', () => {
  let cloud: RunningCloud;
  let run: MarketRun;
  const lines: string[] = [];
  const url = (p: string) => `${cloud.httpUrl}/api/v1${p}`;
  const login = async (username: string, password: string) => {
    const res = await fetch(url('/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    return { res, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]! };
  };
  const admin = { authorization: '' };

  beforeAll(async () => {
    cloud = await startCloud(
      { httpPort: 0, mqttPort: 0, dataDir: ':memory:', logLevel: 'silent' },
      { requireLogin: true, print: (l) => lines.push(l) },
    );
    admin.authorization = `Bearer ${cloud.identity.adminToken}`;
    run = await seedMarket(cloud, { outlets: 8, weeks: 2 });
  }, 120_000);
  afterAll(() => cloud?.close());

  it('creates the admin once and prints the password once', () => {
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(cloud.users.initialAdminPassword!);
  });

  it('sets an HttpOnly SameSite=Strict session cookie; refuses bad passwords and rate-limits', async () => {
    const ok = await login('admin', cloud.users.initialAdminPassword!);
    expect(ok.res.status).toBe(200);
    expect(ok.res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const me = await fetch(url('/auth/me'), { headers: { cookie: ok.cookie } });
    expect((await me.json()).user.role).toBe('admin');
    let last = 0;
    for (let i = 0; i < 11; i++) last = (await login('nobody', 'wrong-password')).res.status;
    expect(last).toBe(429);
  });

  it('requires the CSRF header on cookie-authenticated writes', async () => {
    const { cookie } = await login('admin', cloud.users.initialAdminPassword!);
    // One clock reading: two would make the window 4 days and a millisecond, i.e. 5 daily rows.
    const now = Date.now();
    const p = {
      promotionId: 'api-promo',
      name: 'API promo',
      skus: [run.world.master.skus[0]!.sku],
      outletIds: [run.world.master.outlets[0]!.outletId, run.world.master.outlets[1]!.outletId],
      start: new Date(now - 5 * 86_400_000).toISOString(),
      end: new Date(now - 86_400_000).toISOString(),
      discountPct: 0.1,
      cost: 500,
    };
    const post = (headers: Record<string, string>) =>
      fetch(url('/masterdata/promotions'), {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(p),
      });
    expect((await post({})).status).toBe(403);
    expect((await post({ 'x-shelfsight-csrf': '1' })).status).toBe(201);
    expect((await post({ 'x-shelfsight-csrf': '1' })).status).toBe(409);
    const put = await fetch(url('/masterdata/promotions/api-promo'), {
      method: 'PUT',
      headers: { cookie, 'content-type': 'application/json', 'x-shelfsight-csrf': '1' },
      body: JSON.stringify({ ...p, cost: 800 }),
    });
    expect((await put.json()).cost).toBe(800);
    const t0 = Date.now();
    const detail = await fetch(url('/analytics/promotions/api-promo?resamples=200'), { headers: { cookie } });
    expect(detail.status).toBe(200);
    const d = await detail.json();
    expect(d.daily.length).toBe(4);
    expect(d.perOutlet.length).toBe(2);
    const list = await fetch(url('/analytics/promotions?resamples=200'), { headers: { cookie } });
    expect(list.status).toBe(200);
    expect((await list.json()).items.some((x: { promotionId: string }) => x.promotionId === 'api-promo')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('scopes a brand manager to the brand’s outlets and keeps them read-only', async () => {
    const res = await fetch(url('/users'), {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'kodiak', password: 'kodiak-pass-1', role: 'brand_manager', brand: 'Kodiak' }),
    });
    expect(res.status).toBe(201);
    const { cookie } = await login('kodiak', 'kodiak-pass-1');
    const get = async (p: string) => (await fetch(url(p), { headers: { cookie } })).json();
    // Kodiak SKUs on a shelf or slipped into a cooler do not make the outlet Kodiak's.
    expect((await get('/fixtures')).items).toEqual([]);
    // Kodiak's cameras on the ambient shelves: Kodiak sees those outlets, and only the shelves there.
    const allowed = await giveShelvesTo(cloud, 'Kodiak');
    expect(allowed.size).toBeGreaterThan(0);
    const shelves = new Set(run.world.master.fixtures.filter((f) => f.kind === 'shelf').map((f) => f.fixtureId));
    const scores = await get('/analytics/outlet-scores?limit=1000');
    expect(scores.items.length).toBe(allowed.size);
    const fixtures = await get('/fixtures');
    expect(fixtures.items.length).toBe(shelves.size);
    for (const f of fixtures.items) expect(shelves.has(f.fixtureId)).toBe(true);
    const md = await get('/masterdata');
    expect(md.outlets.length).toBe(allowed.size);
    const outside = run.world.master.outlets.find((o) => !allowed.has(o.outletId))!;
    expect((await fetch(url(`/observations?outletId=${outside.outletId}`), { headers: { cookie } })).status).toBe(404);
    const ov = await get('/analytics/overview');
    expect(ov.kpis.outlets).toBe(allowed.size);
    // Another brand's promotion: 404 (its existence is not revealed); a write of its own kind: 403.
    const del = await fetch(url('/masterdata/promotions/api-promo'), {
      method: 'DELETE',
      headers: { cookie, 'x-shelfsight-csrf': '1' },
    });
    expect(del.status).toBe(404);
    const create = await fetch(url('/masterdata/promotions'), {
      method: 'POST',
      headers: { cookie, 'x-shelfsight-csrf': '1', 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(create.status).toBe(403);
  });

  it('overview KPIs use the single-metric definitions', async () => {
    const q = `?from=${encodeURIComponent(new Date(Date.now() - 30 * 86_400_000).toISOString())}&to=${encodeURIComponent(new Date().toISOString())}`;
    const get = async (p: string) => (await fetch(url(p), { headers: admin })).json();
    const ov = await get(`/analytics/overview${q}`);
    const sos = await get(`/analytics/share-of-shelf${q}`);
    expect(ov.kpis.shareOfShelf).toBeCloseTo(
      sos.items.find((x: { brand: string }) => x.brand === '(own total)').share,
      3,
    );
    const open = await get(`/analytics/stockouts${q}&state=open&limit=1`);
    expect(ov.kpis.openStockouts).toBe(open.total);
    expect(ov.trend.length).toBeGreaterThan(5);
  });
});
