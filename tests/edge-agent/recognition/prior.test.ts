import { describe, expect, it } from 'vitest';
import { assignSkus, similarityMatrix } from '../../../edge-agent/src/recognition/prior.js';
import { buildGallery } from '../../../edge-agent/src/recognition/gallery.js';

describe('stack prior', () => {
  const skus = ['cola', 'delta-cola', 'lemon'];
  // Rows: front pack (clearly cola), a cap behind it that slightly prefers the look-alike, a cap
  // behind it that is clearly lemon, and a lone pack with no match.
  const sims = new Float32Array([
    0.9,
    0.5,
    0.1, // 0: front
    0.55,
    0.6,
    0.2, // 1: behind 0, ambiguous
    0.2,
    0.3,
    0.9, // 2: behind 0, clearly lemon (misplaced)
    0.3,
    0.2,
    0.25, // 3: own front, below threshold
  ]);

  it('lets a pack behind adopt the front SKU only when its own evidence allows it', () => {
    const r = assignSkus(sims, skus, [0, 0, 0, 3], 0.6);
    expect(r.map((m) => m.sku)).toEqual(['cola', 'cola', 'lemon', undefined]);
    expect(r[1]!.similarity).toBeCloseTo(0.55);
  });

  it('with a wider margin and slack (v0.4.7), also lets a faint cap behind take the front SKU', () => {
    // 0: front, clearly cola; 1: behind it, best lemon at 0.5 (below threshold, so unknown on its own),
    // cola 0.3; 2: behind it, clearly lemon at 0.9 (a misplaced pack stays lemon).
    const s = new Float32Array([0.9, 0.5, 0.1, 0.3, 0.2, 0.5, 0.2, 0.3, 0.9]);
    expect(assignSkus(s, skus, [0, 0, 0], 0.6).map((m) => m.sku)).toEqual(['cola', undefined, 'lemon']);
    const wide = assignSkus(s, skus, [0, 0, 0], 0.6, { margin: 0.3, slack: 0.5 });
    expect(wide.map((m) => m.sku)).toEqual(['cola', 'cola', 'lemon']);
    expect(wide[1]!.similarity).toBeCloseTo(0.3);
  });

  it('lets a faint cap whose best match is the front SKU take it as it would behind a closer look-alike (D38)', () => {
    // 0: front, clearly cola; 1: behind it, best cola at 0.4 (below the 0.6 threshold);
    // 2: behind it, lemon 0.45 over cola 0.4. Both take cola within the slack, neither is unknown.
    const s = new Float32Array([0.9, 0.5, 0.1, 0.4, 0.2, 0.1, 0.4, 0.2, 0.45]);
    const r = assignSkus(s, skus, [0, 0, 0], 0.6, { margin: 0.3, slack: 0.5 });
    expect(r.map((m) => m.sku)).toEqual(['cola', 'cola', 'cola']);
    expect(r[1]!.similarity).toBeCloseTo(0.4);
    // Below the slack (0.6 - 0.5 = 0.1) a cap stays unknown whichever SKU it matches best.
    const faint = new Float32Array([0.9, 0.5, 0.1, 0.08, 0.02, 0.01]);
    expect(assignSkus(faint, skus, [0, 0], 0.6, { margin: 0.3, slack: 0.5 }).map((m) => m.sku)).toEqual([
      'cola',
      undefined,
    ]);
  });

  it('is plain best-match without stacks', () => {
    const r = assignSkus(sims, skus, [0, 1, 2, 3], 0.6);
    expect(r.map((m) => m.sku)).toEqual(['cola', 'delta-cola', 'lemon', undefined]);
  });

  it('compares a pack behind with the front SKU through that SKU’s nearest shot', () => {
    // Rows of the gallery: cola shot 1, cola shot 2, lemon. The front pack matches cola's first shot,
    // the cap behind it matches cola's second shot best among cola's rows, and lemon slightly more.
    const rows = ['cola', 'cola', 'lemon'];
    const s2 = new Float32Array([0.9, 0.2, 0.1, 0.1, 0.62, 0.7]);
    const r = assignSkus(s2, rows, [0, 0], 0.6);
    expect(r.map((m) => m.sku)).toEqual(['cola', 'cola']);
    expect(r[1]!.similarity).toBeCloseTo(0.62);
  });

  it('computes cosine similarities against the gallery', () => {
    const g = buildGallery({
      name: 'g',
      version: '1',
      dim: 2,
      entries: [
        { sku: 'a', vector: [1, 0] },
        { sku: 'b', vector: [0, 1] },
      ],
    });
    expect(Array.from(similarityMatrix(new Float32Array([0.6, 0.8]), g))).toEqual([
      expect.closeTo(0.6),
      expect.closeTo(0.8),
    ]);
  });

  it('gives every crop x prototype pair the plain dot product, however many prototypes (not only fours)', () => {
    const dim = 3;
    const vec = (i: number) => [Math.sin(i + 1), Math.cos(2 * i + 1), Math.sin(3 * i + 2)];
    for (const G of [1, 4, 7]) {
      const g = buildGallery({
        name: 'g',
        version: '1',
        dim,
        entries: Array.from({ length: G }, (_, i) => ({ sku: `s${i}`, vector: vec(i) })),
      });
      const emb = new Float32Array([0.2, -0.5, 0.8, 0.6, 0.1, -0.3]);
      const naive = Array.from({ length: 2 * G }, (_, k) => {
        const r = Math.floor(k / G);
        const p = k % G;
        let s = 0;
        for (let d = 0; d < dim; d++) s += emb[r * dim + d]! * g.matrix[p * dim + d]!;
        return Math.fround(s);
      });
      expect(Array.from(similarityMatrix(emb, g))).toEqual(naive);
    }
  });
});
