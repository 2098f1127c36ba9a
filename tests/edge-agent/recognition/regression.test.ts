import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Detection, ImageInfo, SkuCount } from '@shelfsight/protocol';
import { pino } from 'pino';
import { buildGallery, enrollSku, loadRecognizer, matchEmbeddings } from '../../../edge-agent/src/recognition/index.js';
import type { GalleryFile } from '../../../edge-agent/src/recognition/index.js';
import type { Recognition, Recognizer } from '../../../edge-agent/src/recognition/index.js';
import { loadCoco, type EvalImage } from '../../../edge-agent/src/eval/coco.js';
import { computeMetrics, type FrameResult } from '../../../edge-agent/src/eval/metrics.js';

const MODELS = fileURLToPath(new URL('../../../models', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/recognition', import.meta.url));

/**
 * Accuracy floors on the committed default-difficulty frames (see tests/fixtures/recognition/README.md),
 * over all frames and per fixture. They sit a little below what the committed models measure, so a
 * worse model cannot land silently, and a model that gives up one fixture for another cannot either.
 */
type Floors = {
  detectionRecall: number;
  detectionPrecision: number;
  skuAccuracy: number;
  facingSkuAccuracy: number;
  countExactMatch: number;
  /**
   * countDiagnosis.withinHiddenBand (D42): counts right but for packs 80–95 % hidden, which either way
   * is a coin toss; a drop here is a counting regression, not that noise.
   */
  countWithinHiddenBand: number;
  emptyRecall: number;
};
const FLOORS: Record<'all' | 'upright' | 'chest', Floors> = {
  // v0.5.0 (embedder also trained on hard scenes, D46): 95.1 / 94.1 / 93.7 / 97.8 / 80.0 / 97.2 % on all 16 frames,
  // within the 80-95 % band 89.3 %.
  // v0.4.11 with a faint cap taking its front's SKU when that is its own best match (D38): 95.2 / 94.2 / 92.6 / 96.4 /
  // 76.0 / 97.2 % on all 16 frames.
  // v0.4.11 (the counter places the packs it adds, D37): 95.2 / 94.2 / 91.9 / 96.4 / 74.7 / 97.2 % on all 16 frames.
  // v0.4.10 (per-SKU similarity floors, D36): 95.0 / 93.9 / 91.7 / 96.4 / 74.7 / 97.2 % on all 16 frames.
  // v0.4.9 (unsure columns, D35): 95.0 / 93.9 / 91.8 / 96.6 / 70.2 % on all 16 frames (SKU -0.5, count +2.2 against
  // v0.4.8's 95.4 / 94.0 / 92.3 / 96.8 / 68.0 %; on the 300 held-out frames SKU -0.2 to +0.1, count +0.7 to +1.4).
  // v0.4.7 (stack prior 0.3 / 0.5, D33): 95.2 / 93.8 / 92.1 / 96.8 / 68.0 / 97.2 % on all 16 frames (count exact
  // two pairs lower here than v0.4.6; +1.1 to +2.3 points on the 300 held-out frames).
  // v0.4.6 (the counter adds missed back packs, D32) measures 95.2 / 93.8 / 92.1 / 96.8 / 68.9 % on all 16 frames
  // (recall, precision, SKU, front SKU, count exact; empty recall as v0.4.5).
  // v0.4.5 (column counter, D31) measures 94.7 / 94.7 / 91.6 / 96.8 / 68.0 / 97.2 % on all 16 frames (recall, precision,
  // SKU, front SKU, count exact, empty recall): fewer double boxes (precision +3.1, count +7.1 points) for a few real
  // back packs dropped with them (recall -1.1, SKU -0.7 points).
  // v0.4.3 (empty-slot threshold 0.25, D30) measures the same as v0.4.2 here (its empty precision 81.4 -> 79.5 %).
  // v0.4.2 (flip test, D29) measures 95.8 / 91.7 / 92.3 / 97.0 / 60.9 / 97.2 % on all 16 frames; v0.4.1 (shelf-scale
  // size check) 95.5 / 90.4 / 91.8 / 96.8 / 59.1 / 94.4 %; v0.4.0 (depth head) 95.5 / 90.4 / 92.3 / 97.2 / 60.5 /
  // 94.4 %; v0.3.2: 95.0 / 88.9 / 91.0 / 96.4 / 52.0 / 94.4 %.
  all: {
    detectionRecall: 0.94,
    detectionPrecision: 0.93,
    skuAccuracy: 0.93,
    facingSkuAccuracy: 0.97,
    countExactMatch: 0.78,
    countWithinHiddenBand: 0.87, // 89.3 % with v0.5.0 (84.6 % with v0.4.11 + D38)
    emptyRecall: 0.93,
  },
  // v0.5.0: 94.1 / 93.5 / 92.9 / 97.7 / 75.2 %, band 88.8 % on the 10 upright frames; v0.4.11 + D38: 94.3 / 93.6 / 92.0 / 96.9 / 72.7 %; v0.4.11: 94.3 / 93.6 / 91.3 / 96.9 / 71.1 %; v0.4.10: 94.1 / 93.5 / 91.1 / 96.9 / 71.1 %; v0.4.9: 94.1 / 93.5 / 91.3 / 97.3 / 68.5 %; v0.4.8: 94.6 / 93.7 / 91.8 / 97.7 / 66.2 %;
  // v0.4.7: 94.3 / 93.3 / 91.4 / 97.7 / 66.2 %; v0.4.6: 94.3 / 93.3 / 91.4 / 97.7 / 67.7 %; v0.4.5: 93.6 / 94.6 / 90.7 / 97.7 / 66.2 / 100 % on the 10 upright frames; v0.4.2: 94.4 / 90.3 / 91.3 / 98.1 / 55.4 / 100 %; v0.4.1: 94.3 / 88.2 / 90.4 / 97.3 /
  // 50.4 / 100 %; v0.3.2: 93.8 / 86.4 / 89.8 / 96.6 / 40.5 / 100 %.
  upright: {
    detectionRecall: 0.94,
    detectionPrecision: 0.93,
    skuAccuracy: 0.92,
    facingSkuAccuracy: 0.97,
    countExactMatch: 0.73,
    countWithinHiddenBand: 0.87, // 88.8 % (v0.4.11 + D38: 85.2 %)
    emptyRecall: 0.95,
  },
  // v0.5.0: 99.1 / 97.8 / 97.5 / 98.3 / 88.9 / 90.9 % on the 4 chest frames; v0.4.11 + D38: 99.1 / 97.8 / 95.5 / 95.5 / 81.8 / 90.9 % (v0.4.10: 94.5 / 95.5 / 80.3 SKU /
  // front SKU / count); v0.4.2: 99.1 / 98.2 / 94.5 / 95.5 / 71.6 / 90.9 %; v0.4.1: 98.7 / 96.9 / 96.0 / 96.0 /
  // 75.8 / 81.8 % (v0.3.2: 99.1 / 97.4 / 95.0 / 95.5 / 69.1 / 81.8 %).
  chest: {
    detectionRecall: 0.98,
    detectionPrecision: 0.97,
    skuAccuracy: 0.96,
    facingSkuAccuracy: 0.97,
    countExactMatch: 0.85,
    countWithinHiddenBand: 0.85, // 88.9 %: as count exact (stacks seen from above are counted by their boxes)
    emptyRecall: 0.85,
  },
};

describe('recognition regression on committed frames with the committed models', () => {
  let rec: Recognizer;
  let images: EvalImage[];
  const results: Recognition[] = [];

  beforeAll(async () => {
    rec = await loadRecognizer({ modelDir: MODELS, logger: pino({ level: 'silent' }) });
    const cfg = JSON.parse(await readFile(`${MODELS}/model.json`, 'utf8')) as { detector: { maxOcclusion?: number } };
    images = await loadCoco(FIXTURES, cfg.detector.maxOcclusion ?? 1);
    // Each frame seen as its camera is configured: a chest cooler's looks down (agent config `view`).
    for (const im of images)
      results.push(await rec.recognize(await readFile(im.path), { view: im.fixture === 'chest' ? 'top' : 'front' }));
  });

  afterAll(async () => {
    await rec?.close();
  });

  it('produces output that satisfies the protocol schemas', () => {
    expect(images.length).toBeGreaterThanOrEqual(12);
    for (const r of results) {
      ImageInfo.parse(r.image);
      for (const s of r.skus) SkuCount.parse(s);
      for (const d of r.detections) Detection.parse(d);
      expect(r.image).toMatchObject({ width: 1280, height: 960 });
      expect(r.inferenceMs).toBeGreaterThan(0);
      // The stages account for the whole time (each rounded to 0.01 ms), and every stage that does work took some.
      const st = r.stagesMs;
      expect(st.decode + st.detect + st.count + st.identify).toBeCloseTo(r.inferenceMs, 1);
      expect(Math.min(st.decode, st.detect, st.identify)).toBeGreaterThan(0);
      expect(st.count).toBeGreaterThanOrEqual(0);
      for (const s of r.skus) expect(s.facings).toBeLessThanOrEqual(s.count);
    }
  });

  it.each(Object.keys(FLOORS) as (keyof typeof FLOORS)[])('stays above the accuracy floors: %s frames', (which) => {
    const frames: FrameResult[] = images
      .map((im, i) => ({ im, frame: { truth: im.truth, pred: results[i]!.detections } }))
      .filter(({ im }) => which === 'all' || im.fixture === which)
      .map(({ frame }) => frame);
    expect(frames.length).toBeGreaterThanOrEqual(which === 'all' ? 12 : 4);
    const m = computeMetrics(frames);
    const floor = FLOORS[which];
    console.log(which, JSON.stringify(m));
    expect(m.detection.recall).toBeGreaterThanOrEqual(floor.detectionRecall);
    expect(m.detection.precision).toBeGreaterThanOrEqual(floor.detectionPrecision);
    expect(m.skuAccuracy).toBeGreaterThanOrEqual(floor.skuAccuracy);
    expect(m.facingSkuAccuracy).toBeGreaterThanOrEqual(floor.facingSkuAccuracy);
    expect(m.countExactMatch).toBeGreaterThanOrEqual(floor.countExactMatch);
    expect(m.countDiagnosis.withinHiddenBand).toBeGreaterThanOrEqual(floor.countWithinHiddenBand);
    expect(m.empty.recall).toBeGreaterThanOrEqual(floor.emptyRecall);
  });
});

describe('the committed gallery', () => {
  it('gives every SKU its pack size, so that size variants are told apart (size.ts)', async () => {
    const g = JSON.parse(await readFile(`${MODELS}/gallery.json`, 'utf8')) as GalleryFile;
    expect(g.entries.filter((e) => !(e.sizeMm && e.sizeMm.width > 0 && e.sizeMm.height > 0)).map((e) => e.sku)).toEqual(
      [],
    );
    expect(buildGallery(g).sizes.size).toBe(g.entries.length);
  });
});

describe('enrollment without retraining', () => {
  it('enrolls a SKU from three frames so that it matches its own gallery prototype', async () => {
    const galleryFile = JSON.parse(await readFile(`${MODELS}/gallery.json`, 'utf8')) as GalleryFile;
    const coco = JSON.parse(await readFile(`${FIXTURES}/annotations.json`, 'utf8')) as {
      images: { id: number; file_name: string; width: number; height: number }[];
      categories: { id: number; name: string }[];
      annotations: { image_id: number; category_id: number; bbox: number[]; occlusion: number }[];
    };
    const names = new Map(coco.categories.map((c) => [c.id, c.name]));
    const clean = coco.annotations.filter(
      (a) => a.occlusion === 0 && galleryFile.entries.some((e) => e.sku === names.get(a.category_id)),
    );
    const held = new Set(galleryFile.entries.filter((e) => e.heldOut).map((e) => e.sku));
    // Prefer a SKU the embedder never saw in training: that is what enrollment is for.
    const bySku = new Map<string, typeof clean>();
    for (const a of clean) bySku.set(names.get(a.category_id)!, [...(bySku.get(names.get(a.category_id)!) ?? []), a]);
    const candidates = [...bySku.entries()].filter(([, v]) => v.length >= 3);
    const [sku, anns] = candidates.find(([k]) => held.has(k)) ?? candidates[0]!;
    const shots = await Promise.all(
      anns.slice(0, 3).map(async (a) => {
        const im = coco.images.find((i) => i.id === a.image_id)!;
        const [x, y, w, h] = a.bbox as [number, number, number, number];
        return {
          image: await readFile(`${FIXTURES}/images/${im.file_name.split('/').pop()}`),
          box: [x / im.width, y / im.height, w / im.width, h / im.height] as [number, number, number, number],
        };
      }),
    );
    const entry = await enrollSku(MODELS, sku, shots);
    expect(entry.vector).toHaveLength(galleryFile.dim);
    const [m] = matchEmbeddings(new Float32Array(entry.vector), buildGallery(galleryFile), 0);
    expect(m!.sku).toBe(sku);
    expect(m!.similarity).toBeGreaterThan(0.8);
  });
});
