import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@shelfsight/protocol';
import { influxdAvailable, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { logEntries, runNode, type Proc } from '../helpers/processes.js';
import { makeObservation } from './helpers/observations.js';

// Scale-out ingest (docs/decisions.md D16): devices publish to Mosquitto, ingest workers (real
// processes, built CLI) consume a shared subscription and write to one influxd.
const run = influxdAvailable() || process.env.CI === 'true';

const DEVICES = 10;
const PER_DEVICE = 120;
const TOTAL = DEVICES * PER_DEVICE;

describe.runIf(run)('ingest workers on a shared subscription', () => {
  let broker: Mosquitto;
  let influx: Influxd | undefined;
  const procs: Proc[] = [];

  beforeAll(async () => {
    // Queued messages of a dead worker's sessions wait for it; Mosquitto's default cap (1000 per
    // session) would drop the rest, so a deployment raises it (README of cloud, "Scale-out").
    broker = await startMosquitto('max_queued_messages 100000');
    influx = await startInfluxd();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => (p.child.exitCode === null ? p.kill9() : undefined)));
    await broker?.stop();
    await influx?.stop();
  });

  const influxQuery = async (db: string, q: string) => {
    const res = await fetch(`${influx!.url}/query?${new URLSearchParams({ db, q })}`);
    const body = (await res.json()) as { results: { series?: { values: unknown[][] }[] }[] };
    return body.results[0]?.series?.[0]?.values ?? [];
  };
  const storedCount = async (db: string) =>
    Number((await influxQuery(db, 'SELECT count("seq") FROM observations'))[0]?.[1] ?? 0);

  const workerArgs = (db: string, id: string) => [
    '--mqtt-url',
    broker.url,
    '--worker-id',
    id,
    '--group',
    db,
    '--sessions',
    '4',
    '--store',
    'influx',
    '--influx-url',
    influx!.url,
    '--influx-db',
    db,
    '--stats-every',
    '0',
  ];
  const startWorker = async (db: string, id: string): Promise<Proc> => {
    const p = runNode('cloud/dist/ingest-worker.js', workerArgs(db, id));
    procs.push(p);
    const deadline = Date.now() + 20_000;
    while (logEntries(p.lines, 'ingest worker started').length === 0) {
      if (p.child.exitCode !== null) throw new Error(`worker ${id} exited ${p.child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`worker ${id} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return p;
  };

  /** D devices publish their observations at QoS 1, 8 in flight each; `onProgress` sees the count acked by the broker. */
  const publishAll = async (prefix: string, onProgress: (acked: number) => Promise<void> | void) => {
    const clients: MqttClient[] = await Promise.all(
      Array.from({ length: DEVICES }, (_, d) => mqtt.connectAsync(broker.url, { clientId: `${prefix}-dev-${d}` })),
    );
    const ids: string[] = [];
    let acked = 0;
    const base = Date.parse('2026-11-23T08:00:00.000Z');
    await Promise.all(
      clients.map(async (c, d) => {
        let next = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (next < PER_DEVICE) {
              const seq = next++;
              const obs = makeObservation({
                deviceId: `${prefix}-dev-${d}`,
                outletId: `${prefix}-outlet-${d}`,
                fixtureId: `${prefix}-cooler-${d}`,
                seq,
                capturedAt: new Date(base + seq * 60_000).toISOString(),
              });
              ids.push(obs.messageId);
              await c.publishAsync(topics.observations(`${prefix}-dev-${d}`), JSON.stringify(obs), { qos: 1 });
              await onProgress(++acked);
            }
          }),
        );
      }),
    );
    await Promise.all(clients.map((c) => c.endAsync()));
    return ids;
  };

  const waitForStored = async (db: string, n: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    let stored = 0;
    while ((stored = await storedCount(db)) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    return stored;
  };

  it('stores every observation exactly once when one of two workers is killed mid-stream and comes back', async () => {
    const db = await influx!.createDatabase('workers');
    const w1 = await startWorker(db, 'w1');
    const w2 = await startWorker(db, 'w2');

    let killed = false;
    let restarted: Promise<Proc> | null = null;
    const ids = await publishAll('k', async (acked) => {
      if (killed || acked < TOTAL / 3) return;
      killed = true;
      // SIGKILL: no drain, no DISCONNECT; whatever w1 had in flight was never acknowledged.
      await w1.kill9();
      // While it is down the broker keeps queueing w1's share for its sessions.
      restarted = new Promise((r) => setTimeout(r, 1000)).then(() => startWorker(db, 'w1'));
    });
    expect(killed).toBe(true);
    const w1again = await restarted!;

    expect(await waitForStored(db, TOTAL, 60_000)).toBe(TOTAL);
    // A redelivery arriving late must still be recognised as a duplicate, not stored again.
    await new Promise((r) => setTimeout(r, 1500));
    const rows = await influxQuery(db, 'SELECT "messageId" FROM observations');
    const stored = rows.map((r) => String(r[1]));
    expect(stored.length).toBe(TOTAL);
    expect(new Set(stored)).toEqual(new Set(ids));
    const skuPoints = Number((await influxQuery(db, 'SELECT count("count") FROM sku_counts'))[0]?.[1] ?? 0);
    expect(skuPoints).toBe(TOTAL * 2);

    // Both workers did part of the work; the counts add up to the stream.
    await Promise.all([w2.stop(), w1again.stop()]);
    const last = (p: Proc) =>
      logEntries<{ stats: { accepted: number; duplicates: number } }>(p.lines, 'ingest worker stopped')[0]!.stats;
    const s2 = last(w2);
    const s1 = last(w1again);
    expect(s2.accepted).toBeGreaterThan(0);
    expect(s1.accepted).toBeGreaterThan(0);
    // w1's first life stored some too (SIGKILL left no summary), so the survivors account for at most TOTAL.
    expect(s1.accepted + s2.accepted).toBeLessThanOrEqual(TOTAL);
  });

  it('a retired worker stores what the broker kept for it and stops getting a share', async () => {
    const db = await influx!.createDatabase('retire');
    const w1 = await startWorker(db, 'r1');
    const w2 = await startWorker(db, 'r2');
    let stage = 0;
    const ids = await publishAll('r', async (acked) => {
      if (stage === 0 && acked >= TOTAL / 3) {
        stage = 1;
        // Scale down: stop r2 for good. Until it is retired, the broker keeps queueing r2's share.
        await w2.stop();
      } else if (stage === 1 && acked >= (2 * TOTAL) / 3) {
        stage = 2;
        const retire = runNode('cloud/dist/ingest-worker.js', [...workerArgs(db, 'r2'), '--retire']);
        procs.push(retire);
        expect(await retire.exited).toBe(0);
        expect(logEntries(retire.lines, 'ingest worker retired')).toHaveLength(1);
      }
    });
    expect(stage).toBe(2);
    // Everything published after the retirement went to r1 alone; nothing is stranded in r2's sessions.
    expect(await waitForStored(db, TOTAL, 30_000)).toBe(TOTAL);
    const rows = await influxQuery(db, 'SELECT "messageId" FROM observations');
    expect(rows.length).toBe(TOTAL);
    expect(new Set(rows.map((r) => String(r[1])))).toEqual(new Set(ids));
    await w1.stop();
  });
});
