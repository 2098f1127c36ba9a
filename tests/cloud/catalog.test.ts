import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '@shelfsight/cloud';
import { iou, loadRecognizer, type GalleryFile } from '../../edge-agent/src/recognition/index.js';
import { startTestCloud } from './helpers/cloud.js';

const MODELS = fileURLToPath(new URL('../../models', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/recognition', import.meta.url));

interface Coco {
  images: { id: number; file_name: string; width: number; height: number }[];
  categories: { id: number; name: string }[];
  annotations: { image_id: number; category_id: number; bbox: number[]; facing?: boolean; occlusion?: number }[];
}
type Box = [number, number, number, number];

/**
 * Enrolment end to end: a SKU the gallery does not hold is enrolled through the cloud API from a few
 * crops of committed frames; the new gallery version then recognises that SKU on the other frames.
 */
describe('catalog: reference images and SKU enrolment', () => {
  let cloud: RunningCloud;
  let dataDir: string;
  let modelDir: string;
  let coco: Coco;
  let sku: string;
  let baseVersion: string;
  const shots: { file: string; box: Box; imageId: number }[] = [];

  const api = (p: string, init: RequestInit & { admin?: boolean } = {}) =>
    fetch(`${cloud.httpUrl}/api/v1${p}`, {
      ...init,
      headers: {
        'content-type': 'application/json',
        ...(init.admin === false ? {} : { authorization: `Bearer ${cloud.identity.adminToken}` }),
      },
    });
  const enrolBody = async (n: number, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      images: await Promise.all(
        shots.slice(0, n).map(async (s) => ({
          data: (await readFile(path.join(FIXTURES, s.file))).toString('base64'),
          box: s.box,
          name: path.basename(s.file),
        })),
      ),
      ...extra,
    });

  beforeAll(async () => {
    coco = JSON.parse(await readFile(path.join(FIXTURES, 'annotations.json'), 'utf8')) as Coco;
    const gallery = JSON.parse(await readFile(path.join(MODELS, 'gallery.json'), 'utf8')) as GalleryFile;
    baseVersion = gallery.version;
    // A SKU the embedder never trained on, taken out of the gallery: a new product to enrol.
    const names = new Map(coco.categories.map((c) => [c.id, c.name]));
    const held = gallery.entries.filter((e) => e.heldOut).map((e) => e.sku);
    const fronts = (s: string) =>
      coco.annotations.filter((a) => names.get(a.category_id) === s && a.facing !== false && (a.occlusion ?? 0) < 0.2);
    sku = held.sort((a, b) => fronts(b).length - fronts(a).length)[0]!;
    const seen = new Set<number>();
    for (const a of fronts(sku).sort((x, y) => y.bbox[2]! * y.bbox[3]! - x.bbox[2]! * x.bbox[3]!)) {
      if (seen.has(a.image_id)) continue;
      seen.add(a.image_id);
      const im = coco.images.find((i) => i.id === a.image_id)!;
      const [x, y, w, h] = a.bbox as Box;
      shots.push({
        file: im.file_name,
        box: [x / im.width, y / im.height, w / im.width, h / im.height],
        imageId: im.id,
      });
    }
    expect(shots.length).toBeGreaterThanOrEqual(2);

    modelDir = await mkdtemp(path.join(tmpdir(), 'shelfsight-model-'));
    for (const f of ['model.json', 'detector.onnx', 'embedder.onnx', 'counter.onnx'])
      await symlink(path.join(MODELS, f), path.join(modelDir, f));
    await writeFile(
      path.join(modelDir, 'gallery.json'),
      JSON.stringify({ ...gallery, entries: gallery.entries.filter((e) => e.sku !== sku) }),
    );
    dataDir = await mkdtemp(path.join(tmpdir(), 'shelfsight-catalog-'));
    cloud = await startTestCloud({ dataDir, modelDir });
    await api('/masterdata/import', {
      method: 'POST',
      body: JSON.stringify({
        version: 1,
        skus: [{ sku, brand: 'Aurora', own: true, name: 'Orange juice 250 ml', price: 5, unitCost: 2 }],
        outlets: [],
        fixtures: [],
        promotions: [],
      }),
    });
  });

  afterAll(async () => {
    await cloud?.close();
    for (const d of [dataDir, modelDir]) if (d) await rm(d, { recursive: true, force: true });
  });

  it('lists the SKUs with the shipped gallery as version one', async () => {
    const res = await api('/catalog');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      gallery: { version: string; skus: number };
      enrolment: { available: boolean };
      items: { sku: string; inGallery: boolean; references: unknown[] }[];
    };
    expect(body.gallery.version).toBe(baseVersion);
    expect(body.enrolment.available).toBe(true);
    expect(body.items.find((i) => i.sku === sku)).toMatchObject({ inGallery: false, references: [] });
  });

  it('refuses enrolment to anyone but an admin', async () => {
    const res = await api(`/catalog/skus/${sku}/references`, {
      method: 'POST',
      body: await enrolBody(1),
      admin: false,
    });
    expect(res.status).toBe(403);
  });

  it('rejects a corrupt image, naming it, and stores nothing', async () => {
    const good = JSON.parse(await enrolBody(1)) as { images: { data: string }[] };
    const body = JSON.stringify({
      images: [...good.images, { data: Buffer.from('not an image at all').toString('base64'), name: 'broken.jpg' }],
    });
    const res = await api(`/catalog/skus/${sku}/references`, { method: 'POST', body });
    expect(res.status).toBe(400);
    const err = (await res.json()) as { details: { param: string; message: string }[] };
    expect(err.details[0]!.param).toBe('images.1 (broken.jpg)');
    expect(err.details[0]!.message).toMatch(/not a decodable/);
    expect(err.details[0]!.message).not.toMatch(/cannot decode image/); // said once, not twice
    const refs = (await (await api(`/catalog/skus/${sku}/references`)).json()) as { items: unknown[] };
    expect(refs.items).toHaveLength(0);
    const cat = (await (await api('/catalog')).json()) as { gallery: { version: string } };
    expect(cat.gallery.version).toBe(baseVersion);
  });

  it.each([
    ['no images', { images: [] }, 'images'],
    ['not base64', { images: [{ data: '***' }] }, 'images.0.data'],
    ['box outside the image', { images: [{ data: 'AAAA', box: [0.5, 0.5, 2, 0.1] }] }, 'images.0.box.2'],
    ['unknown key', { images: [{ data: 'AAAA' }], force: true }, 'body'],
  ])('rejects %s with a 400 naming the field', async (_what, payload, param) => {
    const res = await api(`/catalog/skus/${sku}/references`, { method: 'POST', body: JSON.stringify(payload) });
    expect(res.status).toBe(400);
    const err = (await res.json()) as { details: { param: string }[] };
    expect(err.details.map((d) => d.param)).toContain(param);
  });

  it('needs master data for a SKU the catalog does not know', async () => {
    const res = await api('/catalog/skus/new-sku-1/references', { method: 'POST', body: await enrolBody(1) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { details: { param: string }[] }).details[0]!.param).toBe('master');
  });

  it('enrols the SKU from ≤ 5 crops into a new gallery version that recognises it', async () => {
    const n = Math.min(5, shots.length - 1);
    const res = await api(`/catalog/skus/${sku}/references`, { method: 'POST', body: await enrolBody(n) });
    expect(res.status).toBe(201);
    const out = (await res.json()) as {
      gallery: { version: string; previousVersion: string };
      nearest: { sku: string; similarity: number }[];
      references: { thumbUrl: string; enrolled: boolean }[];
    };
    expect(out.gallery.previousVersion).toBe(baseVersion);
    expect(out.gallery.version).not.toBe(baseVersion);
    expect(out.references).toHaveLength(n);
    expect(out.nearest).toHaveLength(3);
    expect(out.nearest[0]!.similarity).toBeLessThan(0.99);

    const thumb = await fetch(`${cloud.httpUrl}${out.references[0]!.thumbUrl}`, {
      headers: { authorization: `Bearer ${cloud.identity.adminToken}` },
    });
    expect(thumb.headers.get('content-type')).toMatch(/image\/jpeg/);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(240);

    // The new version is the downloadable current gallery; the old one stays retrievable.
    const g = (await (await api('/catalog/gallery')).json()) as GalleryFile;
    expect(g.version).toBe(out.gallery.version);
    expect(g.entries.find((e) => e.sku === sku)).toMatchObject({ source: 'enrolled', shots: n });
    const old = (await (await api(`/catalog/galleries/${encodeURIComponent(baseVersion)}`)).json()) as GalleryFile;
    expect(old.entries.some((e) => e.sku === sku)).toBe(false);
    const changes = (await (await api('/catalog/gallery/changes')).json()) as { items: { sku: string | null }[] };
    expect(changes.items.map((c) => c.sku)).toEqual([sku, null]);

    // Recognise the frames the enrolment did not use, with the old and the new gallery.
    const enrolled = new Set(shots.slice(0, n).map((s) => s.imageId));
    const recall = async (galleryFile: GalleryFile): Promise<number> => {
      await writeFile(path.join(modelDir, 'gallery.json'), JSON.stringify(galleryFile));
      const rec = await loadRecognizer({ modelDir, logger: pino({ level: 'silent' }) });
      const names = new Map(coco.categories.map((c) => [c.id, c.name]));
      let hit = 0;
      let total = 0;
      try {
        for (const im of coco.images.filter((i) => !enrolled.has(i.id))) {
          const truth = coco.annotations.filter(
            (a) => a.image_id === im.id && names.get(a.category_id) === sku && a.facing !== false,
          );
          if (!truth.length) continue;
          const r = await rec.recognize(await readFile(path.join(FIXTURES, im.file_name)));
          for (const a of truth) {
            const [x, y, w, h] = a.bbox as Box;
            const box: Box = [x / im.width, y / im.height, w / im.width, h / im.height];
            total++;
            if (r.detections.some((d) => d.sku === sku && iou(d.box as Box, box) >= 0.5)) hit++;
          }
        }
      } finally {
        await rec.close();
      }
      return total ? hit / total : NaN;
    };
    const before = await recall(old);
    const after = await recall(g);
    console.log(JSON.stringify({ sku, shots: n, facingRecallBefore: before, facingRecallAfter: after }));
    expect(before).toBe(0);
    expect(after).toBeGreaterThanOrEqual(0.5);
  });

  it('keeps versions and references across a restart', async () => {
    const before = (await (await api('/catalog')).json()) as { gallery: { version: string } };
    await cloud.close();
    cloud = await startTestCloud({ dataDir, modelDir });
    const after = (await (await api('/catalog')).json()) as {
      gallery: { version: string };
      items: { sku: string; references: unknown[] }[];
    };
    expect(after.gallery.version).toBe(before.gallery.version);
    expect(after.items.find((i) => i.sku === sku)!.references.length).toBeGreaterThan(0);
  });

  it('adds a new SKU with its master data and reference images, without enrolling', async () => {
    const res = await api('/catalog/skus/zen-peach-330c/references', {
      method: 'POST',
      body: await enrolBody(1, {
        enroll: false,
        master: { brand: 'Zenith', own: false, name: 'Peach 330 ml', price: 4, unitCost: 2 },
      }),
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { gallery?: unknown }).gallery).toBeUndefined();
    const md = (await (await api('/masterdata')).json()) as { skus: { sku: string; brand: string }[] };
    expect(md.skus.find((s) => s.sku === 'zen-peach-330c')).toMatchObject({ brand: 'Zenith' });
  });
});
