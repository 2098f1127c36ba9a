import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeviceRegistry,
  hashPassword,
  mosquittoConfig,
  randomSecret,
  writeMosquittoFiles,
  type IssuedCredentials,
} from '@shelfsight/cloud';
import { EdgeAgent, HttpSnapshotCamera, createLogger, loadRecognizer, parseAgentConfig } from '@shelfsight/edge-agent';
import { CommandReply, topics } from '@shelfsight/protocol';
import { startVirtualCameras } from '@shelfsight/simulators';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { makeObservation } from '../cloud/helpers/observations.js';
import { closed, connect, sleep } from './helpers.js';

const modelDir = fileURLToPath(new URL('../../models', import.meta.url));

/**
 * The same identities and ACL on Debian's Mosquitto: password and ACL files generated from the
 * cloud's registry, the real agent connecting with its own credentials, and another device trying
 * to publish as it, read its traffic with wildcards and plant retained messages.
 */
describe('device credentials and ACLs on Mosquitto (generated files)', () => {
  let broker: Mosquitto;
  let cameras: Awaited<ReturnType<typeof startVirtualCameras>>;
  let a: IssuedCredentials;
  let b: IssuedCredentials;
  const ops = { username: 'shelfsight-ops', password: randomSecret() };
  let watcher: MqttClient;
  const seen: { topic: string; payload: string }[] = [];
  let agent: EdgeAgent;

  const opsClient = (clientId = `shelfsight-ops`) =>
    connect(broker.url, { clientId, username: ops.username, password: ops.password });

  beforeAll(async () => {
    const registry = await DeviceRegistry.open({ file: null });
    a = await registry.issue('cam-mq-a');
    b = await registry.issue('cam-mq-b');
    const dir = await mkdtemp(path.join(tmpdir(), 'mosq-acl-'));
    const files = await writeMosquittoFiles(registry, dir, [
      { username: ops.username, passwordHash: await hashPassword(ops.password) },
    ]);
    // Run as root (CI containers), mosquitto would drop to its own user and not read our 0600 files.
    const asRoot = process.getuid?.() === 0 ? 'user root\n' : '';
    broker = await startMosquitto({ allowAnonymous: false, config: asRoot + mosquittoConfig(files) });
    cameras = await startVirtualCameras({ port: 0, host: '127.0.0.1', cameras: 1, seed: 7 });
    watcher = await opsClient();
    watcher.on('message', (topic, p) => seen.push({ topic, payload: p.toString() }));
    await watcher.subscribeAsync('shelfsight/v1/devices/#', { qos: 1 });

    // The real agent, its password in a file as on a device.
    const agentDir = await mkdtemp(path.join(tmpdir(), 'agent-mq-'));
    const passwordFile = path.join(agentDir, 'mqtt-password');
    await writeFile(passwordFile, `${a.password}\n`, { mode: 0o600 });
    const cam = cameras.cameras[0]!;
    agent = new EdgeAgent({
      config: parseAgentConfig({
        deviceId: a.deviceId,
        outletId: 'outlet-mq',
        fixtureId: 'fixture-mq',
        mqtt: { url: broker.url, username: a.username, passwordFile, reconnectPeriodMs: 200, keepaliveS: 5 },
        camera: { kind: 'http', url: cam.snapshotUrl, timeoutMs: 2000 },
        capture: { intervalS: 0, retries: 1, retryDelayMs: 100 },
        modelDir,
        dataDir: path.join(agentDir, 'data'),
        logLevel: 'silent',
      }),
      camera: new HttpSnapshotCamera(cam.snapshotUrl, 2000),
      recognizer: await loadRecognizer({ modelDir }),
      log: createLogger('silent'),
    });
    await agent.start();
  });

  afterAll(async () => {
    await agent?.stop();
    await watcher?.endAsync();
    await cameras?.close();
    await broker?.stop();
  });

  const waitSeen = async (pred: (m: { topic: string; payload: string }) => boolean, what: string) => {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const hit = seen.find(pred);
      if (hit) return hit;
      await sleep(50);
    }
    throw new Error(`never saw ${what}`);
  };

  it('the agent works with its own credentials: status, observation, command and reply', async () => {
    await waitSeen((m) => m.topic === topics.status(a.deviceId) && m.payload.includes('"online"'), 'online status');
    const { observation } = await agent.capture('command');
    await waitSeen((m) => m.payload.includes(observation.messageId), 'the observation');
    const id = randomUUID();
    await watcher.publishAsync(
      topics.commands(a.deviceId),
      JSON.stringify({ id, name: 'capture-now', issuedAt: new Date().toISOString() }),
      { qos: 1 },
    );
    const reply = await waitSeen((m) => m.topic === topics.replies(a.deviceId) && m.payload.includes(id), 'reply');
    expect(CommandReply.parse(JSON.parse(reply.payload)).ok).toBe(true);
  });

  it('refuses anonymous clients and wrong passwords', async () => {
    await expect(connect(broker.url, { clientId: 'anon' })).rejects.toThrow(/Not authorized|Bad username/i);
    await expect(
      connect(broker.url, { clientId: 'cam-mq-b', username: 'cam-mq-b', password: 'guess' }),
    ).rejects.toThrow(/Not authorized|Bad username/i);
  });

  it('confines another device: no cross-device publish, wildcard reads or retained poisoning', async () => {
    const rogue = await connect(broker.url, { clientId: b.deviceId, username: b.username, password: b.password });
    const rogueSaw: string[] = [];
    rogue.on('message', (t) => rogueSaw.push(t));
    for (const filter of [
      '#',
      'shelfsight/v1/devices/#',
      'shelfsight/v1/devices/+/commands',
      topics.config(a.deviceId),
    ])
      await new Promise<void>((resolve) => rogue.subscribe(filter, { qos: 1 }, () => resolve()));

    const spoof = makeObservation({ deviceId: a.deviceId, fixtureId: 'spoofed' });
    await rogue.publishAsync(topics.observations(a.deviceId), JSON.stringify(spoof), { qos: 1 });
    await rogue.publishAsync(topics.status(a.deviceId), JSON.stringify({ deviceId: a.deviceId, state: 'offline' }), {
      qos: 1,
      retain: true,
    });
    await rogue.publishAsync(topics.config(a.deviceId), JSON.stringify({ revision: 666, issuedAt: spoof.capturedAt }), {
      qos: 1,
      retain: true,
    });
    await rogue.publishAsync(topics.config(b.deviceId), JSON.stringify({ revision: 666, issuedAt: spoof.capturedAt }), {
      qos: 1,
      retain: true,
    });

    // Traffic of device A while the rogue listens: a capture and a command through the ops account.
    const { observation } = await agent.capture('command');
    await waitSeen((m) => m.payload.includes(observation.messageId), 'the new observation');
    await watcher.publishAsync(
      topics.commands(a.deviceId),
      JSON.stringify({ id: randomUUID(), name: 'capture-now', issuedAt: new Date().toISOString() }),
      { qos: 1 },
    );
    await sleep(500);

    expect(rogueSaw).toEqual([]);
    expect(seen.filter((m) => m.payload.includes('spoofed') || m.payload.includes('"revision":666'))).toEqual([]);
    expect(seen.filter((m) => m.topic === topics.status(a.deviceId)).every((m) => m.payload.includes('online'))).toBe(
      true,
    );
    // Nothing retained was planted: a fresh reader of A's config and status gets only A's own status.
    const fresh = await opsClient(`shelfsight-ops-${randomUUID().slice(0, 8)}`);
    const retained: string[] = [];
    fresh.on('message', (t, p) => retained.push(`${t} ${p.toString()}`));
    await fresh.subscribeAsync([topics.config(a.deviceId), topics.config(b.deviceId), topics.status(a.deviceId)], {
      qos: 1,
    });
    await sleep(300);
    expect(retained).toHaveLength(1);
    expect(retained[0]).toContain('"online"');
    await fresh.endAsync();

    // A device cannot take another's client id: the broker uses its username instead, so the real
    // agent stays connected and the rogue's own earlier session is the one replaced.
    const rogueGone = closed(rogue);
    const impostor = await connect(broker.url, { clientId: a.deviceId, username: b.username, password: b.password });
    await rogueGone;
    await sleep(300);
    expect((agent as unknown as { session: { client: MqttClient } }).session.client.connected).toBe(true);
    await impostor.endAsync();
  });
});
