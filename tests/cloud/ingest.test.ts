import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '@shelfsight/protocol';
import type { RunningCloud } from '@shelfsight/cloud';
import { makeObservation } from './helpers/observations.js';
import { connectDevice, getJson, startTestCloud, waitFor } from './helpers/cloud.js';

describe('ingest over a real broker', () => {
  let cloud: RunningCloud;
  let dev: MqttClient;

  beforeAll(async () => {
    cloud = await startTestCloud();
    dev = await connectDevice(cloud, 'dev-1');
  });
  afterAll(async () => {
    await dev?.endAsync();
    await cloud?.close();
  });

  const publish = (payload: string | Buffer, topic = topics.observations('dev-1')) =>
    dev.publishAsync(topic, payload, { qos: 1 });

  it('stores a valid observation and serves it over REST', async () => {
    const obs = makeObservation({ capturedAt: new Date().toISOString() });
    await publish(JSON.stringify(obs));
    await waitFor(() => cloud.stats().accepted === 1, 5000, 'accepted');
    const { status, body } = await getJson(cloud, '/api/v1/observations?deviceId=dev-1');
    expect(status).toBe(200);
    expect(body.items.map((i: { messageId: string }) => i.messageId)).toEqual([obs.messageId]);
    const fixtures = await getJson(cloud, '/api/v1/fixtures');
    expect(fixtures.body.items[0]).toMatchObject({
      outletId: 'outlet-1',
      fixtureId: 'cooler-1',
      deviceId: 'dev-1',
      skus: [
        { sku: 'cola-330', count: 6, facings: 3 },
        { sku: 'lemon-500', count: 2, facings: 2 },
      ],
      emptyFacings: 1,
      unknownProducts: 0,
      qualityFlags: [],
    });
    const history = await getJson(cloud, '/api/v1/fixtures/cooler-1/history?sku=cola-330');
    expect(history.body.series[0].points).toHaveLength(1);
  });

  it('stores a duplicate messageId once and counts it', async () => {
    const obs = makeObservation({ fixtureId: 'cooler-dup' });
    const before = cloud.stats();
    await publish(JSON.stringify(obs));
    await publish(JSON.stringify(obs));
    await waitFor(() => cloud.stats().duplicates === before.duplicates + 1, 5000, 'duplicate');
    expect(cloud.stats().accepted).toBe(before.accepted + 1);
    const { body } = await getJson(cloud, '/api/v1/observations?fixtureId=cooler-dup');
    expect(body.items).toHaveLength(1);
  });

  it('rejects bad JSON, schema violations, wrong device and oversized payloads, and stays up', async () => {
    const countBefore = (await cloud.store.queryObservations({ limit: 1000 })).items.length;
    await publish('{ not json');
    await publish(JSON.stringify({ hello: 'world' }));
    await publish(JSON.stringify(makeObservation({ deviceId: 'dev-2' })));
    const big = makeObservation();
    await publish(JSON.stringify({ ...big, pad: 'x'.repeat(300 * 1024) }));
    await publish(JSON.stringify({ deviceId: 'dev-1', state: 'sleepy' }), topics.status('dev-1'));
    await waitFor(
      () => {
        const r = cloud.stats().rejected;
        return r.bad_json === 1 && r.schema === 2 && r.device_mismatch === 1 && r.oversized === 1;
      },
      5000,
      'rejects counted',
    );
    expect((await cloud.store.queryObservations({ limit: 1000 })).items).toHaveLength(countBefore);
    const stats = await getJson(cloud, '/api/v1/ingest/stats');
    expect(stats.body).toMatchObject({ rejected: { bad_json: 1, schema: 2, device_mismatch: 1, oversized: 1 } });
    expect((await getJson(cloud, '/api/v1/healthz')).status).toBe(200);
    // Still ingesting after all that.
    const ok = makeObservation({ fixtureId: 'after-rejects' });
    await publish(JSON.stringify(ok));
    await waitFor(
      async () => (await getJson(cloud, '/api/v1/observations?fixtureId=after-rejects')).body.items.length === 1,
    );
  });

  it('cuts off a client whose packet exceeds the transport limit', async () => {
    const flooder = await connectDevice(cloud, 'dev-flood');
    const closed = new Promise<void>((resolve) => flooder.once('close', () => resolve()));
    flooder.publish(topics.observations('dev-flood'), Buffer.alloc(2 * 1024 * 1024, 0x20), { qos: 1 });
    await closed;
    flooder.end(true);
    expect(cloud.brokerStats().packetsTooLarge).toBe(1);
    expect((await getJson(cloud, '/api/v1/healthz')).status).toBe(200);
  });

  it('refuses a device publishing under another device id', async () => {
    const rogue = await connectDevice(cloud, 'dev-rogue');
    const closed = new Promise<void>((resolve) => rogue.once('close', () => resolve()));
    rogue.publish(topics.observations('dev-1'), JSON.stringify(makeObservation({ fixtureId: 'spoofed' })), { qos: 1 });
    await closed;
    rogue.end(true);
    const { body } = await getJson(cloud, '/api/v1/observations?fixtureId=spoofed');
    expect(body.items).toEqual([]);
  });

  it('refuses the internal client-id prefix without the internal secret', async () => {
    await expect(
      mqtt.connectAsync(cloud.mqttUrl, { clientId: 'shelfsight-cloud-evil', reconnectPeriod: 0, connectTimeout: 3000 }),
    ).rejects.toThrow();
  });

  it('records device status and lists it', async () => {
    await publish(
      JSON.stringify({ deviceId: 'dev-1', state: 'online', at: new Date().toISOString(), agentVersion: '0.1.0' }),
      topics.status('dev-1'),
    );
    const devices = await waitFor(async () => {
      const { body } = await getJson(cloud, '/api/v1/devices');
      return body.items.find((d: { deviceId: string }) => d.deviceId === 'dev-1');
    });
    expect(devices).toMatchObject({ deviceId: 'dev-1', state: 'online', agentVersion: '0.1.0' });
  });

  it('runs capture-now against a device that replies, and 504s when none does', async () => {
    await dev.subscribeAsync(topics.commands('dev-1'), { qos: 1 });
    const onCommand = (topic: string, payload: Buffer) => {
      if (topic !== topics.commands('dev-1')) return;
      const cmd = JSON.parse(payload.toString()) as { id: string };
      void dev.publishAsync(
        topics.replies('dev-1'),
        JSON.stringify({ commandId: cmd.id, deviceId: 'dev-1', ok: true, at: new Date().toISOString() }),
        { qos: 1 },
      );
    };
    dev.on('message', onCommand);
    const res = await fetch(`${cloud.httpUrl}/api/v1/devices/dev-1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'capture-now' }),
    });
    dev.off('message', onCommand);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      command: { id: string; name: string };
      reply: { commandId: string; ok: boolean };
    };
    expect(body.command.name).toBe('capture-now');
    expect(body.reply).toMatchObject({ commandId: body.command.id, ok: true });

    const silent = await fetch(`${cloud.httpUrl}/api/v1/devices/dev-silent/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'capture-now' }),
    });
    expect(silent.status).toBe(504);
    expect(((await silent.json()) as { error: string }).error).toMatch(/did not reply/);
  });
});
