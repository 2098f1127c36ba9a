import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeAgent, HttpSnapshotCamera, createLogger, loadRecognizer, parseAgentConfig } from '@shelfsight/edge-agent';
import { CommandReply, DeviceStatus, Observation, topics } from '@shelfsight/protocol';
import { startVirtualCameras } from '@shelfsight/simulators';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

const modelDir = fileURLToPath(new URL('../../models', import.meta.url));

/** Collects messages per topic so tests can wait for the n-th one. */
class Inbox {
  readonly byTopic = new Map<string, Buffer[]>();
  constructor(readonly client: MqttClient) {
    client.on('message', (t, p) => this.byTopic.set(t, [...(this.byTopic.get(t) ?? []), p]));
  }
  async next(topic: string, predicate: (p: Buffer) => boolean = () => true, timeoutMs = 15_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = (this.byTopic.get(topic) ?? []).find(predicate);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no matching message on ${topic}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('edge agent against Mosquitto (Debian)', () => {
  let broker: Mosquitto;
  let cameras: Awaited<ReturnType<typeof startVirtualCameras>>;
  let watcher: MqttClient;
  let inbox: Inbox;
  const deviceId = 'cam-mosq-01';

  const makeAgent = async (cameraUrl: string, id = deviceId) => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'agent-mosq-'));
    const config = parseAgentConfig({
      deviceId: id,
      outletId: 'outlet-mosq',
      fixtureId: `fixture-${id}`,
      mqtt: { url: broker.url, reconnectPeriodMs: 200, keepaliveS: 5 },
      camera: { kind: 'http', url: cameraUrl, timeoutMs: 2000 },
      capture: { intervalS: 0, retries: 2, retryDelayMs: 100 },
      modelDir,
      dataDir,
      logLevel: 'silent',
    });
    return new EdgeAgent({
      config,
      camera: new HttpSnapshotCamera(cameraUrl, 2000),
      recognizer: await loadRecognizer({ modelDir }),
      loadRecognizer,
      log: createLogger('silent'),
    });
  };

  beforeAll(async () => {
    broker = await startMosquitto();
    cameras = await startVirtualCameras({ port: 0, host: '127.0.0.1', cameras: 1, seed: 5 });
    watcher = await mqtt.connectAsync(broker.url, { clientId: `watcher-${randomUUID()}` });
    inbox = new Inbox(watcher);
    await watcher.subscribeAsync('shelfsight/v1/devices/#', { qos: 1 });
  });

  afterAll(async () => {
    await watcher?.endAsync();
    await cameras?.close();
    await broker?.stop();
  });

  it('publishes a valid observation at QoS 1, retained online status, and answers capture-now', async () => {
    const agent = await makeAgent(cameras.cameras[0]!.snapshotUrl);
    await agent.start();
    try {
      const status = DeviceStatus.parse(
        JSON.parse((await inbox.next(topics.status(deviceId), (p) => p.includes('"online"'))).toString()),
      );
      expect(status.health?.outboxDepth).toBeGreaterThanOrEqual(0);
      expect(status.model?.name).toBeTruthy();

      const { observation } = await agent.capture('command');
      const wire = Observation.parse(
        JSON.parse(
          (await inbox.next(topics.observations(deviceId), (p) => p.includes(observation.messageId))).toString(),
        ),
      );
      expect(wire.skus).toEqual(observation.skus);
      expect(wire.seq).toBe(observation.seq);

      const commandId = randomUUID();
      await watcher.publishAsync(
        topics.commands(deviceId),
        JSON.stringify({ id: commandId, name: 'capture-now', issuedAt: new Date().toISOString() }),
        { qos: 1 },
      );
      const reply = CommandReply.parse(
        JSON.parse((await inbox.next(topics.replies(deviceId), (p) => p.includes(commandId))).toString()),
      );
      expect(reply.ok).toBe(true);
      await inbox.next(topics.observations(deviceId), (p) => p.includes(reply.observationId!));

      const expiredId = randomUUID();
      await watcher.publishAsync(
        topics.commands(deviceId),
        JSON.stringify({
          id: expiredId,
          name: 'capture-now',
          issuedAt: '2020-01-01T00:00:00Z',
          expiresAt: '2020-01-01T00:01:00Z',
        }),
        { qos: 1 },
      );
      const expired = CommandReply.parse(
        JSON.parse((await inbox.next(topics.replies(deviceId), (p) => p.includes(expiredId))).toString()),
      );
      expect(expired).toMatchObject({ ok: false, error: 'expired' });
    } finally {
      await agent.stop();
    }
  });

