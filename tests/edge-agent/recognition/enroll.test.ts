import { describe, expect, it } from 'vitest';
import {
  EnrollError,
  checkGalleryMatchesModel,
  nearestSkus,
  nextGalleryVersion,
  withEntry,
  type GalleryFile,
  type ModelConfig,
} from '../../../edge-agent/src/recognition/index.js';

const gallery = (entries: { sku: string; vector: number[] }[], extra: Partial<GalleryFile> = {}): GalleryFile => ({
  name: 'g',
  version: '0.1.0+20261123',
  dim: 3,
  embedder: 'abc123',
  entries,
  ...extra,
});
const model = (sha: string | undefined, dim = 3) =>
  ({
    embedder: { file: 'e.onnx', sha256: sha, width: 8, height: 8, dim, cropPad: 0, unknownThreshold: 0.5 },
  }) as unknown as ModelConfig;

describe('gallery versions and enrolment helpers', () => {
  it('bumps the minor version and drops build metadata', () => {
    expect(nextGalleryVersion('0.1.0+20261123')).toBe('0.2.0');
    expect(nextGalleryVersion('1.9.3')).toBe('1.10.0');
    expect(() => nextGalleryVersion('latest')).toThrow(EnrollError);
  });

  it('replaces a SKU’s entry instead of adding a second one', () => {
    const g = gallery([
      { sku: 'a', vector: [1, 0, 0] },
      { sku: 'b', vector: [0, 1, 0] },
    ]);
    const next = withEntry(g, { sku: 'a', vector: [0, 0, 1], source: 'enrolled' });
    expect(next.entries.map((e) => e.sku).sort()).toEqual(['a', 'b']);
    expect(next.entries.find((e) => e.sku === 'a')!.vector).toEqual([0, 0, 1]);
    expect(g.entries).toHaveLength(2); // the input is not modified
  });

  it('ranks the nearest other SKUs by cosine similarity, excluding the enrolled one', () => {
    const g = gallery([
      { sku: 'a', vector: [1, 0, 0] },
      { sku: 'b', vector: [0.9, 0.1, 0] },
      { sku: 'c', vector: [0, 0, 1] },
    ]);
    const near = nearestSkus(g, [2, 0, 0], 2, 'a');
    expect(near.map((n) => n.sku)).toEqual(['b', 'c']);
    expect(near[0]!.similarity).toBeCloseTo(0.9 / Math.hypot(0.9, 0.1), 3);
    expect(near[1]!.similarity).toBe(0);
    expect(nearestSkus(gallery([{ sku: 'a', vector: [1, 0, 0] }]), [1, 0, 0], 3, 'a')).toEqual([]);
    // A SKU with several shots is listed once, at its nearest shot.
    const multi = gallery([
      {
        sku: 'b',
        vector: [0.7, 0.7, 0],
        shotVectors: [
          [0, 1, 0],
          [1, 0, 0],
        ],
      },
      { sku: 'c', vector: [0, 0, 1] },
    ]);
    expect(nearestSkus(multi, [1, 0, 0], 3)).toEqual([
      { sku: 'b', similarity: 1 },
      { sku: 'c', similarity: 0 },
    ]);
  });

  it('refuses a gallery built with another embedder or vector size', () => {
    const g = gallery([{ sku: 'a', vector: [1, 0, 0] }]);
    expect(() => checkGalleryMatchesModel(g, model('abc123def456'))).not.toThrow();
    expect(() => checkGalleryMatchesModel(g, model(undefined))).not.toThrow();
    expect(() => checkGalleryMatchesModel(g, model('ffff00001111'))).toThrow(/embedder abc123/);
    expect(() => checkGalleryMatchesModel(g, model('abc123', 4))).toThrow(/3-d vectors/);
  });
});
