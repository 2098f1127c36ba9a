import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCatalog, exportDataset, loadCatalog, type CocoDataset, type SceneTruth } from '@shelfsight/simulators';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sim-ds-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dataset export', () => {
  it('writes COCO annotations that match the images', async () => {
    const out = path.join(dir, 'ds');
    await exportDataset({ out, count: 3, seed: 5, difficulty: 'default', fixture: 'upright' });
    const coco = JSON.parse(await readFile(path.join(out, 'annotations.json'), 'utf8')) as CocoDataset;
    expect(coco.images.map((i) => [i.fixture, i.difficulty])).toEqual([
      ['upright', 'default'],
      ['upright', 'default'],
      ['upright', 'default'],
    ]);
    expect(coco.images.map((i) => i.file_name)).toEqual([
      'images/000001.jpg',
      'images/000002.jpg',
      'images/000003.jpg',
    ]);
    const names = coco.categories.map((c) => c.name);
    expect(names).toContain('__empty__');
    expect(names).toContain('__unknown__');
    expect(new Set(coco.categories.map((c) => c.id)).size).toBe(coco.categories.length);
    const catIds = new Set(coco.categories.map((c) => c.id));
    for (const img of coco.images) {
      const meta = await sharp(path.join(out, img.file_name)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1280, 960]);
      const truth = JSON.parse(await readFile(path.join(out, img.truth_file), 'utf8')) as { objects: unknown[] };
      expect(truth.objects.length).toBeGreaterThan(0);
    }
    expect(coco.annotations.length).toBeGreaterThan(20);
    for (const a of coco.annotations) {
      expect(catIds.has(a.category_id)).toBe(true);
      expect(a.iscrowd).toBe(0);
      const [x, y, w, h] = a.bbox;
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(x + w).toBeLessThanOrEqual(1280);
      expect(y + h).toBeLessThanOrEqual(960);
      expect(w * h).toBeGreaterThan(0);
    }
  });

  it('exports chest coolers deterministically, with top views and exact empties', async () => {
    const a = path.join(dir, 'chest-a');
    const b = path.join(dir, 'chest-b');
    await exportDataset({ out: a, count: 2, seed: 8, difficulty: 'hard', fixture: 'chest' });
    await exportDataset({ out: b, count: 2, seed: 8, difficulty: 'hard', fixture: 'chest', concurrency: 1 });
    const ann = await readFile(path.join(a, 'annotations.json'), 'utf8');
    expect(await readFile(path.join(b, 'annotations.json'), 'utf8')).toBe(ann);
    for (const f of ['000001', '000002']) {
      expect(
        (await readFile(path.join(b, 'images', `${f}.jpg`))).equals(await readFile(path.join(a, 'images', `${f}.jpg`))),
      ).toBe(true);
    }
    const coco = JSON.parse(ann) as CocoDataset;
    expect(coco.images.every((i) => i.fixture === 'chest' && i.difficulty === 'hard')).toBe(true);
    const truth = JSON.parse(await readFile(path.join(a, coco.images[0]!.truth_file), 'utf8')) as SceneTruth;
    expect(truth.fixture).toBe('chest');
    // One top-most facing per non-empty stack position, an empty box for every other position.
    const facings = truth.objects.filter((o) => o.facing);
    const empties = truth.objects.filter((o) => o.kind === 'empty');
    expect(facings.length + empties.length).toBe(truth.rows * truth.cols);
    expect(facings.every((o) => o.depth === 0)).toBe(true);
    expect(coco.annotations.filter((x) => x.facing).length).toBeGreaterThan(10);
  });

  it('writes a catalog with pack images', async () => {
    const out = path.join(dir, 'cat');
    const { skus } = await exportCatalog(out);
    const catalog = JSON.parse(await readFile(path.join(out, 'catalog.json'), 'utf8')) as { sku: string }[];
    expect(catalog.length).toBe(skus);
    expect(skus).toBe(loadCatalog().length);
    const meta = await sharp(path.join(out, 'packs', `${catalog[0]!.sku}.png`)).metadata();
    expect(meta.format).toBe('png');
    expect(meta.hasAlpha).toBe(true);
  });
});

describe('cli', () => {
  const cli = path.resolve('simulators/dist/cli.js');
  beforeAll(async () => {
    await run('npx', ['tsc', '-b', 'simulators']);
  }, 120_000);

  it.each([
    ['chest', 1],
    ['shelf', 1],
    ['upright', 1],
    ['mixed', 3],
  ] as const)(
    'exports --fixture %s',
    async (fixture, count) => {
      const out = path.join(dir, `cli-${fixture}`);
      const { stderr } = await run('node', [
        cli,
        'dataset',
        '--out',
        out,
        '--count',
        String(count),
        '--seed',
        '2',
        '--fixture',
        fixture,
        '--difficulty',
        'mixed',
      ]);
      expect(stderr).toMatch(/images\/s per core/);
      const coco = JSON.parse(await readFile(path.join(out, 'annotations.json'), 'utf8')) as CocoDataset;
      expect(coco.images).toHaveLength(count);
      for (const img of coco.images) {
        expect(fixture === 'mixed' ? ['upright', 'chest', 'shelf'] : [fixture]).toContain(img.fixture);
        expect(['easy', 'default', 'hard']).toContain(img.difficulty);
      }
      expect(coco.annotations.length).toBeGreaterThan(5);
    },
    30_000,
  );

  it.each([
    [['dataset', '--out', 'x', '--count', 'abc', '--seed', '1'], /--count must be a whole number/],
    [['dataset', '--out', 'x', '--count', '2', '--seed', '1', '--fixture', 'fridge'], /--fixture must be mixed/],
    [['dataset', '--out', 'x', '--count', '2', '--seed', '1', '--difficulty', 'extreme'], /--difficulty/],
    [['dataset', '--count', '2', '--seed', '1'], /--out/],
    [
      ['dataset', '--out', 'x', '--count', '2', '--seed', '1', '--extra-brands', 'many'],
      /--extra-brands must be a whole/,
    ],
    [['dataset', '--out', 'x', '--count', '2', '--seed', '1', '--bogus'], /Unknown option '--bogus'/],
    [['frobnicate'], /unknown command/],
  ])('rejects %j with exit code 2', async (args, message) => {
    const err = await run('node', [cli, ...args]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(message);
  });
});
