import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandReply, topics } from '@shelfsight/protocol';
import { startVirtualCameras } from '@shelfsight/simulators';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { logEntries, repoPath, runNode, waitUntil, type Proc } from '../helpers/processes.js';

/** restart and upload-diagnostics, sent to the agent CLI running as a real process, via Mosquitto. */
describe('remote management commands', () => {
  const deviceId = 'cam-remote-01';
  let broker: Mosquitto;
  let cameras: Awaited<ReturnType<typeof startVirtualCameras>>;
  let agent: Proc;
  let watcher: mqtt.MqttClient;
  const replies = new Map<string, CommandReply>();

  const send = async (name: string) => {
    const id = randomUUID();
    await watcher.publishAsync(
      topics.commands(deviceId),
      JSON.stringify({ id, name, issuedAt: new Date().toISOString() }),
      {
        qos: 1,
      },
    );
    await waitUntil(() => replies.has(id), 20_000, `reply to ${name}`);
    return replies.get(id)!;
  };

  beforeAll(async () => {
    broker = await startMosquitto();
    cameras = await startVirtualCameras({ port: 0, host: '127.0.0.1', cameras: 1, seed: 9 });
    watcher = await mqtt.connectAsync(broker.url, { clientId: `watch-${randomUUID()}` });
    watcher.on('message', (_t, p) => {
      const r = CommandReply.parse(JSON.parse(p.toString()));
      replies.set(r.commandId, r);
    });
    await watcher.subscribeAsync(topics.replies(deviceId), { qos: 1 });
    const dir = await mkdtemp(path.join(tmpdir(), 'remote-'));
    const file = path.join(dir, 'agent.json');
    await writeFile(
      file,
      JSON.stringify({
        deviceId,
        outletId: 'outlet-r',
        fixtureId: 'fixture-r',
        mqtt: { url: broker.url, password: 'never-print-me', username: deviceId },
        camera: { kind: 'http', url: cameras.cameras[0]!.snapshotUrl },
        capture: { intervalS: 0 },
        modelDir: repoPath('models'),
        dataDir: path.join(dir, 'data'),
      }),
    );
    agent = runNode('edge-agent/dist/cli.js', ['--config', file]);
    // Subscribed, not only connected: a command sent before the broker grants the subscription is lost.
    await waitUntil(() => logEntries(agent.lines, 'mqtt subscribed').length >= 1, 30_000, 'agent subscribed');
  });

  afterAll(async () => {
    await agent?.stop();
    await watcher?.endAsync();
    await cameras?.close();
    await broker?.stop();
  });

  it('uploads diagnostics without secrets', async () => {
    const r = await send('upload-diagnostics');
    expect(r.ok).toBe(true);
    expect(r.result).toMatchObject({ agentVersion: expect.any(String), outbox: { depth: expect.any(Number) } });
    expect(JSON.stringify(r)).not.toContain('never-print-me');
    expect(agent.lines.join('\n')).not.toContain('never-print-me');
  });

  it('restarts in the same process and keeps working', async () => {
    const pid = agent.child.pid;
    const r = await send('restart');
    expect(r).toMatchObject({ ok: true, result: { restarting: true } });
    await waitUntil(() => logEntries(agent.lines, 'mqtt connected').length >= 2, 30_000, 'reconnected after restart');
    expect(agent.child.exitCode).toBeNull();
    expect(agent.child.pid).toBe(pid);
    const capture = await send('capture-now');
    expect(capture.ok).toBe(true);
    expect(capture.observationId).toBeTruthy();
  });
});
