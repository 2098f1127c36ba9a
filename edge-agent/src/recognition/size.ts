import type { Gallery } from './gallery.js';
import { bestPerRow } from './prior.js';

/**
 * Size variants (a 250 ml and a 500 ml can of one drink) wear the same art, and a crop resized to the
 * embedder's input loses the one thing that tells them apart: how big the pack is. Packs on one shelf
 * stand about equally far from the camera, so the shelf itself gives the scale: the median pixels per
 * millimetre of the nearest other facings in its row. A facing whose box is clearly larger than its
 * best-matching SKU could be is a larger variant; a clearly smaller one is a smaller variant only when the detector says nothing
 * stands in front of it (a pack pushed back looks smaller too).
 */
export interface SizeRule {
  /** Box larger than the SKU's size at the shelf scale by more than this fraction contradicts the SKU. */
  larger: number;
  /** Box smaller by more than this fraction contradicts it (front packs only). */
  smaller: number;
  /** An uncontradicted SKU replaces the best match only if its similarity is within this of the best. */
  margin: number;
  /** Other facings of known size a crop's row needs before its scale is trusted... */
  minRowFacings: number;
  /** ...of which the nearest this many give it (the wide-angle lens shrinks packs towards the frame edges). */
  neighbours: number;
  /**
   * A box whose height/width is off the SKU's by more than this fraction is not a whole pack front
   * (partly hidden, or a pack behind another): it neither sets the scale nor is judged by it.
   */
  aspect: number;
}

/** Chosen on the tuning sets (seeds 8001-8003), see the model card. */
export const DEFAULT_SIZE_RULE: SizeRule = {
  larger: 0.12,
  smaller: 0.14,
  margin: 0.25,
  minRowFacings: 3,
  neighbours: 6,
  aspect: 0.25,
};

/** One product crop as the size check sees it. */
export interface SizedCrop {
  /** Box centre x, width and height in work pixels. */
  x: number;
  w: number;
  h: number;
  /** Shelf row (layout) and whether the crop is the front-most of its column. */
  row: number;
  facing: boolean;
  /** The detector's depth (0 = at the shelf front); undefined without a depth head. */
  depth?: number;
}

/**
 * Returns `sims` (n x G, as similarityMatrix) with, for each facing whose box contradicts its best SKU's
 * size, the rows of every contradicted SKU lowered below the best uncontradicted one, so that
 * assignSkus (and the packs stacked behind, through the stack prior) take the right variant. Crops,
 * rows and SKUs without the evidence are left as they are. Sizes are sqrt(width x height): pixels of
 * the box, millimetres of the gallery's sizeMm.
 */
export function applySizeEvidence(
  sims: Float32Array,
  gallery: Gallery,
  crops: readonly SizedCrop[],
  unknownThreshold: number,
  rule: SizeRule = DEFAULT_SIZE_RULE,
): Float32Array {
  const G = gallery.skus.length;
  const mmOf = gallery.skus.map((s) => gallery.sizes.get(s));
  // sqrt(width x height) in mm per gallery row (a SKU has one row per reference shot).
  const sizeAt = mmOf.map((m) => m && Math.sqrt(m.width * m.height));
  const px = crops.map((c) => Math.sqrt(c.w * c.h));
  const whole = (c: SizedCrop, g: number) => {
    const m = mmOf[g];
    return m !== undefined && Math.abs(c.h / c.w / (m.height / m.width) - 1) <= rule.aspect;
  };
  const best = bestPerRow(sims, crops.length, G).map((b) => b.g);
  // Pixels per mm of every facing whose best SKU has a size: the shelf's scale where it stands.
  const samples = new Map<number, { x: number; k: number; r: number }[]>();
  crops.forEach((c, r) => {
    const mm = sizeAt[best[r]!];
    if (!c.facing || mm === undefined || sims[r * G + best[r]!]! < unknownThreshold || !whole(c, best[r]!)) return;
    const a = samples.get(c.row) ?? [];
    a.push({ x: c.x, k: px[r]! / mm, r });
    samples.set(c.row, a);
  });
  const localScale = (c: SizedCrop, r: number): number | undefined => {
    const others = (samples.get(c.row) ?? []).filter((o) => o.r !== r);
    if (others.length < rule.minRowFacings) return undefined;
    others.sort((a, b) => Math.abs(a.x - c.x) - Math.abs(b.x - c.x));
    return median(others.slice(0, Math.max(rule.neighbours, rule.minRowFacings)).map((o) => o.k));
  };

  const out = sims.slice();
  crops.forEach((c, r) => {
    // A toppled pack (wider than tall) lies at the shelf edge, nearer the camera than the shelf's scale.
    if (!c.facing || c.w >= c.h) return;
    const k = localScale(c, r);
    if (k === undefined) return;
    const front = c.depth !== undefined && c.depth < 0.5;
    const contradicts = (g: number) => {
      const mm = sizeAt[g];
      if (mm === undefined) return false;
      const ratio = px[r]! / (mm * k);
      return ratio > 1 + rule.larger || (front && ratio < 1 - rule.smaller);
    };
    const b = best[r]!;
    if (b < 0 || !whole(c, b) || !contradicts(b)) return;
    let alt = -1;
    for (let g = 0; g < G; g++)
      if (sizeAt[g] !== undefined && !contradicts(g) && (alt < 0 || sims[r * G + g]! > sims[r * G + alt]!)) alt = g;
    // Size only chooses between SKUs the embedder finds plausible; it never makes a product unknown.
    const altSim = alt < 0 ? -Infinity : sims[r * G + alt]!;
    if (altSim < sims[r * G + b]! - rule.margin || altSim < unknownThreshold) return;
    const floor = sims[r * G + alt]! - 1e-3;
    for (let g = 0; g < G; g++) if (contradicts(g)) out[r * G + g] = Math.min(out[r * G + g]!, floor);
  });
  return out;
}

function median(a: readonly number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
