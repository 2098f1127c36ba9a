import { createHash } from 'node:crypto';
import { SLUG_PATTERN } from '@shelfsight/protocol';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  catalogBrands,
  foreignProducts,
  loadCatalog,
  renderDatasetScene,
  type Box,
  type TruthObject,
} from '@shelfsight/simulators';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const inter = (a: Box, b: Box) =>
  Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0])) *
  Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));

describe('catalog', () => {
  it('has >= 40 SKUs from >= 4 brands, own brand included, with slug ids', () => {
    const cat = loadCatalog();
    expect(cat.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cat.map((e) => e.brand)).size).toBeGreaterThanOrEqual(4);
    expect(catalogBrands().filter((b) => b.own)).toHaveLength(1);
    expect(new Set(cat.map((e) => e.sku)).size).toBe(cat.length);
    for (const e of cat) expect(e.sku).toMatch(SLUG_PATTERN);
    const formats = new Set(cat.map((e) => e.pack.format.replace(/\d+/, '')));
    expect([...formats].sort()).toEqual(['can', 'carton', 'glass', 'pet']);
    const known = new Set(cat.map((e) => e.sku));
    expect(foreignProducts().length).toBeGreaterThan(0);
    for (const f of foreignProducts()) expect(known.has(f.sku)).toBe(false);
  });
});

describe('renderScene', () => {
  it('is deterministic for a seed and differs between seeds', async () => {
    const a = await renderDatasetScene(11, 1, 'default', 'upright');
    const b = await renderDatasetScene(11, 1, 'default', 'upright');
    const c = await renderDatasetScene(11, 2, 'default', 'upright');
    expect(sha(a.jpeg)).toBe(sha(b.jpeg));
    expect(a.truth).toEqual(b.truth);
    expect(sha(a.jpeg)).not.toBe(sha(c.jpeg));
  });

  it.each(['easy', 'default', 'hard'] as const)('gives consistent truth at %s difficulty', async (difficulty) => {
    for (const [index, fixture] of [
      [1, 'upright'],
      [2, 'upright'],
      [3, 'chest'],
      [4, 'shelf'],
    ] as const) {
      const s = await renderDatasetScene(3, index, difficulty, fixture);
      expect(s.truth.fixture).toBe(fixture);
      const meta = await sharp(s.jpeg).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1280, 960]);
      const objs = s.truth.objects;
      for (const o of objs) {
        for (const box of [o.bbox, o.amodalBbox]) {
          const [x, y, w, h] = box;
          expect(x).toBeGreaterThanOrEqual(0);
          expect(y).toBeGreaterThanOrEqual(0);
          expect(w).toBeGreaterThan(0);
          expect(h).toBeGreaterThan(0);
          expect(x + w).toBeLessThanOrEqual(s.width);
          expect(y + h).toBeLessThanOrEqual(s.height);
        }
        expect(o.occlusion).toBeGreaterThanOrEqual(0);
        expect(o.occlusion).toBeLessThanOrEqual(1);
      }
      // One facing per non-empty column; upright front facings of a front fixture barely overlap
      // (the lens bends their straight edges, so tight boxes of neighbours may share a pixel or two).
      const facings = objs.filter((o) => o.facing);
      const keys = facings.map((o) => `${o.row}/${o.column}`);
      expect(new Set(keys).size).toBe(keys.length);
      const front = facings.filter((o: TruthObject) => o.depth === 0 && o.pose === 'upright');
      if (fixture !== 'chest') {
        for (let i = 0; i < front.length; i++)
          for (let j = i + 1; j < front.length; j++) {
            const [a, b] = [front[i]!.amodalBbox, front[j]!.amodalBbox];
            expect(inter(a, b)).toBeLessThanOrEqual(0.03 * Math.min(a[2] * a[3], b[2] * b[3]));
          }
      }
      // Empty slots are exactly the columns with no product at all.
      const empties = objs.filter((o) => o.kind === 'empty');
      for (const e of empties) expect(keys).not.toContain(`${e.row}/${e.column}`);
      expect(empties.length + facings.length).toBe(s.truth.rows * s.truth.cols);
    }
  });
});
