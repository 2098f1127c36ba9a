import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud } from '@shelfsight/cloud';
import {
  EdgeAgent,
  HttpSnapshotCamera,
  createLogger,
  ensureCredentials,
  loadRecognizer,
  parseAgentConfig,
} from '@shelfsight/edge-agent';
import { startVirtualCameras } from '@shelfsight/simulators';
import type { Observation } from '@shelfsight/protocol';

const modelDir = fileURLToPath(new URL('../../models', import.meta.url));

type Cloud = Awaited<ReturnType<typeof startCloud>>;
type Cameras = Awaited<ReturnType<typeof startVirtualCameras>>;

const poll = async <T>(fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
};

/**
 * The whole real path in one test: simulated camera (HTTP) → edge agent (sharp + onnxruntime-node
 * with the shipped models) → mqtt.js QoS 1 → aedes → validated ingest → DuckDB → REST.
 */
describe('end to end: camera → agent → broker → ingest → store → REST', () => {
  let cloud: Cloud;
  let cameras: Cameras;
  let agent: EdgeAgent;

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'e2e-'));
    cloud = await startCloud({
      httpPort: 0,
      mqttPort: 0,
      host: '127.0.0.1',
      dataDir: path.join(dataDir, 'cloud'),
      logLevel: 'warn',
    });
    cameras = await startVirtualCameras({ port: 0, host: '127.0.0.1', cameras: 1, seed: 11 });
    const cam = cameras.cameras[0]!;
    // The device claims its own MQTT credentials with a one-time token, as a field device does.
    const claim = (await (
      await fetch(`${cloud.httpUrl}/api/v1/claims`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cloud.identity.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId: 'cam-e2e-01' }),
      })
    ).json()) as { claimToken: string };
    const parsed = parseAgentConfig({
      deviceId: 'cam-e2e-01',
      outletId: cam.outletId,
      fixtureId: cam.fixtureId,
      mqtt: { url: cloud.mqttUrl, reconnectPeriodMs: 200 },
      provisioning: { url: cloud.httpUrl, claimToken: claim.claimToken },
      camera: { kind: 'http', url: cam.snapshotUrl },
      capture: { intervalS: 0 },
      modelDir,
      dataDir: path.join(dataDir, 'agent'),
      logLevel: 'warn',
    });
    const config = await ensureCredentials(parsed, { log: createLogger('warn'), maxAttempts: 1 });
    agent = new EdgeAgent({
      config,
      camera: new HttpSnapshotCamera(cam.snapshotUrl),
      recognizer: await loadRecognizer({ modelDir }),
      log: createLogger('warn'),
    });
    await agent.start();
  });

  afterAll(async () => {
    await agent?.stop();
    await cameras?.close();
    await cloud?.close();
  });

  const storedObservation = (messageId: string) =>
    poll(async () => {
      const res = await fetch(`${cloud.httpUrl}/api/v1/observations?deviceId=cam-e2e-01&limit=50`);
      const body = (await res.json()) as { items: Observation[] };
      return body.items.find((o) => o.messageId === messageId);
    });

  it('stores exactly what the model recognised for the frame', async () => {
    // Startup capture may already be in flight; ask for one more and follow that one.
    const { observation } = await agent.capture('command');
    expect(observation.skus.length).toBeGreaterThan(0);
    const stored = await storedObservation(observation.messageId);
    const bySku = (o: Pick<Observation, 'skus'>) =>
      Object.fromEntries(o.skus.map((s) => [s.sku, { count: s.count, facings: s.facings }]));
    expect(bySku(stored)).toEqual(bySku(observation));
    expect(stored.emptyFacings).toBe(observation.emptyFacings);
    expect(stored.unknownProducts).toBe(observation.unknownProducts);
    expect(stored.model).toEqual(observation.model);
    expect(agent.outboxDepth).toBe(0);

    const fixtures = (await (await fetch(`${cloud.httpUrl}/api/v1/fixtures`)).json()) as {
      items: { fixtureId: string; skus: { sku: string; count: number }[] }[];
    };
    expect(fixtures.items.map((f) => f.fixtureId)).toContain(observation.fixtureId);
  });

  it('runs capture-now from the REST API and replies with the stored observation id', async () => {
    const res = await fetch(`${cloud.httpUrl}/api/v1/devices/cam-e2e-01/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'capture-now' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { reply: { ok: boolean; observationId: string } };
    expect(body.reply.ok).toBe(true);
    const stored = await storedObservation(body.reply.observationId);
    expect(stored.deviceId).toBe('cam-e2e-01');
  });
});
