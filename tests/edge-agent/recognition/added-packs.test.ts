import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadRecognizer, type Recognition } from '../../../edge-agent/src/recognition/index.js';
import { loadCoco } from '../../../edge-agent/src/eval/coco.js';

const MODELS = fileURLToPath(new URL('../../../models', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/recognition', import.meta.url));

/**
 * The committed model against the same folder without `counter.backBoxes` and `counter.boxOutput`
 * (the counter then only drops boxes): on the committed upright frames, what the counter adds must
 * be packs behind a front, with that front's identity.
 */
describe('packs the column counter adds (recount.ts missingBoxes)', () => {
  const withBack: Recognition[] = [];
  const without: Recognition[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shelfsight-noback-'));
    await cp(MODELS, dir, { recursive: true, filter: (src) => !src.includes('training') });
    const cfg = JSON.parse(await readFile(join(MODELS, 'model.json'), 'utf8')) as { counter: Record<string, unknown> };
    delete cfg.counter.backBoxes;
    delete cfg.counter.boxOutput;
    await writeFile(join(dir, 'model.json'), JSON.stringify(cfg));
    const logger = pino({ level: 'silent' });
    const a = await loadRecognizer({ modelDir: MODELS, logger });
    const b = await loadRecognizer({ modelDir: dir, logger });
    const frames = (await loadCoco(FIXTURES, 1)).filter((im) => im.fixture === 'upright');
    for (const im of frames) {
      const jpeg = await readFile(im.path);
      withBack.push(await a.recognize(jpeg));
      without.push(await b.recognize(jpeg));
    }
    await a.close();
    await b.close();
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('adds packs behind fronts, never facings, each with the SKU of its column front', () => {
    let added = 0;
    withBack.forEach((r, f) => {
      const key = (d: Recognition['detections'][number]) => d.box.join(',');
      const before = new Set(without[f]!.detections.map(key));
      // The detector's own boxes are the same either way: the geometry only adds.
      expect(r.detections.filter((d) => before.has(key(d)))).toHaveLength(without[f]!.detections.length);
      for (const d of r.detections.filter((x) => !before.has(key(x)))) {
        added++;
        expect(d.kind).not.toBe('empty');
        expect(d.facing).toBe(false);
        expect(d.confidence).toBeLessThanOrEqual(0.5);
        const front = r.detections.find((x) => x.facing && x.row === d.row && x.column === d.column);
        expect(front, `a front for row ${d.row} column ${d.column}`).toBeDefined();
        expect(d.kind).toBe(front!.kind);
        expect(d.sku).toBe(front!.sku);
        // Behind a front shows over its upper half (from the camera above), overlapping it across,
        // at most the front box's size.
        const [fx, fy, fw, fh] = front!.box;
        expect(d.box[1]).toBeLessThan(fy + fh / 2);
        expect(Math.min(d.box[0] + d.box[2], fx + fw) - Math.max(d.box[0], fx)).toBeGreaterThan(0);
        expect(d.box[3]).toBeLessThanOrEqual(fh + 1e-6);
      }
      const count = (x: Recognition) => x.skus.reduce((n, s) => n + s.count, 0) + x.unknownProducts;
      expect(count(r)).toBe(count(without[f]!) + r.detections.length - without[f]!.detections.length);
      expect(r.skus.map((s) => [s.sku, s.facings])).toEqual(without[f]!.skus.map((s) => [s.sku, s.facings]));
    });
    // The committed frames have columns where the detector missed a back pack.
    expect(added).toBeGreaterThan(0);
  });
});

describe('a counter said to place packs (counter.boxOutput)', () => {
  it('refuses to load a counter net without the `boxes` output, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shelfsight-noboxes-'));
    try {
      await cp(MODELS, dir, { recursive: true, filter: (src) => !src.includes('training') });
      const cfg = JSON.parse(await readFile(join(MODELS, 'model.json'), 'utf8')) as {
        counter: Record<string, unknown>;
      };
      // Any net without a `boxes` output stands in for an older counter.onnx.
      await writeFile(
        join(dir, 'model.json'),
        JSON.stringify({
          ...cfg,
          counter: { ...cfg.counter, file: 'embedder.onnx', sha256: undefined, boxOutput: true },
        }),
      );
      await expect(loadRecognizer({ modelDir: dir, logger: pino({ level: 'silent' }) })).rejects.toThrow(
        'embedder.onnx has no output "boxes", but model.json says counter.boxOutput: true',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
