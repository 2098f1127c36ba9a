import type { Gallery } from './gallery.js';

/** Cosine similarity of each embedding row against every gallery prototype: n x G, row-major. */
export function similarityMatrix(emb: Float32Array, gallery: Gallery): Float32Array {
  const { dim, matrix, skus } = gallery;
  const n = Math.floor(emb.length / dim);
  const G = skus.length;
  const out = new Float32Array(n * G);
  // Four prototypes per pass over a crop's embedding: each value read once serves four sums (this
  // runs for every crop against hundreds of prototypes). Each sum still adds in dimension order.
  const G4 = G - (G % 4);
  for (let r = 0; r < n; r++) {
    const e = r * dim;
    for (let g = 0; g < G4; g += 4) {
      const m0 = g * dim;
      const m1 = m0 + dim;
      const m2 = m1 + dim;
      const m3 = m2 + dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let d = 0; d < dim; d++) {
        const v = emb[e + d]!;
        s0 += v * matrix[m0 + d]!;
        s1 += v * matrix[m1 + d]!;
        s2 += v * matrix[m2 + d]!;
        s3 += v * matrix[m3 + d]!;
      }
      out[r * G + g] = s0;
      out[r * G + g + 1] = s1;
      out[r * G + g + 2] = s2;
      out[r * G + g + 3] = s3;
    }
    for (let g = G4; g < G; g++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += emb[e + d]! * matrix[g * dim + d]!;
      out[r * G + g] = s;
    }
  }
  return out;
}

/** Per crop (row of the n x G `sims`), the gallery row it matches best (-1 when G = 0) and that similarity. */
export function bestPerRow(sims: Float32Array, n: number, G: number): { g: number; s: number }[] {
  return Array.from({ length: n }, (_, r) => {
    let bi = -1;
    let bs = -Infinity;
    for (let g = 0; g < G; g++) {
      const s = sims[r * G + g]!;
      if (s > bs) {
        bs = s;
        bi = g;
      }
    }
    return { g: bi, s: Number.isFinite(bs) ? bs : 0 };
  });
}

export interface StackPrior {
  /** A stacked pack takes its front pack's SKU if that SKU scores within `margin` of its best... */
  margin: number;
  /** ...and at least unknownThreshold - `slack` (a cap above another pack shows little of the label). */
  slack: number;
}

/** For model files without `embedder.stackPrior` (before v0.4.7). */
export const DEFAULT_STACK_PRIOR: StackPrior = { margin: 0.15, slack: 0.15 };

/**
 * Assigns SKUs to product crops. Each crop first takes its best gallery match (or undefined =
 * unknown below `unknownThreshold`). Then a pack stacked behind another (`front[i]` = index of the
 * front-most pack of its stack, itself for front packs) adopts the front pack's SKU when its own
 * evidence does not clearly contradict it: columns are restocked with one SKU, and the visible part
 * of a pushed-back pack is mostly its cap.
 */
export function assignSkus(
  sims: Float32Array,
  skus: readonly string[],
  front: readonly number[],
  unknownThreshold: number,
  prior: StackPrior = DEFAULT_STACK_PRIOR,
  /** Per gallery row, the similarity a front pack needs to be that SKU (Gallery.floors); none: 0. */
  floors?: ArrayLike<number>,
): { sku: string | undefined; similarity: number }[] {
  const G = skus.length;
  const best = bestPerRow(sims, front.length, G);
  // A front (or lone) pack must clear its SKU's floor too. A pack behind shows too little to be held
  // to it: it only needs the unknown threshold, or its front's SKU through the prior.
  const known = (b: { g: number; s: number }, floor: boolean) =>
    b.g >= 0 && b.s >= unknownThreshold && (!floor || !floors || b.s >= floors[b.g]!);
  return best.map((b, r) => {
    const f = front[r]!;
    if (f === r || f < 0) return { sku: known(b, true) ? skus[b.g] : undefined, similarity: b.s };
    const own = { sku: known(b, false) ? skus[b.g] : undefined, similarity: b.s };
    const fb = best[f]!;
    // Behind an unknown front, the pack is judged as a front would be.
    if (!known(fb, true)) return { sku: known(b, true) ? skus[b.g] : undefined, similarity: b.s };
    // The crop's similarity to the front pack's SKU: its nearest row of that SKU (a SKU may have one row per shot).
    // Where that SKU is the crop's own best match, it is b.s: below the unknown threshold the pack still
    // takes it within the slack, as it would if another SKU had matched a little better (D38).
    let s = -Infinity;
    for (let g = 0; g < G; g++) if (skus[g] === skus[fb.g]) s = Math.max(s, sims[r * G + g]!);
    if (s >= b.s - prior.margin && s >= unknownThreshold - prior.slack) return { sku: skus[fb.g], similarity: s };
    return own;
  });
}
