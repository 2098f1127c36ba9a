import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxStore } from '@shelfsight/cloud';
import { MISSING_INFLUXD, influxdAvailable, startInfluxd, type Influxd } from '../../helpers/influxd.js';
import { makeObservation } from '../helpers/observations.js';
import { describeStoreConformance } from './conformance.js';

// Locally a machine without influxd skips these; under CI=true that is a failure with a clear
// message (.ci/run installs the Debian package `influxdb`).
const run = influxdAvailable() || process.env.CI === 'true';

describe.runIf(run)('InfluxStore against a real influxd', () => {
  let server: Influxd | undefined;
  const url = () => {
    if (!server) throw new Error(MISSING_INFLUXD);
    return server.url;
  };
  const open = async (database?: string) =>
    InfluxStore.open({ url: url(), database: database ?? (await server!.createDatabase()) });

  beforeAll(async () => {
    server = await startInfluxd();
  });
  afterAll(async () => {
    await server?.stop();
  });

  // A fresh database per case: the suite expects an empty store each time.
  describeStoreConformance('InfluxDB 1.x (/write + /query)', () => open());

  it('refuses a database name that would need escaping (identifiers cannot be bound)', async () => {
    await expect(
      InfluxStore.open({ url: url(), database: 'x"; DROP DATABASE "y', createDatabase: true }),
    ).rejects.toThrow(/invalid InfluxDB identifier/);
  });

  it('binds InfluxQL injection attempts as plain values', async () => {
    const store = await open();
    await store.writeObservation(makeObservation(), new Date());
    for (const evil of [
      `x' OR '1'='1`,
      `cooler-1" OR "fixtureId" =~ /.*/ --`,
      `$fixture`,
      `cooler-1'; DROP DATABASE x`,
    ])
      expect((await store.queryObservations({ fixtureId: evil })).items).toEqual([]);
    expect(await store.skuHistory({ fixtureId: `' OR 1=1`, sku: `' OR 1=1` })).toEqual([]);
    expect((await store.queryObservations({})).items).toHaveLength(1);
    await store.close();
  });

  it('writes and reads a non-default retention policy when one is configured', async () => {
    const database = await server!.createDatabase();
    const admin = (q: string) => fetch(`${url()}/query`, { method: 'POST', body: new URLSearchParams({ q }) });
    await admin(`CREATE RETENTION POLICY "keep" ON "${database}" DURATION INF REPLICATION 1`);
    const store = await InfluxStore.open({ url: url(), database, retentionPolicy: 'keep' });
    const obs = makeObservation();
    await store.writeObservation(obs, new Date());
    expect((await store.queryObservations({})).items.map((i) => i.messageId)).toEqual([obs.messageId]);
    const autogen = await (await admin(`SELECT count("messageId") FROM "${database}"."autogen"."observations"`)).json();
    expect(JSON.stringify(autogen)).not.toContain('"count"');
    await store.close();
  });

  it('keeps two observations of one fixture in the same millisecond apart, and finds redeliveries after a restart', async () => {
    const database = await server!.createDatabase();
    const first = await open(database);
    const a = makeObservation({ emptyFacings: 1 });
    const b = makeObservation({ emptyFacings: 2, skus: [{ sku: 'cola-330', count: 1, facings: 1 }] });
    const at = new Date('2024-05-01T10:00:05Z');
    expect(await Promise.all([first.writeObservation(a, at), first.writeObservation(b, at)])).toEqual([
      { inserted: true },
      { inserted: true },
    ]);
    await first.close();
    // A new process has an empty in-memory id cache: the (fixture, millisecond) lookup must catch it.
    const second = await open(database);
    expect(await second.writeObservation(b, at)).toEqual({ inserted: false });
    expect(await second.writeObservation(a, at)).toEqual({ inserted: false });
    const items = (await second.queryObservations({})).items;
    expect(items.map((i) => i.messageId).sort()).toEqual([a.messageId, b.messageId].sort());
    const cola = (await second.skuHistory({ fixtureId: 'cooler-1', sku: 'cola-330' }))[0]!;
    expect(cola.points.map((p) => p.count).sort()).toEqual([1, 6]);
    await second.close();
  });

  it('group-commits concurrent writes and answers each one', async () => {
    const store = await open();
    const obs = Array.from({ length: 300 }, (_, i) =>
      makeObservation({ fixtureId: `f-${i % 7}`, capturedAt: new Date(Date.UTC(2024, 4, 1, 0, i)).toISOString() }),
    );
    const results = await Promise.all([...obs, ...obs.slice(0, 50)].map((o) => store.writeObservation(o, new Date())));
    expect(results.filter((r) => r.inserted)).toHaveLength(300);
    const page = await store.queryObservations({ limit: 1000 });
    expect(page.items).toHaveLength(300);
    await store.close();
  });

  it('retries a write on 503 and resolves only once InfluxDB took it; a 400 fails at once', async () => {
    const database = await server!.createDatabase();
    // A proxy in front of influxd that answers the first two /write calls with 503, then a 400 when asked.
    let failNext = 0;
    let badRequest = false;
    const writes: number[] = [];
    const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url?.startsWith('/write')) {
          if (badRequest) return res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad"}');
          if (failNext > 0) {
            failNext--;
            writes.push(503);
            return res.writeHead(503).end();
          }
          writes.push(204);
        }
        fetch(url() + req.url, {
          method: req.method ?? 'GET',
          headers: req.headers as Record<string, string>,
          ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
        }).then(
          async (r) => {
            // fetch already decoded the body; forward it plain.
            const headers = Object.fromEntries([...r.headers].filter(([k]) => !/^content-(encoding|length)$/i.test(k)));
            res.writeHead(r.status, headers).end(Buffer.from(await r.arrayBuffer()));
          },
          () => res.writeHead(502).end(),
        );
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const store = await InfluxStore.open({
        url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
        database,
        minRetryDelayMs: 20,
      });
      failNext = 2;
      const obs = makeObservation();
      expect(await store.writeObservation(obs, new Date())).toEqual({ inserted: true });
      expect(writes).toEqual([503, 503, 204]);
      expect((await store.queryObservations({})).items.map((i) => i.messageId)).toEqual([obs.messageId]);
      badRequest = true;
      await expect(store.writeObservation(makeObservation(), new Date())).rejects.toThrow(/400|bad/);
      expect(writes).toHaveLength(3);
      await store.close();
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });
});
