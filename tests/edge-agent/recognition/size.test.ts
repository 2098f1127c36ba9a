import { describe, expect, it } from 'vitest';
import { buildGallery, type GalleryFile } from '../../../edge-agent/src/recognition/gallery.js';
import { assignSkus } from '../../../edge-agent/src/recognition/prior.js';
import { applySizeEvidence, type SizedCrop } from '../../../edge-agent/src/recognition/size.js';

// Two size variants of one can (same art, same proportions) and a 330 ml can; a lemon SKU with no size.
const file: GalleryFile = {
  name: 'g',
  version: '1',
  dim: 2,
  entries: [
    { sku: 'energy-250c', vector: [1, 0], sizeMm: { width: 53, height: 134 } },
    { sku: 'energy-500c', vector: [1, 0], sizeMm: { width: 66, height: 168 } },
    { sku: 'cola-330c', vector: [0, 1], sizeMm: { width: 66, height: 122 } },
    { sku: 'lemon', vector: [0, 1] },
  ],
};
const gallery = buildGallery(file);
const G = gallery.skus.length;
const SCALE = 0.8; // px per mm along this shelf

/** A whole pack front of `sku`'s size at the shelf scale, times `k`. */
function pack(x: number, mm: { width: number; height: number }, k = 1, extra: Partial<SizedCrop> = {}): SizedCrop {
  return { x, w: mm.width * SCALE * k, h: mm.height * SCALE * k, row: 0, facing: true, depth: 0, ...extra };
}
const can330 = { width: 66, height: 122 };
const can250 = { width: 53, height: 134 };
const can500 = { width: 66, height: 168 };
/** Similarity rows: the embedder's scores for [250c, 500c, cola, lemon]. */
const row = (a: number, b: number, c: number, d = 0.1) => [a, b, c, d];
const colas = [0, 1, 2].map((i) => pack(100 + 60 * i, can330));
const colaSims = colas.flatMap(() => row(0.1, 0.1, 0.95));

function run(crops: SizedCrop[], sims: number[]) {
  const out = applySizeEvidence(new Float32Array(sims), gallery, crops, 0.6);
  const front = crops.map((_, i) => i);
  return assignSkus(out, gallery.skus, front, 0.6).map((m) => m.sku);
}

describe('size evidence', () => {
  it('reads sizes from the gallery and refuses a nonsense size', () => {
    expect(gallery.sizes.get('energy-500c')).toEqual({ width: 66, height: 168 });
    expect(gallery.sizes.has('lemon')).toBe(false);
    const bad = { ...file, entries: [{ sku: 'x', vector: [1, 0], sizeMm: { width: 0, height: 10 } }] };
    expect(() => buildGallery(bad)).toThrow(/x sizeMm must be/);
  });

  it('turns a 500 ml can the embedder took for its 250 ml variant into the 500 ml can', () => {
    const crops = [...colas, pack(400, can500)];
    expect(run(crops, [...colaSims, ...row(0.9, 0.88, 0.1)])).toEqual([
      'cola-330c',
      'cola-330c',
      'cola-330c',
      'energy-500c',
    ]);
  });

  it('turns a front 250 ml can taken for the 500 ml one into the 250 ml can, but not a pushed-back pack', () => {
    const crops = [...colas, pack(400, can250)];
    const sims = [...colaSims, ...row(0.88, 0.9, 0.1)];
    expect(run(crops, sims)[3]).toBe('energy-250c');
    // The same box one slot back: small because it is further away, so size says nothing.
    expect(run([...colas, pack(400, can250, 1, { depth: 1 })], sims)[3]).toBe('energy-500c');
  });

  it('leaves the match alone when size agrees, the evidence is thin or the alternative is implausible', () => {
    const right = [...colas, pack(400, can500)];
    expect(run(right, [...colaSims, ...row(0.8, 0.9, 0.1)])[3]).toBe('energy-500c');
    // Two other facings are too few to give the shelf's scale.
    expect(
      run([colas[0]!, colas[1]!, pack(400, can500)], [...colaSims.slice(0, 2 * G), ...row(0.9, 0.88, 0.1)])[2],
    ).toBe('energy-250c');
    // The 500 ml variant scores far below the best match: size does not overrule the embedder.
    expect(run([...colas, pack(400, can500)], [...colaSims, ...row(0.9, 0.5, 0.1)])[3]).toBe('energy-250c');
    // A toppled pack lies nearer the camera; a partly hidden one is not a whole front: neither is judged.
    const toppled = pack(400, { width: can500.height, height: can500.width });
    expect(run([...colas, toppled], [...colaSims, ...row(0.9, 0.88, 0.1)])[3]).toBe('energy-250c');
    // As large as a 500 ml can front, but not its shape (h/w 1.5, not 2.5).
    const cut: SizedCrop = { x: 400, w: 68.8, h: 103, row: 0, facing: true, depth: 0 };
    expect(run([...colas, cut], [...colaSims, ...row(0.9, 0.88, 0.1)])[3]).toBe('energy-250c');
  });

  it('never makes a product unknown and ignores packs behind the facings', () => {
    // The only uncontradicted SKU is below the unknown threshold: the match stays.
    const crops = [...colas, pack(400, can500)];
    expect(run(crops, [...colaSims, ...row(0.9, 0.55, 0.1)])[3]).toBe('energy-250c');
    const behind = pack(400, can500, 1, { facing: false });
    expect(run([...colas, behind], [...colaSims, ...row(0.9, 0.88, 0.1)])[3]).toBe('energy-250c');
  });
});
