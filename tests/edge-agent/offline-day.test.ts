import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCloud } from '@shelfsight/cloud';
import {
  EdgeAgent,
  FileOutbox,
  HttpSnapshotCamera,
  createLogger,
  loadRecognizer,
  parseAgentConfig,
} from '@shelfsight/edge-agent';
import { topics, type Observation } from '@shelfsight/protocol';
import { startVirtualCameras } from '@shelfsight/simulators';
import { repoPath, waitUntil } from '../helpers/processes.js';

const MINUTES_IN_A_DAY = 1440;
const PUBLISH_WINDOW = 8; // edge-agent/src/agent.ts

/**
 * A day without network at one capture a minute: the outbox holds 1,440 observations (as the
 * agent writes them: full payloads with detections), then the link comes back and everything
 * arrives once, in order.
 */
describe('24 hours offline at one capture a minute', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  it('loses nothing and drains in order after reconnect', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'offline-day-'));
    const cloud = await startCloud({
      httpPort: 0,
      mqttPort: 0,
      dataDir: path.join(dir, 'cloud'),
      auth: 'off',
      logLevel: 'warn',
    });
    cleanup.push(() => cloud.close());
    const cameras = await startVirtualCameras({ port: 0, host: '127.0.0.1', cameras: 1, seed: 14 });
    cleanup.push(() => cameras.close());
    const cam = cameras.cameras[0]!;
    const deviceId = 'cam-offline-day';
    const dataDir = path.join(dir, 'agent');

    // What a day of captures looks like on disk: one real recognition result, re-stamped per minute.
    const recognizer = await loadRecognizer({ modelDir: repoPath('models') });
    const rec = await recognizer.recognize(Buffer.from(await (await fetch(cam.snapshotUrl)).arrayBuffer()));
    const outbox = await FileOutbox.open(path.join(dataDir, 'outbox'), { maxMessages: 100_000 });
    const start = Date.UTC(2026, 10, 22, 0, 0, 0);
    const ids: string[] = [];
    for (let seq = 0; seq < MINUTES_IN_A_DAY; seq++) {
      const obs: Observation = {
        messageId: randomUUID(),
        deviceId,
        outletId: cam.outletId,
        fixtureId: cam.fixtureId,
        capturedAt: new Date(start + seq * 60_000).toISOString(),
        seq,
        model: recognizer.model,
        gallery: recognizer.gallery,
        image: rec.image,
        skus: rec.skus,
        emptyFacings: rec.emptyFacings,
        unknownProducts: rec.unknownProducts,
        detections: rec.detections,
        inferenceMs: rec.inferenceMs,
      };
      ids.push(obs.messageId);
      await outbox.append(topics.observations(deviceId), JSON.stringify(obs));
    }
    expect(outbox.stats()).toMatchObject({ depth: MINUTES_IN_A_DAY, dropped: 0 });
    const bytes = outbox.stats().bytes;
    await writeFile(path.join(dataDir, 'state.json'), JSON.stringify({ nextSeq: MINUTES_IN_A_DAY }));

    const agent = new EdgeAgent({
      config: parseAgentConfig({
        deviceId,
        outletId: cam.outletId,
        fixtureId: cam.fixtureId,
        mqtt: { url: cloud.mqttUrl },
        camera: { kind: 'http', url: cam.snapshotUrl },
        capture: { intervalS: 0 },
        modelDir: repoPath('models'),
        dataDir,
        logLevel: 'warn',
      }),
      camera: new HttpSnapshotCamera(cam.snapshotUrl),
      recognizer,
      log: createLogger('warn'),
    });
    const t0 = performance.now();
    await agent.start();
    cleanup.push(() => agent.stop());
    await waitUntil(() => agent.outboxDepth === 0, 120_000, 'outbox drained');
    const drainS = (performance.now() - t0) / 1000;

    const stored: { messageId: string; seq: number; receivedAt: string }[] = [];
    let cursor: string | null = null;
    do {
      const q = new URLSearchParams({ deviceId, limit: '1000', ...(cursor ? { cursor } : {}) });
      const body = (await (await fetch(`${cloud.httpUrl}/api/v1/observations?${q}`)).json()) as {
        items: { messageId: string; seq: number; receivedAt: string }[];
        nextCursor: string | null;
      };
      stored.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor);

    const storedIds = new Set(stored.map((s) => s.messageId));
    expect(
      ids.filter((id) => !storedIds.has(id)),
      'queued but not stored',
    ).toEqual([]);
    const day = stored.filter((s) => s.seq < MINUTES_IN_A_DAY).sort((a, b) => a.seq - b.seq);
    expect(day).toHaveLength(MINUTES_IN_A_DAY);
    // In order: nothing overtakes a message more than one publish window ahead of it.
    for (let i = PUBLISH_WINDOW; i < day.length; i++)
      expect(Date.parse(day[i - PUBLISH_WINDOW]!.receivedAt)).toBeLessThanOrEqual(Date.parse(day[i]!.receivedAt));
    expect(cloud.stats().duplicates).toBe(0);
    console.log(
      `offline day: ${MINUTES_IN_A_DAY} observations, ${(bytes / 1048576).toFixed(1)} MiB in the outbox, drained in ${drainS.toFixed(1)} s`,
    );
  });
});
