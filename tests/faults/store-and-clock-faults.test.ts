import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { MAX_FUTURE_SKEW_MS, topics, type Observation } from '@shelfsight/protocol';
import type { RunningCloud } from '@shelfsight/cloud';
import { influxdAvailable, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { waitUntil } from '../helpers/processes.js';
import { getJson, startTestCloud } from '../cloud/helpers/cloud.js';
import { makeObservation } from '../cloud/helpers/observations.js';

/**
 * Issue 7 "Faults", cloud side: the time-series store going away mid-ingest, device clocks far
 * from the cloud's, and duplicate / out-of-order delivery. Each test checks that every observation
 * is stored exactly once (or, for a wrong clock, refused and counted per docs/decisions.md D20).
 */

interface StoredItem {
  messageId: string;
  seq: number;
  deviceId: string;
  capturedAt: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const fetchAll = async (cloud: RunningCloud, deviceId: string): Promise<StoredItem[]> => {
  const items: StoredItem[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ deviceId, limit: '1000', ...(cursor ? { cursor } : {}) });
    const { status, body } = await getJson(cloud, `/api/v1/observations?${q}`);
    if (status !== 200) throw new Error(`GET observations ${status}: ${JSON.stringify(body)}`);
    items.push(...(body as { items: StoredItem[] }).items);
    cursor = (body as { nextCursor: string | null }).nextCursor;
  } while (cursor);
  return items;
};

/** No seq missing, none stored twice, and exactly the message ids that were sent. */
const expectExactlyOnce = (sent: Observation[], stored: StoredItem[]) => {
  const seqs = stored.map((s) => s.seq).sort((a, b) => a - b);
  expect(seqs, 'stored seqs (each once, none missing)').toEqual(sent.map((o) => o.seq).sort((a, b) => a - b));
  expect(new Set(stored.map((s) => s.messageId))).toEqual(new Set(sent.map((o) => o.messageId)));
};

/** Device credentials issued by the cloud's registry, as provisioning would. */
const deviceOptions = async (cloud: RunningCloud, deviceId: string) => ({
  clientId: deviceId,
  username: deviceId,
  password: (await cloud.identity.registry.issue(deviceId)).password,
});

const metric = async (cloud: RunningCloud, line: RegExp): Promise<number> => {
  const text = await (await fetch(`${cloud.httpUrl}/metrics`)).text();
  const m = text.split('\n').find((l) => line.test(l));
  return m === undefined ? 0 : Number(m.split(' ').pop());
};

/**
 * A device that behaves like the edge agent on the wire: QoS 1, a persistent session
 * (clean: false), reconnects, and keeps every observation until its PUBACK came — mqtt.js resends
 * the in-flight ones on reconnect, and anything whose publish failed is published again.
 */
class AgentLikeDevice {
  readonly sent: Observation[] = [];
  private readonly unacked = new Map<string, Observation>();
  private seq = 0;
  private constructor(
    readonly deviceId: string,
    private readonly client: MqttClient,
  ) {}

  static async connect(cloud: RunningCloud, deviceId: string): Promise<AgentLikeDevice> {
    const client = await mqtt.connectAsync(cloud.mqttUrl, {
      ...(await deviceOptions(cloud, deviceId)),
      clean: false,
      reconnectPeriod: 250,
      connectTimeout: 5000,
      keepalive: 5,
    });
    client.on('error', () => undefined);
    return new AgentLikeDevice(deviceId, client);
  }

  get pending(): number {
    return this.unacked.size;
  }

  capture(): void {
    const seq = this.seq++;
    const obs = makeObservation({
      deviceId: this.deviceId,
      outletId: `outlet-${this.deviceId}`,
      fixtureId: `cooler-${this.deviceId}`,
      capturedAt: new Date().toISOString(),
      seq,
      skus: [{ sku: 'cola-330', count: seq % 7, facings: Math.min(3, seq % 7) }],
    });
    this.sent.push(obs);
    this.send(obs);
  }

