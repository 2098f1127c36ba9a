import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileOutbox } from '@shelfsight/edge-agent';
import { topics, type DeviceStatus } from '@shelfsight/protocol';
import { startVirtualCameras } from '@shelfsight/simulators';
import { startMosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/ports.js';
import { logEntries, repoPath, runNode, waitUntil, type Proc } from '../helpers/processes.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

// The cloud here is read without signing in (this file runs in its own worker).
process.env.SHELFSIGHT_REQUIRE_LOGIN = '0';

/**
 * Issue 7: the edge disk fills up. The agent's data dir (state file, outbox) lives on a small tmpfs
 * that the test fills with a filler file while the agent captures, first with the broker unreachable
 * (so the outbox must grow), then with it reachable. Nothing the agent logged as `captured` may be
 * lost or stored twice; captures it could not persist are dropped and counted (docs/decisions.md D19);
 * once space is freed it persists and delivers again without a restart. Needs root (mount).
 */

interface Captured {
  messageId: string;
  seq: number;
}
interface StoredItem {
  messageId: string;
  seq: number;
}
interface Lost {
  seq?: number;
  reason: string;
  path: string;
}

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

/** Message ids waiting in an outbox folder (a file the agent removes between listing and reading is gone). */
const outboxIds = async (dir: string): Promise<string[]> => {
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.json')).sort();
  const ids = await Promise.all(
    files.map(async (f) => {
      const raw = await readFile(path.join(dir, f), 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      return raw === null ? null : (JSON.parse(JSON.parse(raw).payload) as Captured).messageId;
    }),
  );
  return ids.filter((id) => id !== null);
};

/** Fills the file system holding `file` by appending to it until the kernel says ENOSPC. */
const fill = async (file: string): Promise<void> => {
  const fh = await open(file, 'a');
  try {
    for (const chunk of [64 * 1024, 4096, 512, 1]) {
      const buf = Buffer.alloc(chunk, 0x5a);
      for (;;) {
        try {
          await fh.write(buf);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
};

/** `*.tmp` files anywhere under `dir`: a write the disk cut short must not stay behind. */
const tmpFiles = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.tmp'));

describe('edge disk full: nothing accepted is lost, nothing counted twice', () => {
  let root: string;
  let mnt: string;
  let mounted = false;
  let cameras: Awaited<ReturnType<typeof startVirtualCameras>> | undefined;
  /** Every process started here, killed in afterAll even if a test timed out. */
  const procs: Proc[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'fault-diskfull-'));
    mnt = path.join(root, 'mnt');
    await mkdir(mnt);
    // 2 MiB holds the state file, the reference frame and a few hundred observations.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mnt]);
    mounted = true;
    cameras = await startVirtualCameras({ port: 0, host: '127.0.0.1', cameras: 1, seed: 22 });
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill9()));
    await cameras?.close();
    if (mounted) {
      try {
        execFileSync('umount', [mnt]);
      } catch {
        // Something (a process the test failed to stop) still holds it: detach it anyway.
        execFileSync('umount', ['-l', mnt]);
      }
    }
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('the outbox refuses an entry cleanly on a full disk and takes entries again once space is freed', async () => {
    const dir = path.join(mnt, 'unit-outbox');
    const filler = path.join(mnt, 'unit-filler');
    try {
      const box = await FileOutbox.open(dir, { maxMessages: 100 });
      await box.append('t', 'before-1');
      await box.append('t', 'before-2');
      await fill(filler);
      const err = (await box.append('t', 'x'.repeat(20_000)).catch((e: unknown) => e)) as NodeJS.ErrnoException;
      expect(err.code).toBe('ENOSPC');
      expect(err.path).toMatch(new RegExp(`^${dir}/\\d{16}\\.json\\.tmp$`));
      // No half-written file left to hold the space or to be read back later.
      expect(await tmpFiles(dir)).toEqual([]);
      expect(box.depth).toBe(2);
      await rm(filler);
      await box.append('t', 'after');
      const reopened = await FileOutbox.open(dir, { maxMessages: 100 });
      expect((await reopened.peek(10)).map((e) => e.payload)).toEqual(['before-1', 'before-2', 'after']);
    } finally {
      await rm(filler, { force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });

  it(
    'a real agent keeps running through a full disk and delivers every capture it accepted exactly once',
    { timeout: 110_000 },
    async () => {
      const deviceId = 'cam-disk-full';
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      const httpUrl = `http://127.0.0.1:${httpPort}`;
      const cloudDir = await mkdtemp(path.join(tmpdir(), 'fault-cloud-'));
      const cloud = runNode('cloud/dist/main.js', [
        ...['--http-port', String(httpPort), '--mqtt-port', String(mqttPort)],
        ...['--data-dir', cloudDir, '--log-level', 'warn', '--auth', 'off'],
      ]);
      procs.push(cloud);
      const proxy = new TcpProxy(mqttPort);
      const dataDir = path.join(mnt, 'agent-data');
      const outboxDir = path.join(dataDir, 'outbox');
      const filler = path.join(mnt, 'filler');
      let agent: Proc | undefined;
      let watcher: MqttClient | undefined;
      try {
        await waitUntil(
          async () => (await fetch(`${httpUrl}/api/v1/healthz`).catch(() => null))?.ok === true,
          20_000,
          'cloud health',
        );
        const proxyPort = await proxy.start();
        // Status messages, read straight from the broker.
        const statuses: DeviceStatus[] = [];
        watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'disk-full-watcher' });
        watcher.on('message', (_t, p) => p.byteLength > 0 && statuses.push(JSON.parse(p.toString()) as DeviceStatus));
        await watcher.subscribeAsync(topics.status(deviceId), { qos: 1 });

        const cam = cameras!.cameras[0]!;
        const configFile = path.join(root, 'agent.json');
        await writeFile(
          configFile,
          JSON.stringify({
            deviceId,
            outletId: cam.outletId,
            fixtureId: `${cam.fixtureId}-disk`,
            mqtt: { url: `mqtt://127.0.0.1:${proxyPort}`, reconnectPeriodMs: 250, keepaliveS: 5 },
            camera: { kind: 'http', url: cam.snapshotUrl },
            capture: { intervalS: 1 },
            modelDir: repoPath('models'),
            dataDir,
            statusIntervalS: 1,
          }),
        );
        agent = runNode('edge-agent/dist/cli.js', ['--config', configFile]);
        procs.push(agent);
        const a = agent;
        const capturedN = () => logEntries(a.lines, 'captured').length;
        const lost = () => logEntries<Lost>(a.lines, 'capture lost: disk full');
        const alive = () => expect(a.child.exitCode, 'agent exited').toBeNull();

        await waitUntil(() => capturedN() >= 2, 30_000, 'first captures');

        // 1. Broker unreachable: the outbox grows on the tmpfs.
        proxy.block();
        const offlineFrom = capturedN();
        await waitUntil(() => capturedN() >= offlineFrom + 3, 30_000, 'captures queued offline');

        // 2. Disk full while offline: captures are lost and reported, queued entries stay.
        await fill(filler);
        const queuedAtFull = await outboxIds(outboxDir);
        expect(queuedAtFull.length).toBeGreaterThanOrEqual(3);
        await waitUntil(() => lost().length >= 3, 30_000, 'captures lost to the full disk (offline)');
        alive();
        for (const l of lost()) {
          expect(l.reason).toBe('ENOSPC');
          expect(l.path.startsWith(`${dataDir}/`), l.path).toBe(true);
        }
        // Nothing logged as captured while full was not on disk; the queued entries are all still there.
        const queuedNow = await outboxIds(outboxDir);
        expect(queuedNow.slice(0, queuedAtFull.length)).toEqual(queuedAtFull);
        expect(await tmpFiles(dataDir)).toEqual([]);

        // 3. Broker back, disk still full: the queued entries drain (each delivered once).
        proxy.unblock();
        await waitUntil(async () => (await outboxIds(outboxDir)).length === 0, 40_000, 'outbox drained while full');
        // Draining freed space; take it again (and again, until captures fail: one that still fitted is
        // drained and frees its space), so the next phase runs on a full disk with the link up.
        const lostOnline = lost().length;
        await waitUntil(
          async () => (await fill(filler), lost().length >= lostOnline + 2),
          30_000,
          'captures lost to the full disk (online)',
        );
        // Health says so: a counter and the reason, in the status the cloud receives.
        await waitUntil(
          () => statuses.some((s) => (s.health?.capturesLostDiskFull ?? 0) >= lostOnline + 2),
          30_000,
          'status with capturesLostDiskFull',
        );
        const health = statuses.findLast((s) => s.health?.capturesLostDiskFull !== undefined)!.health!;
        expect(health.lastError).toMatch(/^disk full \(ENOSPC\) writing \//);
        // A capture the cloud asks for is refused with the reason, not left unanswered.
        const res = await fetch(`${httpUrl}/api/v1/devices/${deviceId}/commands`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'capture-now' }),
        });
        expect(res.status).toBe(200);
        const { reply } = (await res.json()) as { reply: { ok: boolean; error?: string } };
        expect(reply.ok).toBe(false);
        expect(reply.error).toMatch(/ENOSPC/);
        alive();
        expect(await tmpFiles(dataDir)).toEqual([]);

        // 4. Space freed: captures are persisted and delivered again, same process.
        await rm(filler);
        const freedFrom = capturedN();
        const lostAtFree = lost().length;
        await waitUntil(() => capturedN() >= freedFrom + 3, 30_000, 'captures after space was freed');
        await waitUntil(async () => (await outboxIds(outboxDir)).length === 0, 40_000, 'outbox drained after freeing');
        // At most the capture in flight when the filler went can still fail.
        expect(lost().length).toBeLessThanOrEqual(lostAtFree + 1);
        expect(await agent.stop()).toBe(0);

        // The clean stop's status carries the final counter: every loss logged is counted, none twice.
        await waitUntil(() => statuses.at(-1)?.state === 'offline', 10_000, 'offline status');
        expect(statuses.at(-1)!.health?.capturesLostDiskFull).toBe(lost().length);

        const made = logEntries<Captured>(a.lines, 'captured');
        const stored = await fetchAll(httpUrl, deviceId);
        const left = await outboxIds(outboxDir);
        const storedIds = new Set(stored.map((s) => s.messageId));
        expect(
          made.filter((c) => !storedIds.has(c.messageId) && !left.includes(c.messageId)),
          'captured but neither stored nor queued',
        ).toEqual([]);
        expect(new Set(stored.map((s) => s.seq)).size, 'a sequence number stored twice').toBe(stored.length);
        expect(storedIds.size, 'a message stored twice').toBe(stored.length);
        // Lost captures were never published: what is stored is exactly what was logged as captured.
        expect(stored.length + left.length).toBe(made.length);
        expect(lost().length).toBeGreaterThanOrEqual(5);
      } finally {
        await agent?.stop();
        await watcher?.endAsync().catch(() => undefined);
        await proxy.close().catch(() => undefined);
        await cloud.stop();
        await rm(filler, { force: true });
      }
    },
  );
  it('a config from the cloud that cannot be saved on a full disk does not end the agent', async () => {
    const deviceId = 'cam-disk-full-cfg';
    // Mosquitto, not the cloud broker: the test itself publishes the config, as the cloud would.
    const broker = await startMosquitto();
    const dataDir = path.join(mnt, 'cfg-data');
    const filler = path.join(mnt, 'cfg-filler');
    let agent: Proc | undefined;
    let client: MqttClient | undefined;
    try {
      const configFile = path.join(root, 'agent-cfg.json');
      await writeFile(
        configFile,
        JSON.stringify({
          deviceId,
          outletId: 'outlet-cfg',
          fixtureId: 'fixture-cfg',
          mqtt: { url: broker.url, reconnectPeriodMs: 250 },
          camera: { kind: 'http', url: cameras!.cameras[0]!.snapshotUrl },
          capture: { intervalS: 0 },
          modelDir: repoPath('models'),
          dataDir,
        }),
      );
      agent = runNode('edge-agent/dist/cli.js', ['--config', configFile]);
      procs.push(agent);
      const a = agent;
      await waitUntil(() => logEntries(a.lines, 'mqtt subscribed').length >= 1, 30_000, 'agent subscribed');
      await fill(filler);
      client = await mqtt.connectAsync(broker.url, { clientId: 'disk-full-cloud' });
      await client.publishAsync(
        topics.config(deviceId),
        JSON.stringify({ revision: 1, issuedAt: new Date().toISOString(), capture: { intervalS: 0 } }),
        { qos: 1 },
      );
      await waitUntil(
        () => logEntries<{ code?: string }>(a.lines, 'message handling failed').some((e) => e.code === 'ENOSPC'),
        30_000,
        'config save refused on the full disk',
      );
      // Still alive and working once space is back: a capture on command is persisted.
      expect(a.child.exitCode, 'agent exited').toBeNull();
      await rm(filler);
      await client.publishAsync(
        topics.commands(deviceId),
        JSON.stringify({ id: randomUUID(), name: 'capture-now', issuedAt: new Date().toISOString() }),
        { qos: 1 },
      );
      await waitUntil(
        () => (expect(a.child.exitCode, 'agent exited').toBeNull(), logEntries(a.lines, 'captured').length >= 1),
        30_000,
        'capture after space was freed',
      );
      expect(await tmpFiles(dataDir)).toEqual([]);
      expect(await a.stop()).toBe(0);
    } finally {
      await agent?.stop();
      await client?.endAsync().catch(() => undefined);
      await broker.stop();
      await rm(filler, { force: true });
    }
  });
});
