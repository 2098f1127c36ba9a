import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud } from '@shelfsight/cloud';
import { makeObservation } from '../cloud/helpers/observations.js';

/** SQL, InfluxQL, path and encoding tricks, as an attacker would put them into a query string. */
const ATTACKS = [
  "' OR '1'='1",
  "x'; DROP TABLE observations; --",
  '1; DELETE FROM sku_counts',
  '" OR 1=1 --',
  "cooler-1' UNION SELECT message_id FROM observations --",
  '/^.*$/',
  "x' OR time > 0 --",
  '; DROP MEASUREMENT sku_counts',
  '$param',
  '../../etc/passwd',
  '%00',
  '\u0000',
  'a'.repeat(5000),
  '<script>alert(1)</script>',
  '{"$gt":""}',
];

const ROUTES: [string, string[]][] = [
  ['/observations', ['deviceId', 'outletId', 'fixtureId', 'from', 'to', 'limit', 'cursor']],
  ['/fixtures/cooler-1/history', ['sku', 'from', 'to']],
  ...[
    'facings',
    'share-of-shelf',
    'purity',
    'availability',
    'compliance',
    'stockouts',
    'alerts',
    'sales',
    'promotions',
    'outlet-scores',
    'replenishment',
  ].map((m): [string, string[]] => [
    `/analytics/${m}`,
    ['from', 'to', 'region', 'channel', 'outletId', 'brand', 'sku', 'limit', 'offset', 'format'],
  ]),
];

describe('injection through REST query parameters', () => {
  let cloud: Awaited<ReturnType<typeof startCloud>>;
  let token: string;
  beforeAll(async () => {
    cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: ':memory:', auth: 'off', logLevel: 'silent' });
    token = cloud.identity.adminToken;
    for (let i = 0; i < 3; i++) await cloud.store.writeObservation(makeObservation({ seq: i }), new Date());
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('answers every attack with a 400 that names the parameter, or a harmless empty result — never a 500', async () => {
    let requests = 0;
    const statuses = new Map<number, number>();
    for (const [route, params] of ROUTES)
      for (const param of params)
        for (const attack of ATTACKS) {
          const url = `${cloud.httpUrl}/api/v1${route}?${new URLSearchParams({ [param]: attack })}`;
          const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
          requests++;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status, `${route}?${param}=${attack.slice(0, 40)}`).toBeLessThan(500);
          if (res.status === 400) {
            const body = (await res.json()) as { details: { param: string }[] };
            expect(body.details.map((d) => d.param).join(' ')).toContain(param === 'format' ? 'format' : param);
          } else {
            await res.arrayBuffer();
          }
        }
    // The data is untouched: the three observations are still there, and only them.
    const page = await cloud.store.queryObservations({ limit: 100 });
    expect(page.items).toHaveLength(3);
    console.log(`injection: ${requests} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });
});
