import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Detection, ImageInfo, SkuCount } from '@shelfsight/protocol';
import { pino } from 'pino';
import { loadRecognizer } from '../../../edge-agent/src/recognition/index.js';
import type { Recognition, Recognizer } from '../../../edge-agent/src/recognition/index.js';
import { loadCoco, type EvalImage } from '../../../edge-agent/src/eval/coco.js';
import { computeMetrics, type FrameResult } from '../../../edge-agent/src/eval/metrics.js';

const MODELS = fileURLToPath(new URL('../../../models', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/recognition', import.meta.url));

/**
 * Accuracy floors on the committed default-difficulty frames (see tests/fixtures/recognition/README.md).
 * They sit a little below what the committed models measure, so a worse model cannot land silently.
 */
const FLOOR = {
  detectionRecall: 0.95,
  detectionPrecision: 0.95,
  skuAccuracy: 0.95,
  countExactMatch: 0.9,
  emptyRecall: 0.9,
};

describe('recognition regression on committed frames with the committed models', () => {
  let rec: Recognizer;
  let images: EvalImage[];
  const results: Recognition[] = [];

  beforeAll(async () => {
    rec = await loadRecognizer({ modelDir: MODELS, logger: pino({ level: 'silent' }) });
    images = await loadCoco(FIXTURES);
    for (const im of images) results.push(await rec.recognize(await readFile(im.path)));
  });

  afterAll(async () => {
    await rec?.close();
  });

  it('produces output that satisfies the protocol schemas', () => {
    expect(images.length).toBeGreaterThanOrEqual(8);
    for (const r of results) {
      ImageInfo.parse(r.image);
      for (const s of r.skus) SkuCount.parse(s);
      for (const d of r.detections) Detection.parse(d);
      expect(r.image).toMatchObject({ width: 1280, height: 960 });
      expect(r.inferenceMs).toBeGreaterThan(0);
      for (const s of r.skus) expect(s.facings).toBeLessThanOrEqual(s.count);
    }
  });

  it('stays above the accuracy floors', () => {
    const frames: FrameResult[] = images.map((im, i) => ({ truth: im.truth, pred: results[i]!.detections }));
    const m = computeMetrics(frames);
    console.log(JSON.stringify(m));
    expect(m.detection.recall).toBeGreaterThanOrEqual(FLOOR.detectionRecall);
    expect(m.detection.precision).toBeGreaterThanOrEqual(FLOOR.detectionPrecision);
    expect(m.skuAccuracy).toBeGreaterThanOrEqual(FLOOR.skuAccuracy);
    expect(m.countExactMatch).toBeGreaterThanOrEqual(FLOOR.countExactMatch);
    expect(m.empty.recall).toBeGreaterThanOrEqual(FLOOR.emptyRecall);
  });
});
