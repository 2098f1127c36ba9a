import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelConfig } from '../../../edge-agent/src/recognition/config.js';

const MODELS = new URL('../../../models/', import.meta.url).pathname;

describe('model.json checks at load', () => {
  let dir: string;
  let shipped: Record<string, unknown> & { detector: Record<string, unknown> };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'model-config-'));
    shipped = JSON.parse(await readFile(join(MODELS, 'model.json'), 'utf8')) as typeof shipped;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const withDetector = (detector: Record<string, unknown>) =>
    writeFile(join(dir, 'model.json'), JSON.stringify({ ...shipped, detector: { ...shipped.detector, ...detector } }));

  it('loads the shipped file with its shoulder threshold', async () => {
    await withDetector({});
    const cfg = await loadModelConfig(dir);
    expect(cfg.detector.shoulderThreshold).toBeGreaterThan(cfg.detector.scoreThreshold);
  });

  it('loads a file without a shoulder threshold (older models: peaks only)', async () => {
    await withDetector({ shoulderThreshold: undefined });
    expect((await loadModelConfig(dir)).detector.shoulderThreshold).toBeUndefined();
  });

  it.each([0, 1.5, '0.5', -0.1])('refuses shoulderThreshold %j and names the field', async (bad) => {
    await withDetector({ shoulderThreshold: bad });
    await expect(loadModelConfig(dir)).rejects.toThrow(
      'model.json: detector.shoulderThreshold must be a number in (0, 1]',
    );
  });

  it('loads a file without depth suppression (models without a depth head)', async () => {
    await withDetector({ depthSuppression: undefined });
    expect((await loadModelConfig(dir)).detector.depthSuppression).toBeUndefined();
  });

  it.each([
    { iou: 0 },
    { iou: 0.5 },
    { iou: 1.2, gap: 0.5 },
    { iou: 0.5, gap: 0 },
    { iou: '0.5', gap: 0.5 },
    { iou: 0.4, gap: 0.5, apartIou: 1.5 },
    0.5,
    null,
  ])('refuses depthSuppression %j and names the field', async (bad) => {
    await withDetector({ depthSuppression: bad });
    await expect(loadModelConfig(dir)).rejects.toThrow(
      'model.json: detector.depthSuppression must be {iou in (0, 1], gap > 0, apartIou? in (0, 1]}',
    );
  });

  it('ships with the flip test on, and loads a file without it (one look per frame)', async () => {
    await withDetector({});
    expect((await loadModelConfig(dir)).detector.flipTest).toBe(true);
    await withDetector({ flipTest: undefined });
    expect((await loadModelConfig(dir)).detector.flipTest).toBeUndefined();
  });

  it.each([1, 'yes', null])('refuses flipTest %j and names the field', async (bad) => {
    await withDetector({ flipTest: bad });
    await expect(loadModelConfig(dir)).rejects.toThrow('model.json: detector.flipTest must be true or false');
  });

  it('refuses the flip test where mirrored maps would not line up cell for cell', async () => {
    await writeFile(
      join(dir, 'model.json'),
      JSON.stringify({ ...shipped, input: { ...(shipped.input as object), width: 642 }, detector: shipped.detector }),
    );
    await expect(loadModelConfig(dir)).rejects.toThrow('detector.flipTest needs input.width divisible by stride');
  });

  it('ships an empty-slot threshold below the product one, and loads a file without class thresholds', async () => {
    await withDetector({});
    const cfg = await loadModelConfig(dir);
    expect(cfg.detector.classThresholds?.empty).toBeLessThan(cfg.detector.scoreThreshold);
    await withDetector({ classThresholds: undefined });
    expect((await loadModelConfig(dir)).detector.classThresholds).toBeUndefined();
  });

  it.each([{ shelf: 0.2 }, { empty: 0 }, { empty: 1.5 }, { empty: '0.2' }, [0.2], 0.2, null])(
    'refuses classThresholds %j and names the field and the classes',
    async (bad) => {
      await withDetector({ classThresholds: bad });
      await expect(loadModelConfig(dir)).rejects.toThrow(
        'model.json: detector.classThresholds must map class names (product, empty) to numbers in (0, 1]',
      );
    },
  );

  const withEmbedder = (patch: object) =>
    writeFile(
      join(dir, 'model.json'),
      JSON.stringify({ ...shipped, embedder: { ...(shipped.embedder as object), ...patch } }),
    );

  it('ships a stack prior, and loads a file without one (the pre-0.4.7 default applies)', async () => {
    await withEmbedder({});
    expect((await loadModelConfig(dir)).embedder.stackPrior).toEqual({ margin: 0.3, slack: 0.5 });
    await withEmbedder({ stackPrior: undefined });
    expect((await loadModelConfig(dir)).embedder.stackPrior).toBeUndefined();
  });

  it.each([{ margin: -0.1, slack: 0.5 }, { margin: 0.3 }, { margin: '0.3', slack: 0.5 }, null, 0.3])(
    'refuses embedder.stackPrior %j and names the field',
    async (bad) => {
      await withEmbedder({ stackPrior: bad });
      await expect(loadModelConfig(dir)).rejects.toThrow(
        'model.json: embedder.stackPrior must be {margin >= 0, slack >= 0}',
      );
    },
  );

  const withCounter = (counter: unknown) => writeFile(join(dir, 'model.json'), JSON.stringify({ ...shipped, counter }));

  it('ships a column counter, and loads a file without one (columns keep every box)', async () => {
    await withDetector({});
    const cfg = await loadModelConfig(dir);
    expect(cfg.counter?.classes).toBeGreaterThanOrEqual(2);
    await withCounter(undefined);
    expect((await loadModelConfig(dir)).counter).toBeUndefined();
  });

  it.each([
    { classes: 1 },
    { classes: 2.5 },
    { minConfidence: 1.5 },
    { minConfidence: '0.7' },
    { width: 0 },
    { height: '160' },
    { region: { left: 0.4, up: 0.6, width: 0, height: 1.6 } },
    { region: { left: 0.4, width: 1.8, height: 1.6 } },
    { file: 7 },
  ])('refuses counter field %j and names the section', async (bad) => {
    await withCounter({ ...(shipped.counter as object), ...bad });
    await expect(loadModelConfig(dir)).rejects.toThrow('model.json: counter must be {file, width > 0');
  });
  it.each([{ dropBelow: 0.1 }, { dropBelow: 0.1, addFrom: 1.5 }, { dropBelow: '0.1', addFrom: 0.7 }, null, 0.7])(
    'refuses counter.unsure %j and names the field',
    async (unsure) => {
      await withCounter({ ...(shipped.counter as object), unsure });
      await expect(loadModelConfig(dir)).rejects.toThrow(
        'model.json: counter.unsure must be {dropBelow in [0, 1], addFrom in [0, 1]}',
      );
    },
  );

  const pack = { dx: 0.05, dy: -0.2, w: 0.9, h: 0.9 };
  it.each([
    { backBoxes: [{ ...pack, w: 0 }] },
    { backBoxes: [{ ...pack, dy: '-0.2' }] },
    { backBoxes: [null] },
    { backBoxes: [{ ...pack, dxPerX: '-1.8' }] },
    { backBoxes: [pack, pack, pack, pack] }, // four packs behind the front: more than a 4-class counter counts
    { backBoxes: pack },
  ])('refuses counter %j and says what back boxes must be', async (bad) => {
    await withCounter({ ...(shipped.counter as object), ...bad });
    await expect(loadModelConfig(dir)).rejects.toThrow(
      'model.json: counter.backBoxes must be a list of {dx, dy, w > 0, h > 0, dxPerX?}',
    );
  });
  it('ships back-box geometry for every pack the counter can add, and loads a counter without it', async () => {
    await withDetector({});
    const cfg = await loadModelConfig(dir);
    expect(cfg.counter?.backBoxes).toHaveLength(cfg.counter!.classes - 1);
    await withCounter({ ...(shipped.counter as object), backBoxes: undefined });
    expect((await loadModelConfig(dir)).counter?.backBoxes).toBeUndefined();
  });
  it.each(['true', 1, null])('refuses counter.boxOutput %j', async (boxOutput) => {
    await withCounter({ ...(shipped.counter as object), boxOutput });
    await expect(loadModelConfig(dir)).rejects.toThrow('model.json: counter.boxOutput must be true or false');
  });
  it('refuses a counter that is not an object', async () => {
    await withCounter(4);
    await expect(loadModelConfig(dir)).rejects.toThrow('model.json: counter must be');
  });
});