  it('is marked offline by its last will when the link dies', async () => {
    const id = 'cam-mosq-lwt';
    const agent = await makeAgent(cameras.cameras[0]!.snapshotUrl, id);
    await agent.start();
    await inbox.next(topics.status(id), (p) => p.includes('"online"'));
    inbox.byTopic.delete(topics.status(id));
    // Kill the TCP connection without a DISCONNECT packet, as a power cut or a dropped network would.
    (agent as unknown as { session: { client: MqttClient } }).session.client.stream.destroy();
    const will = DeviceStatus.parse(
      JSON.parse((await inbox.next(topics.status(id), (p) => p.includes('offline'))).toString()),
    );
    expect(will).toEqual({ deviceId: id, state: 'offline' });
    await agent.stop();
  });

  it('publishes nothing when the camera is unreachable, and counts the failure', async () => {
    const id = 'cam-mosq-nocam';
    const agent = await makeAgent('http://127.0.0.1:9/snapshot.jpg', id);
    await agent.start();
    try {
      await expect(agent.capture('command')).rejects.toThrow(/camera unreachable/);
      expect(inbox.byTopic.get(topics.observations(id))).toBeUndefined();
      expect(agent.outboxDepth).toBe(0);
    } finally {
      await agent.stop();
    }
  });

  it('applies a retained config from the cloud: cron schedule on, bad schedule refused', async () => {
    const id = 'cam-mosq-cfg';
    // Retained before the device connects, as the cloud does for a device that is offline.
    const config = (revision: number, cron: string[]) =>
      JSON.stringify({ revision, issuedAt: new Date().toISOString(), capture: { intervalS: 0, cron } });
    await watcher.publishAsync(topics.config(id), config(1, ['*/1 * * * * *']), { qos: 1, retain: true });
    const agent = await makeAgent(cameras.cameras[0]!.snapshotUrl, id);
    await agent.start();
    try {
      const deadline = Date.now() + 10_000;
      while ((inbox.byTopic.get(topics.observations(id))?.length ?? 0) < 3 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(inbox.byTopic.get(topics.observations(id))?.length ?? 0).toBeGreaterThanOrEqual(3);

      // A config with an invalid cron expression must not replace the running schedule.
      await watcher.publishAsync(topics.config(id), config(2, ['not a cron']), { qos: 1, retain: true });
      await new Promise((r) => setTimeout(r, 300));
      const before = inbox.byTopic.get(topics.observations(id))!.length;
      await new Promise((r) => setTimeout(r, 2500));
      expect(inbox.byTopic.get(topics.observations(id))!.length).toBeGreaterThan(before);
    } finally {
      await agent.stop();
      await watcher.publishAsync(topics.config(id), '', { qos: 1, retain: true });
    }
  });

  it('applies detection thresholds and a region of interest from the cloud config', async () => {
    const id = 'cam-mosq-roi';
    const agent = await makeAgent(cameras.cameras[0]!.snapshotUrl, id);
    await agent.start();
    try {
      const before = (await agent.capture('command')).observation;
      expect(before.skus.length).toBeGreaterThan(0);
      const cfg = { revision: 1, issuedAt: new Date().toISOString(), capture: { intervalS: 0 }, roi: [0, 0, 0.5, 1] };
      await watcher.publishAsync(topics.config(id), JSON.stringify(cfg), { qos: 1, retain: true });
      await new Promise((r) => setTimeout(r, 500));
      const left = (await agent.capture('command')).observation;
      expect(left.detections!.every((d) => d.box[0] + d.box[2] / 2 <= 0.5)).toBe(true);
      expect(left.detections!.length).toBeLessThan(before.detections!.length);

      const strict = { ...cfg, revision: 2, roi: undefined, thresholds: { detection: 0.9999 } };
      await watcher.publishAsync(topics.config(id), JSON.stringify(strict), { qos: 1, retain: true });
      await new Promise((r) => setTimeout(r, 1500)); // reload of the models
      const none = (await agent.capture('command')).observation;
      expect(none.skus.reduce((n, s) => n + s.count, 0)).toBeLessThan(before.skus.reduce((n, s) => n + s.count, 0));
    } finally {
      await agent.stop();
      await watcher.publishAsync(topics.config(id), '', { qos: 1, retain: true });
    }
  });
});
