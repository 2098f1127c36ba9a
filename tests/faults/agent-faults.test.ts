import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVirtualCameras } from '@shelfsight/simulators';
import { freePort } from '../helpers/ports.js';
import { logEntries, repoPath, runNode, waitUntil, type Proc } from '../helpers/processes.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

// The cloud processes here are read without signing in (this file runs in its own worker); log-in
// and tenant scope are tested in tests/dashboard and tests/cloud/tenant-isolation.test.ts.
process.env.SHELFSIGHT_REQUIRE_LOGIN = '0';

/**
 * Field faults with every part a real process: the agent CLI and the cloud CLI are killed with
 * SIGKILL mid-stream, or the network between them is black-holed. Each test then checks that
 * every observation the agent made durable is stored exactly once.
 */

interface Captured {
  messageId: string;
  seq: number;
  inferenceMs: number;
  stagesMs: Record<string, number>;
}
interface StoredItem {
  messageId: string;
  seq: number;
  deviceId: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const fetchAll = async (httpUrl: string, deviceId: string): Promise<StoredItem[]> => {
  const items: StoredItem[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ deviceId, limit: '1000', ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${httpUrl}/api/v1/observations?${q}`);
    if (!res.ok) throw new Error(`GET observations ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { items: StoredItem[]; nextCursor: string | null };
    items.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return items;
};

const captured = (runs: Proc[]): Captured[] => runs.flatMap((p) => logEntries<Captured>(p.lines, 'captured'));

/** Message ids still waiting in an agent's outbox: durable on the device, not lost. */
const outboxIds = async (dataDir: string): Promise<Set<string>> => {
  const dir = path.join(dataDir, 'outbox');
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.json'));
  const ids = await Promise.all(
    files.map(async (f) => {
      // The agent may remove an acknowledged entry between the listing and the read.
      const raw = await readFile(path.join(dir, f), 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      return raw === null ? null : (JSON.parse(JSON.parse(raw).payload) as Captured).messageId;
    }),
  );
  return new Set(ids.filter((id) => id !== null));
};

/**
 * Nothing the agent logged as captured may be missing (stored, or still queued on the device);
 * no capture may be stored twice.
 */
const expectExactlyOnce = (made: Captured[], stored: StoredItem[], queued: Set<string>, unloggedAllowance: number) => {
  const storedIds = new Set(stored.map((s) => s.messageId));
  const missing = made.filter((c) => !storedIds.has(c.messageId) && !queued.has(c.messageId));
  expect(missing, 'captured but neither stored nor queued').toEqual([]);
  const seqs = stored.map((s) => s.seq);
  expect(new Set(seqs).size, 'a capture sequence number stored twice').toBe(seqs.length);
  // A kill between the outbox append and the 'captured' log line leaves an observation that was
  // durable (and is delivered) but never logged: at most one per kill.
  const madeIds = new Set(made.map((c) => c.messageId));
  expect(stored.filter((s) => !madeIds.has(s.messageId)).length).toBeLessThanOrEqual(unloggedAllowance);
};

describe('edge faults: nothing lost, nothing counted twice', () => {
  let cameras: Awaited<ReturnType<typeof startVirtualCameras>>;
  beforeAll(async () => {
    cameras = await startVirtualCameras({ port: 0, host: '127.0.0.1', cameras: 1, seed: 21 });
  });
  afterAll(async () => {
    await cameras?.close();
  });

  const agentConfig = async (deviceId: string, mqttUrl: string) => {
    const dir = await mkdtemp(path.join(tmpdir(), `fault-${deviceId}-`));
    const file = path.join(dir, 'agent.json');
    const cam = cameras.cameras[0]!;
    await writeFile(
      file,
      JSON.stringify({
        deviceId,
        outletId: cam.outletId,
        fixtureId: `${cam.fixtureId}-${deviceId}`,
        mqtt: { url: mqttUrl, reconnectPeriodMs: 250, keepaliveS: 5 },
        camera: { kind: 'http', url: cam.snapshotUrl },
        capture: { intervalS: 1 },
        modelDir: repoPath('models'),
        dataDir: path.join(dir, 'data'),
        statusIntervalS: 60,
      }),
    );
    const dataDir = path.join(dir, 'data');
    const outboxDepth = async () => (await outboxIds(dataDir)).size;
    return { file, outboxDepth, queued: () => outboxIds(dataDir) };
  };

  const startCloudProc = (httpPort: number, mqttPort: number, dataDir: string) =>
    runNode('cloud/dist/main.js', [
      '--http-port',
      String(httpPort),
      '--mqtt-port',
      String(mqttPort),
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      // These tests are about delivery under faults, not device identity (tests/identity covers that).
      '--auth',
      'off',
    ]);

  const cloudUp = async (httpUrl: string) => {
    await waitUntil(
      async () => (await fetch(`${httpUrl}/api/v1/healthz`).catch(() => null))?.ok === true,
      20_000,
      'cloud health',
    );
  };

  it('survives kill -9 of the agent mid-publish', async () => {
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    const cloud = startCloudProc(httpPort, mqttPort, await mkdtemp(path.join(tmpdir(), 'fault-cloud-')));
    try {
      await cloudUp(httpUrl);
      const { file, outboxDepth, queued } = await agentConfig('cam-kill-agent', `mqtt://127.0.0.1:${mqttPort}`);
      const runs: Proc[] = [];
      const killDelays = [0, 120, 260, 430];
      for (const delay of killDelays) {
        const agent = runNode('edge-agent/dist/cli.js', ['--config', file]);
        runs.push(agent);
        await waitUntil(() => logEntries(agent.lines, 'captured').length >= 2, 30_000, 'two captures');
        await sleep(delay);
        await agent.kill9();
      }
      const last = runNode('edge-agent/dist/cli.js', ['--config', file]);
      runs.push(last);
      await waitUntil(() => logEntries(last.lines, 'captured').length >= 2, 30_000, 'captures after restarts');
      await waitUntil(async () => (await outboxDepth()) === 0, 30_000, 'outbox drained');
      expect(await last.stop()).toBe(0);

      const stored = await fetchAll(httpUrl, 'cam-kill-agent');
      expectExactlyOnce(captured(runs), stored, await queued(), killDelays.length);
      expect(stored.length).toBeGreaterThanOrEqual(10);
    } finally {
      await cloud.stop();
    }
  });

  it('survives kill -9 of the cloud (broker + ingest + store) mid-stream', async () => {
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    const cloudDir = await mkdtemp(path.join(tmpdir(), 'fault-cloud-'));
    let cloud = startCloudProc(httpPort, mqttPort, cloudDir);
    await cloudUp(httpUrl);
    const { file, outboxDepth, queued } = await agentConfig('cam-kill-cloud', `mqtt://127.0.0.1:${mqttPort}`);
    const agent = runNode('edge-agent/dist/cli.js', ['--config', file]);
    try {
      for (let round = 0; round < 2; round++) {
        const seen = logEntries(agent.lines, 'captured').length;
        await waitUntil(() => logEntries(agent.lines, 'captured').length >= seen + 3, 30_000, 'captures');
        await cloud.kill9();
        // The agent keeps capturing into its outbox while the cloud is gone.
        const during = logEntries(agent.lines, 'captured').length;
        await waitUntil(() => logEntries(agent.lines, 'captured').length >= during + 2, 30_000, 'offline captures');
        cloud = startCloudProc(httpPort, mqttPort, cloudDir);
        await cloudUp(httpUrl);
      }
      await waitUntil(async () => (await outboxDepth()) === 0, 30_000, 'outbox drained');
      expect(await agent.stop()).toBe(0);
      const stored = await fetchAll(httpUrl, 'cam-kill-cloud');
      const left = await queued();
      expectExactlyOnce(captured([agent]), stored, left, 0);
      expect(stored.length + left.size).toBe(captured([agent]).length);
      // Each capture line says where the device's inference time went.
      for (const c of captured([agent])) {
        expect(Object.keys(c.stagesMs)).toEqual(['decode', 'detect', 'count', 'identify']);
        const sum = Object.values(c.stagesMs).reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - c.inferenceMs)).toBeLessThan(0.2);
      }
    } finally {
      await agent.stop();
      await cloud.stop();
    }
  });

  it('survives a network black hole between agent and broker', async () => {
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    const cloud = startCloudProc(httpPort, mqttPort, await mkdtemp(path.join(tmpdir(), 'fault-cloud-')));
    const proxy = new TcpProxy(mqttPort);
    try {
      await cloudUp(httpUrl);
      const proxyPort = await proxy.start();
      const { file, outboxDepth, queued } = await agentConfig('cam-blackhole', `mqtt://127.0.0.1:${proxyPort}`);
      const agent = runNode('edge-agent/dist/cli.js', ['--config', file]);
      await waitUntil(() => logEntries(agent.lines, 'captured').length >= 3, 30_000, 'captures');
      proxy.block();
      const during = logEntries(agent.lines, 'captured').length;
      // Longer than 1.5 keepalives, so the agent notices the dead link and keeps retrying.
      await waitUntil(() => logEntries(agent.lines, 'captured').length >= during + 8, 30_000, 'captures offline');
      expect(await outboxDepth()).toBeGreaterThanOrEqual(5);
      proxy.unblock();
      await waitUntil(async () => (await outboxDepth()) === 0, 40_000, 'outbox drained after the outage');
      expect(await agent.stop()).toBe(0);
      const stored = await fetchAll(httpUrl, 'cam-blackhole');
      const left = await queued();
      expectExactlyOnce(captured([agent]), stored, left, 0);
      expect(stored.length + left.size).toBe(captured([agent]).length);
    } finally {
      await proxy.close();
      await cloud.stop();
    }
  });
});
