import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud } from '@shelfsight/cloud';
import { topics } from '@shelfsight/protocol';
import { makeObservation } from './helpers/observations.js';
import { waitFor } from './helpers/cloud.js';

/** Reads one sample from the Prometheus text format. */
const sample = (text: string, name: string, labels = ''): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
};

describe('Prometheus /metrics', () => {
  let cloud: Awaited<ReturnType<typeof startCloud>>;
  beforeAll(async () => {
    cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: ':memory:', auth: 'off', logLevel: 'silent' });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('exports ingest outcomes, rejects by reason, store latency, connections and device outboxes', async () => {
    const dev = await mqtt.connectAsync(cloud.mqttUrl, { clientId: 'dev-1' });
    const obs = makeObservation({ deviceId: 'dev-1' });
    await dev.publishAsync(topics.observations('dev-1'), JSON.stringify(obs), { qos: 1 });
    await dev.publishAsync(topics.observations('dev-1'), JSON.stringify(obs), { qos: 1 });
    await dev.publishAsync(topics.observations('dev-1'), '{not json', { qos: 1 });
    await dev.publishAsync(
      topics.status('dev-1'),
      JSON.stringify({
        deviceId: 'dev-1',
        state: 'online',
        at: new Date().toISOString(),
        health: { cpuPercent: 5, rssMb: 100, outboxDepth: 7, uptimeS: 10, capturesOk: 3, capturesFailed: 0 },
      }),
      { qos: 1, retain: true },
    );
    await waitFor(() => cloud.stats().statusUpdates === 1, 5000, 'status stored');

    const res = await fetch(`${cloud.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(sample(text, 'shelfsight_ingest_observations_total', 'outcome="stored"')).toBe(1);
    expect(sample(text, 'shelfsight_ingest_observations_total', 'outcome="duplicate"')).toBe(1);
    expect(sample(text, 'shelfsight_ingest_rejects_total', 'reason="bad_json"')).toBe(1);
    expect(sample(text, 'shelfsight_store_write_seconds_count')).toBe(2);
    expect(sample(text, 'shelfsight_mqtt_connected_clients')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'shelfsight_devices', 'state="online"')).toBe(1);
    expect(sample(text, 'shelfsight_device_outbox_depth', 'stat="sum"')).toBe(7);
    expect(sample(text, 'shelfsight_cloud_process_resident_memory_bytes')).toBeGreaterThan(0);
    await dev.endAsync();
  });
});
