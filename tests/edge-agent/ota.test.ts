import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { cp, mkdir, mkdtemp, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelease, generateReleaseKey, startCloud } from '@shelfsight/cloud';
import {
  EdgeAgent,
  HttpSnapshotCamera,
  createLogger,
  loadRecognizer,
  parseAgentConfig,
  parsePublicKey,
} from '@shelfsight/edge-agent';
import type { OtaAnnouncement, OtaState } from '@shelfsight/protocol';
import { startVirtualCameras } from '@shelfsight/simulators';
import { repoPath, waitUntil } from '../helpers/processes.js';

/**
 * Over-the-air model and gallery updates through the real cloud: signed release → artifact upload
 * → retained announcement → agent downloads, verifies, swaps atomically, self-tests, reports.
 */
describe('over-the-air model and gallery updates', () => {
  const key = generateReleaseKey();
  const deviceId = 'cam-ota-01';
  let cloud: Awaited<ReturnType<typeof startCloud>>;
  let cameras: Awaited<ReturnType<typeof startVirtualCameras>>;
  let agent: EdgeAgent;
  let dataDir: string;
  let cloudDir: string;

  const states = async (): Promise<OtaState[]> =>
    (await readFile(path.join(cloudDir, 'ota', 'states.jsonl'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as OtaState);

  const finalState = async (version: string) => {
    await waitUntil(
      async () =>
        (await states()).some((s) => s.version === version && (s.state === 'UPDATED' || s.state === 'FAILED')),
      60_000,
      `final OTA state of ${version}`,
    );
    return (await states()).filter((s) => s.version === version);
  };

  const publish = async (announcement: OtaAnnouncement, files: { body: Buffer }[]) => {
    for (const f of files) {
      const res = await fetch(`${cloud.httpUrl}/api/v1/ota/artifacts`, {
        method: 'POST',
        body: f.body,
        headers: admin(),
      });
      expect(res.status).toBe(201);
    }
    const res = await fetch(`${cloud.httpUrl}/api/v1/ota/announcements`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin() },
      body: JSON.stringify({ deviceIds: [deviceId], announcement }),
    });
    expect(res.status).toBe(202);
  };

  /** A copy of the shipped model folder with a new version in model.json (and gallery.json). */
  const modelFolder = async (version: string, mutate?: (dir: string) => Promise<void>) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'release-'));
    await cp(repoPath('models'), dir, {
      recursive: true,
      filter: (src) => !src.includes('training') && !src.endsWith('README.md'),
    });
    const modelJson = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { version: string };
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ ...modelJson, version }));
    await mutate?.(dir);
    return dir;
  };

  const admin = () => ({ authorization: `Bearer ${cloud.identity.adminToken}` });

  it('keeps release tooling behind the admin token', async () => {
    const anon = await fetch(`${cloud.httpUrl}/api/v1/ota/artifacts`, { method: 'POST', body: 'x' });
    expect(anon.status).toBe(401);
    expect((await fetch(`${cloud.httpUrl}/api/v1/ota/states`)).status).toBe(401);
  });

  const capturedModel = async () => (await agent.capture('command')).observation;

  beforeAll(async () => {
    cloudDir = await mkdtemp(path.join(tmpdir(), 'ota-cloud-'));
    dataDir = await mkdtemp(path.join(tmpdir(), 'ota-agent-'));
    cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: cloudDir, logLevel: 'warn', auth: 'off' });
    cameras = await startVirtualCameras({ port: 0, host: '127.0.0.1', cameras: 1, seed: 3 });
    const cam = cameras.cameras[0]!;
    const config = parseAgentConfig({
      deviceId,
      outletId: cam.outletId,
      fixtureId: cam.fixtureId,
      mqtt: { url: cloud.mqttUrl, reconnectPeriodMs: 200 },
      camera: { kind: 'http', url: cam.snapshotUrl },
      capture: { intervalS: 0 },
      modelDir: repoPath('models'),
      dataDir,
      ota: { publicKeys: [key.publicKeyBase64] },
      logLevel: 'warn',
    });
    agent = new EdgeAgent({
      config,
      camera: new HttpSnapshotCamera(cam.snapshotUrl),
      recognizer: await loadRecognizer({ modelDir: config.modelDir }),
      loadRecognizer,
      trustedKeys: [parsePublicKey(key.publicKeyBase64)],
      log: createLogger('warn'),
    });
    await agent.start();
    await capturedModel(); // leaves a reference frame for the self-test
  });

  afterAll(async () => {
    await agent?.stop();
    await cameras?.close();
    await cloud?.close();
  });

  it('installs a signed model, reporting every state, and uses it for the next capture', async () => {
    const dir = await modelFolder('9.0.0-ota');
    const rel = await buildRelease({
      dir,
      kind: 'model',
      name: 'shelfsight-cooler',
      version: '9.0.0-ota',
      privateKeyPem: key.privateKeyPem,
      baseUrl: cloud.httpUrl,
    });
    await publish(rel.announcement, rel.files);
    expect((await finalState('9.0.0-ota')).map((s) => s.state)).toEqual([
      'DOWNLOADING',
      'DOWNLOADED',
      'VERIFIED',
      'UPDATING',
      'UPDATED',
    ]);
    expect((await capturedModel()).model.version).toBe('9.0.0-ota');
    expect(await readlink(path.join(dataDir, 'models', 'current'))).toMatch(/^9\.0\.0-ota-/);
  });

  it('refuses a tampered, a foreign-signed and an unsigned announcement without downloading', async () => {
    const dir = await modelFolder('9.1.0-tampered');
    const rel = await buildRelease({
      dir,
      kind: 'model',
      name: 'shelfsight-cooler',
      version: '9.1.0-tampered',
      privateKeyPem: key.privateKeyPem,
      baseUrl: cloud.httpUrl,
    });
    // Tampered after signing: one file now points at other bytes.
    const evil = Buffer.from(randomBytes(1024));
    const tampered: OtaAnnouncement = {
      ...rel.announcement,
      manifest: {
        ...rel.announcement.manifest,
        files: rel.announcement.manifest.files.map((f) =>
          f.path === 'detector.onnx' ? { ...f, size: evil.length, sha256: 'a'.repeat(64) } : f,
        ),
      },
    };
    await publish(tampered, [{ body: evil }]);
    const t = await finalState('9.1.0-tampered');
    expect(t.map((s) => s.state)).toEqual(['FAILED']);
    expect(t[0]!.error).toMatch(/signature does not verify/);

    const foreign = await buildRelease({
      dir,
      kind: 'model',
      name: 'shelfsight-cooler',
      version: '9.2.0-foreign',
      privateKeyPem: generateReleaseKey().privateKeyPem,
      baseUrl: cloud.httpUrl,
    });
    await publish(foreign.announcement, []);
    expect((await finalState('9.2.0-foreign')).map((s) => s.state)).toEqual(['FAILED']);

    const unsigned = {
      ...foreign.announcement,
      manifest: { ...foreign.announcement.manifest, version: '9.3.0-unsigned' },
    };
    await publish({ ...unsigned, signature: Buffer.alloc(64).toString('base64') }, []);
    expect((await finalState('9.3.0-unsigned')).map((s) => s.state)).toEqual(['FAILED']);

    expect((await capturedModel()).model.version).toBe('9.0.0-ota');
  });

  it('rolls back when the new model fails its self-test', async () => {
    const dir = await modelFolder('9.4.0-broken', (d) => writeFile(path.join(d, 'detector.onnx'), randomBytes(4096)));
    const rel = await buildRelease({
      dir,
      kind: 'model',
      name: 'shelfsight-cooler',
      version: '9.4.0-broken',
      privateKeyPem: key.privateKeyPem,
      baseUrl: cloud.httpUrl,
    });
    await publish(rel.announcement, rel.files);
    const s = await finalState('9.4.0-broken');
    expect(s.map((x) => x.state)).toEqual(['DOWNLOADING', 'DOWNLOADED', 'VERIFIED', 'UPDATING', 'FAILED']);
    expect(s.at(-1)!.error).toMatch(/rolled back/);
    expect(s.at(-1)!.running).toBe('9.0.0-ota');
    expect(await readlink(path.join(dataDir, 'models', 'current'))).toMatch(/^9\.0\.0-ota-/);
    expect((await capturedModel()).model.version).toBe('9.0.0-ota');
  });

  it('installs a gallery-only update, keeping the nets (detector, embedder, column counter)', async () => {
    // Anything else in the running folder stays behind (a shipped models/ may hold training caches).
    await mkdir(path.join(dataDir, 'models', 'current', 'training-cache'), { recursive: true });
    await writeFile(path.join(dataDir, 'models', 'current', 'training-cache', 'big.npy'), randomBytes(1024));
    const dir = await mkdtemp(path.join(tmpdir(), 'gallery-'));
    const gallery = JSON.parse(await readFile(repoPath('models/gallery.json'), 'utf8')) as { version: string };
    await writeFile(path.join(dir, 'gallery.json'), JSON.stringify({ ...gallery, version: 'g-ota-2' }));
    const rel = await buildRelease({
      dir,
      kind: 'gallery',
      name: 'shelfsight-gallery',
      version: 'g-ota-2',
      privateKeyPem: key.privateKeyPem,
      baseUrl: cloud.httpUrl,
    });
    await publish(rel.announcement, rel.files);
    expect((await finalState('g-ota-2')).at(-1)!.state).toBe('UPDATED');
    const obs = await capturedModel();
    expect(obs.gallery?.version).toBe('g-ota-2');
    expect(obs.model.version).toBe('9.0.0-ota');
    expect((await readdir(path.join(dataDir, 'models', 'current'))).sort()).toEqual([
      'counter.onnx',
      'detector.onnx',
      'embedder.onnx',
      'gallery.json',
      'model.json',
    ]);
  });

  it('ships a SKU enrolled in the catalog with the shelfsight-release CLI', async () => {
    // Enrol through the cloud API from two crops of committed frames (any SKU: this is about delivery).
    const fixtures = repoPath('tests/fixtures/recognition');
    const coco = JSON.parse(await readFile(path.join(fixtures, 'annotations.json'), 'utf8')) as {
      images: { id: number; file_name: string; width: number; height: number }[];
      categories: { id: number; name: string }[];
      annotations: { image_id: number; category_id: number; bbox: number[]; facing?: boolean }[];
    };
    const names = new Map(coco.categories.map((c) => [c.id, c.name]));
    const fronts = coco.annotations.filter((a) => a.facing && !names.get(a.category_id)!.startsWith('__'));
    const sku = names.get(fronts[0]!.category_id)!;
    const images = await Promise.all(
      fronts
        .filter((a) => names.get(a.category_id) === sku)
        .slice(0, 2)
        .map(async (a) => {
          const im = coco.images.find((i) => i.id === a.image_id)!;
          const [x, y, w, h] = a.bbox as [number, number, number, number];
          return {
            data: (await readFile(path.join(fixtures, im.file_name))).toString('base64'),
            box: [x / im.width, y / im.height, w / im.width, h / im.height],
          };
        }),
    );
    const enrol = await fetch(`${cloud.httpUrl}/api/v1/catalog/skus/${sku}/references`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin() },
      body: JSON.stringify({ images, master: { brand: 'Aurora', own: true, name: sku, price: 4, unitCost: 2 } }),
    });
    expect(enrol.status).toBe(201);
    const { gallery } = (await enrol.json()) as { gallery: { version: string } };

    const keyFile = path.join(await mkdtemp(path.join(tmpdir(), 'release-key-')), 'release.pem');
    await writeFile(keyFile, key.privateKeyPem, { mode: 0o600 });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        repoPath('cloud/dist/ota/release-cli.js'),
        'publish',
        '--cloud',
        cloud.httpUrl,
        '--key',
        keyFile,
        '--catalog',
        '--devices',
        deviceId,
      ],
      { env: { ...process.env, SHELFSIGHT_ADMIN_TOKEN: cloud.identity.adminToken } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ kind: 'gallery', version: gallery.version, deviceIds: [deviceId] });
    expect((await finalState(gallery.version)).at(-1)!.state).toBe('UPDATED');
    expect((await capturedModel()).gallery?.version).toBe(gallery.version);
  });
});
