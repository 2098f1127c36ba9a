import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildGallery } from '../../../edge-agent/src/recognition/gallery.js';
import { assignSkus } from '../../../edge-agent/src/recognition/prior.js';
import { floorsFrom, quantile } from '../../../edge-agent/src/eval/similarity-floors.js';
import type { GalleryFile } from '../../../edge-agent/src/recognition/gallery.js';
import { repoPath, runNodeSync } from '../../helpers/processes.js';

const floorsCli = (args: string[]) => runNodeSync('edge-agent/dist/eval/floors.js', args);

describe('per-SKU similarity floors', () => {
  const skus = ['tea', 'cola'];
  const floors = [0.8, 0]; // tea's own packs match closely; cola has no floor

  it('reports a front that matches a SKU less closely than its floor as unknown', () => {
    // Rows: a front at 0.7 to tea (a look-alike), a front at 0.9 to tea, a front at 0.7 to cola.
    const sims = new Float32Array([0.7, 0.1, 0.9, 0.1, 0.1, 0.7]);
    const r = assignSkus(sims, skus, [0, 1, 2], 0.6, { margin: 0.3, slack: 0.5 }, floors);
    expect(r.map((m) => m.sku)).toEqual([undefined, 'tea', 'cola']);
    expect(assignSkus(sims, skus, [0, 1, 2], 0.6).map((m) => m.sku)).toEqual(['tea', 'tea', 'cola']);
  });

  it('holds a pack behind a known front only to the unknown threshold, and one behind an unknown front to the floor', () => {
    // 0: tea front at 0.9; 1: behind it, tea at 0.65 (a cap); 2: look-alike front at 0.7; 3: behind it at 0.7.
    const sims = new Float32Array([0.9, 0.1, 0.65, 0.1, 0.7, 0.1, 0.7, 0.1]);
    const r = assignSkus(sims, skus, [0, 0, 2, 2], 0.6, { margin: 0.3, slack: 0.5 }, floors);
    expect(r.map((m) => m.sku)).toEqual(['tea', 'tea', undefined, undefined]);
  });

  it('takes floors from gallery entries, one per matrix row, and refuses a bad one', () => {
    const file: GalleryFile = {
      name: 'g',
      version: '1.0.0',
      dim: 2,
      entries: [
        {
          sku: 'tea',
          vector: [1, 0],
          shotVectors: [
            [1, 0],
            [0.9, 0.1],
          ],
          minSimilarity: 0.8,
        },
        { sku: 'cola', vector: [0, 1] },
      ],
    };
    expect(Array.from(buildGallery(file).floors)).toEqual([expect.closeTo(0.8), expect.closeTo(0.8), 0]);
    const bad = { ...file, entries: [{ sku: 'tea', vector: [1, 0], minSimilarity: 1.5 }] };
    expect(() => buildGallery(bad)).toThrow('gallery: tea minSimilarity must be a number in [0, 1]');
  });

  it('calibrates a floor as a low quantile of the SKU’s own matches minus a slack, given enough packs', () => {
    expect(quantile([0.1, 0.2, 0.3, 0.4, 0.5], 0.25)).toBeCloseTo(0.2);
    const sims = Array.from({ length: 21 }, (_, i) => 0.8 + i * 0.01); // 0.80 ... 1.00
    const out = floorsFrom(
      new Map([
        ['tea', sims],
        ['rare', [0.9, 0.95]],
      ]),
      { quantile: 0.05, slack: 0.15, minSamples: 10 },
    );
    expect(out.get('tea')).toEqual({ samples: 21, floor: 0.66 });
    expect(out.has('rare')).toBe(false);
  });

  it('ships a floor for every catalog SKU of the committed gallery', async () => {
    const g = JSON.parse(await readFile(repoPath('models/gallery.json'), 'utf8')) as GalleryFile;
    expect(g.entries.filter((e) => !(typeof e.minSimilarity === 'number' && e.minSimilarity > 0))).toEqual([]);
  });

  it.each([
    [['--quantile', '2'], '--quantile must be a number from 0 to 1'],
    [['--min-samples', 'x'], '--min-samples must be a whole number'],
    [['--colour', 'red'], "Unknown option '--colour'"],
  ])('refuses %j with a one-line reason and exit code 2', (args, reason) => {
    const r = floorsCli(args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`calibrate-floors: ${reason}`);
  });

  it('names a dataset folder it cannot read, in one line with exit code 2', () => {
    const r = floorsCli(['--dataset', '/nonexistent/set']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      'calibrate-floors: /nonexistent/set/annotations.json: no such file (is this a dataset folder?)',
    );
  });

  it('calibrates on a COCO set and writes the floors with the next gallery version', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'floors-'));
    try {
      await cp(repoPath('models'), dir, { recursive: true, filter: (src) => !src.includes('training') });
      const r = floorsCli([
        '--dataset',
        repoPath('tests/fixtures/recognition'),
        '--models',
        dir,
        '--min-samples',
        '3',
        '--write',
      ]);
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { skus: { sku: string; packs: number; floor: number | null }[] };
      const seen = report.skus.filter((s) => s.floor !== null);
      expect(seen.length).toBeGreaterThan(3);
      for (const s of seen) expect(s.floor).toBeGreaterThan(0.3);
      const g = JSON.parse(await readFile(join(dir, 'gallery.json'), 'utf8')) as GalleryFile;
      const before = JSON.parse(await readFile(repoPath('models/gallery.json'), 'utf8')) as GalleryFile;
      expect(g.version).not.toBe(before.version);
      for (const s of report.skus) expect(g.entries.find((e) => e.sku === s.sku)?.minSimilarity ?? null).toBe(s.floor);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