  private send(obs: Observation): void {
    this.unacked.set(obs.messageId, obs);
    this.client.publish(topics.observations(this.deviceId), JSON.stringify(obs), { qos: 1 }, (err) => {
      if (!err) return void this.unacked.delete(obs.messageId);
      // Not acknowledged (store down: the broker refused it and dropped the connection): resend.
      setTimeout(() => this.send(obs), 250);
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

// Under CI=true a missing influxd fails here (startInfluxd throws); locally it skips.
describe.runIf(influxdAvailable() || process.env.CI === 'true')('InfluxDB outage during ingest', () => {
  let influx: Influxd;
  beforeAll(async () => {
    influx = await startInfluxd();
  });
  afterAll(async () => {
    await influx?.stop();
  });

  // The outage in the field can last minutes. Nothing on the outbox/broker path measures time (a
  // refused publish is resent until a PUBACK comes, however long; a held one waits for it), so 15 s
  // shows the same as 15 min; SHELFSIGHT_FAULT_OUTAGE_S makes it longer.
  const outageS = Number(process.env.SHELFSIGHT_FAULT_OUTAGE_S ?? 15);

  const faults = [
    {
      name: 'killed (connection refused) mid-ingest and restarted on the same data',
      begin: () => influx.kill(),
      end: () => influx.restart(),
      // Refused writes fail after the adapter's retries: counted, the publish refused and resent.
      storeErrors: true,
    },
    {
      name: 'hung (SIGSTOP: connections open, no answers) longer than the write timeout, then resumed',
      begin: () => influx.pause(),
      end: () => influx.resume(),
      // Timed-out writes are retried by the adapter; whether one runs out of retries depends on timing.
      storeErrors: false,
    },
  ];

  it.each(faults.map((f, i) => ({ ...f, i })))(
    'stores every observation exactly once when influxd is $name',
    async (fault) => {
      const cloud = await startTestCloud({
        store: 'influx',
        influxUrl: influx.url,
        influxDb: `fault_outage_${fault.i}`,
      });
      const devices = await Promise.all(
        [1, 2, 3].map((n) => AgentLikeDevice.connect(cloud, `cam-out-${fault.i}-${n}`)),
      );
      let capturing = true;
      const loop = (async () => {
        while (capturing) {
          for (const d of devices) d.capture();
          await sleep(200);
        }
      })();
      try {
        await waitUntil(() => cloud.stats().accepted >= 15, 20_000, 'ingest running');
        await fault.begin();
        const downAt = Date.now();
        if (fault.storeErrors)
          await waitUntil(() => cloud.stats().storeErrors >= 3, 30_000, 'store errors counted during the outage');
        await sleep(Math.max(0, outageS * 1000 - (Date.now() - downAt)));
        const acceptedBefore = cloud.stats().accepted;
        expect(
          devices.some((d) => d.pending > 0),
          'devices hold unacknowledged observations',
        ).toBe(true);
        await fault.end();
        await waitUntil(() => cloud.stats().accepted > acceptedBefore + 10, 30_000, 'ingest resumed');
        await sleep(1000);
        capturing = false;
        await loop;
        await waitUntil(() => devices.every((d) => d.pending === 0), 60_000, 'every observation acknowledged');

        for (const d of devices) expectExactlyOnce(d.sent, await fetchAll(cloud, d.deviceId));
        const total = devices.reduce((n, d) => n + d.sent.length, 0);
        const stats = cloud.stats();
        expect(stats.accepted).toBe(total);
        if (fault.storeErrors) expect(stats.storeErrors).toBeGreaterThan(0);
        expect(await metric(cloud, /^shelfsight_ingest_store_errors_total /)).toBe(stats.storeErrors);
      } finally {
        capturing = false;
        await loop;
        influx.resume(); // never leave a stopped influxd behind a failed run
        await Promise.all(devices.map((d) => d.close()));
        await cloud.close();
      }
    },
    outageS * 1000 + 120_000,
  );
});

describe('device clocks far from the cloud clock (D20)', () => {
  it('refuses and counts captures dated in the future, stores past ones without touching "latest"', async () => {
    const cloud = await startTestCloud();
    const deviceId = 'cam-skew';
    const dev = await mqtt.connectAsync(cloud.mqttUrl, {
      ...(await deviceOptions(cloud, deviceId)),
      reconnectPeriod: 0,
    });
    try {
      const now = Date.now();
      const at = (offsetMs: number, seq: number, count: number) =>
        makeObservation({
          deviceId,
          fixtureId: 'cooler-skew',
          capturedAt: new Date(now + offsetMs).toISOString(),
          seq,
          skus: [{ sku: 'cola-330', count, facings: Math.min(3, count) }],
        });
      const onTime = at(-60_000, 1, 5);
      const slightlyAhead = at(MAX_FUTURE_SKEW_MS / 2, 2, 4); // ordinary drift: accepted
      const nextYear = at(365 * 86_400_000, 3, 0);
      const lastYear = at(-365 * 86_400_000, 4, 9);
      const farAhead = at(MAX_FUTURE_SKEW_MS + 5 * 60_000, 5, 1);
      for (const o of [onTime, slightlyAhead, nextYear, lastYear, farAhead])
        // Resolves on the PUBACK: a refused capture is acknowledged, so the device's outbox moves on.
        await dev.publishAsync(topics.observations(deviceId), JSON.stringify(o), { qos: 1 });
      expect(dev.connected).toBe(true);

      const stats = cloud.stats();
      expect(stats).toMatchObject({ accepted: 3, duplicates: 0, storeErrors: 0 });
      expect(stats.rejected).toEqual({ clock_skew: 2 });
      expect(await metric(cloud, /^shelfsight_ingest_rejects_total\{reason="clock_skew"\} /)).toBe(2);

      const stored = await fetchAll(cloud, deviceId);
      expect(stored.map((s) => s.seq).sort()).toEqual([1, 2, 4]);

      // "latest" is the newest capture that is really in the past (or within the drift tolerance).
      const fixtures = (await getJson(cloud, '/api/v1/fixtures')).body.items as {
        fixtureId: string;
        capturedAt: string;
      }[];
      expect(fixtures.find((f) => f.fixtureId === 'cooler-skew')?.capturedAt).toBe(slightlyAhead.capturedAt);

      // The past capture is history, in capture order.
      const history = (await getJson(cloud, '/api/v1/fixtures/cooler-skew/history')).body.series as {
        sku: string;
        points: { capturedAt: string; count: number }[];
      }[];
      expect(history.find((s) => s.sku === 'cola-330')?.points).toEqual([
        expect.objectContaining({ capturedAt: lastYear.capturedAt, count: 9 }),
        expect.objectContaining({ capturedAt: onTime.capturedAt, count: 5 }),
        expect.objectContaining({ capturedAt: slightlyAhead.capturedAt, count: 4 }),
      ]);
    } finally {
      await dev.endAsync();
      await cloud.close();
    }
  });
});

const stores =
  influxdAvailable() || process.env.CI === 'true' ? (['duckdb', 'influx'] as const) : (['duckdb'] as const);

describe.each(stores)('duplicate and out-of-order delivery (%s store)', (storeKind) => {
  let influxd: Influxd | undefined;
  let dbs = 0;
  const deviceId = 'cam-order';
  const fixtureId = 'cooler-order';
  const base = Date.now() - 6 * 3_600_000;
  // Twelve captures 20 minutes apart: the shelf empties, runs out, is restocked and sells again.
  const counts = [8, 7, 5, 4, 2, 0, 0, 9, 8, 6, 5, 3];
  const series: Observation[] = counts.map((count, seq) =>
    makeObservation({
      deviceId,
      outletId: 'outlet-order',
      fixtureId,
      capturedAt: new Date(base + seq * 20 * 60_000).toISOString(),
      seq,
      skus: [
        { sku: 'cola-330', count, facings: Math.min(3, count) },
        { sku: 'lemon-500', count: 6 - (seq % 4), facings: 2 },
      ],
    }),
  );

  /** Publishes in the given order; after `readAfter` messages the views are read once (warming caches). */
  const deliver = async (order: Observation[], readAfter = -1) => {
    const cloud = await startTestCloud(
      storeKind === 'influx' ? { store: 'influx', influxUrl: influxd!.url, influxDb: `fault_order_${dbs++}` } : {},
    );
    const dev = await mqtt.connectAsync(cloud.mqttUrl, {
      ...(await deviceOptions(cloud, deviceId)),
      reconnectPeriod: 0,
    });
    for (const [i, o] of order.entries()) {
      if (i === readAfter) await views(cloud);
      await dev.publishAsync(topics.observations(deviceId), JSON.stringify(o), { qos: 1 });
    }
    await dev.endAsync();
    return cloud;
  };

  const from = new Date(base - 3_600_000).toISOString();
  const to = new Date(Date.now() + 3_600_000).toISOString();
  const views = async (cloud: RunningCloud) => {
    const get = async (p: string) => {
      const r = await getJson(cloud, p);
      expect(r.status, p).toBe(200);
      return r.body as unknown;
    };
    const range = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    return {
      fixtures: await get('/api/v1/fixtures'),
      history: await get(`/api/v1/fixtures/${fixtureId}/history`),
      facings: await get(`/api/v1/analytics/facings?${range}`),
      stockouts: await get(`/api/v1/analytics/stockouts?${range}&state=all`),
      sales: await get(`/api/v1/analytics/sales?${range}`),
    };
  };

  let inOrder: RunningCloud;
  let shuffled: RunningCloud;
  beforeAll(async () => {
    if (storeKind === 'influx') influxd = await startInfluxd();
    inOrder = await deliver(series);
    // Live captures 8–11 arrive while the outbox drains 0–7 after a reconnect; 3 and 10 come twice
    // (a PUBACK lost on the way back), one of them long after.
    const s = series;
    // The dashboard reads in between, so analytics caches built from the newest captures must take
    // the older ones that arrive after them.
    shuffled = await deliver(
      [s[8]!, s[9]!, s[0]!, s[1]!, s[10]!, s[2]!, s[3]!, s[3]!, s[4]!, s[11]!, s[5]!, s[6]!, s[7]!, s[10]!],
      2,
    );
  });
  afterAll(async () => {
    await inOrder?.close();
    await shuffled?.close();
    await influxd?.stop();
  });

  it('stores each observation once and counts the redeliveries as duplicates', async () => {
    expectExactlyOnce(series, await fetchAll(shuffled, deviceId));
    expect(shuffled.stats()).toMatchObject({ accepted: 12, duplicates: 2, storeErrors: 0, rejected: {} });
    expect(await metric(shuffled, /^shelfsight_ingest_observations_total\{outcome="duplicate"\} /)).toBe(2);
  });

  it('keeps latest and history in capture order, and analytics as with in-order delivery', async () => {
    const a = await views(inOrder);
    const b = await views(shuffled);
    const latest = (b.fixtures as { items: { fixtureId: string; capturedAt: string }[] }).items.find(
      (f) => f.fixtureId === fixtureId,
    );
    expect(latest?.capturedAt).toBe(series[11]!.capturedAt);
    const history = b.history as { series: { sku: string; points: { capturedAt: string; count: number }[] }[] };
    const cola = history.series.find((x) => x.sku === 'cola-330')!;
    expect(cola.points.map((p) => p.capturedAt)).toEqual(series.map((o) => o.capturedAt));
    expect(cola.points.map((p) => p.count)).toEqual(counts);
    // Same facings, stockouts and sales whatever the arrival order.
    expect(b.facings).toEqual(a.facings);
    expect(b.stockouts).toEqual(a.stockouts);
    expect(b.sales).toEqual(a.sales);
    // Not vacuous: the run-out between captures 5 and 7 is one closed stockout, and units sold.
    expect((b.stockouts as { items: unknown[] }).items).toHaveLength(1);
    expect((b.sales as { items: unknown[] }).items).not.toEqual([]);
  });
});
