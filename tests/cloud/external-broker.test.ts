import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '@shelfsight/cloud';
import { topics } from '@shelfsight/protocol';
import { influxdAvailable, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { logEntries, runNode, type Proc } from '../helpers/processes.js';
import { makeObservation } from './helpers/observations.js';

// The cloud on an external broker (--mqtt-url) sharing the observations with an ingest worker
// (--ingest-group), both writing to one influxd (docs/decisions.md D16).
const run = influxdAvailable() || process.env.CI === 'true';

describe.runIf(run)('cloud with an external broker and an ingest worker', () => {
  let broker: Mosquitto;
  let influx: Influxd | undefined;
  let cloud: RunningCloud | undefined;
  let worker: Proc | undefined;
  let dir: string;

  beforeAll(async () => {
    broker = await startMosquitto('max_queued_messages 100000');
    influx = await startInfluxd();
    dir = await mkdtemp(path.join(tmpdir(), 'external-broker-'));
  });
  afterAll(async () => {
    await cloud?.close();
    if (worker && worker.child.exitCode === null) await worker.kill9();
    await broker?.stop();
    await influx?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores observations taken by either member of the group once, and device status through the cloud', async () => {
    const db = await influx!.createDatabase('external');
    cloud = await startCloud(
      {
        httpPort: 0,
        dataDir: dir,
        auth: 'off',
        mqttUrl: broker.url,
        ingestGroup: db,
        store: 'influx',
        influxUrl: influx!.url,
        influxDb: db,
      },
      { logger: pino({ level: 'warn' }), print: () => undefined },
    );
    expect(cloud.mqttUrl).toBe(broker.url);
    worker = runNode('cloud/dist/ingest-worker.js', [
      ...['--mqtt-url', broker.url, '--worker-id', 'x1', '--group', db, '--sessions', '2', '--stats-every', '0'],
      ...['--store', 'influx', '--influx-url', influx!.url, '--influx-db', db],
    ]);
    for (let t = Date.now(); logEntries(worker.lines, 'ingest worker started').length === 0;) {
      if (Date.now() - t > 20_000 || worker.child.exitCode !== null) throw new Error('worker did not start');
      await new Promise((r) => setTimeout(r, 50));
    }

    const dev = await mqtt.connectAsync(broker.url, { clientId: 'ext-dev-1' });
    await dev.publishAsync(
      topics.status('ext-dev-1'),
      JSON.stringify({ deviceId: 'ext-dev-1', state: 'online', at: new Date().toISOString() }),
      { qos: 1, retain: true },
    );
    const ids: string[] = [];
    const base = Date.parse('2026-11-23T09:00:00.000Z');
    for (let seq = 0; seq < 60; seq++) {
      const obs = makeObservation({
        deviceId: 'ext-dev-1',
        fixtureId: 'ext-cooler-1',
        seq,
        capturedAt: new Date(base + seq * 1000).toISOString(),
      });
      ids.push(obs.messageId);
      await dev.publishAsync(topics.observations('ext-dev-1'), JSON.stringify(obs), { qos: 1 });
    }
    await dev.endAsync();

    const deadline = Date.now() + 20_000;
    let stored: string[] = [];
    while (Date.now() < deadline) {
      stored = (await cloud.store.queryObservations({ fixtureId: 'ext-cooler-1', limit: 1000 })).items.map(
        (i) => i.messageId,
      );
      if (stored.length >= ids.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(stored.length).toBe(ids.length);
    expect(new Set(stored)).toEqual(new Set(ids));
    expect((await cloud.store.listDeviceStatus()).find((s) => s.deviceId === 'ext-dev-1')?.state).toBe('online');

    // The broker split the stream between the cloud's session and the worker's two.
    await worker.stop();
    const workerStats = logEntries<{ stats: { accepted: number } }>(worker.lines, 'ingest worker stopped')[0]!.stats;
    expect(workerStats.accepted).toBeGreaterThan(0);
    expect(cloud.stats().accepted).toBeGreaterThan(0);
    expect(workerStats.accepted + cloud.stats().accepted).toBe(ids.length);
    expect(cloud.stats().statusUpdates).toBe(1);
  });
});
