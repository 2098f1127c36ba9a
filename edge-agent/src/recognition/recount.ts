import type { Box } from './letterbox.js';
import { iou } from './nms.js';

/**
 * The column counter (counter.onnx) looks at one shelf column in the full-resolution work image and
 * says how many packs stand in it, front to back. The detector sees a column's back packs only as
 * slivers above the front pack, a few pixels apart at its 640x480 input, so it now and then puts two
 * boxes on one pack, and more often misses a pack altogether. The counter's verdict caps how many
 * boxes a column keeps and, where the model says where back packs show, adds the packs it missed.
 */
export interface CounterConfig {
  file: string;
  sha256?: string;
  /** Crop size the net takes (pixels). */
  width: number;
  height: number;
  /**
   * The column region relative to the front pack's box (x, y, w, h in work pixels): it starts
   * `left` box widths left of the box and `up` box heights above it, and is `width` box widths wide
   * and `height` box heights tall (packs further back show above and beside the front one).
   */
  region: { left: number; up: number; width: number; height: number };
  /** Class k of the net's output = k + 1 packs; the last class means "that many or more". */
  classes: number;
  /** A verdict at or above this softmax probability sets the column's count (see `unsure` for below). */
  minConfidence: number;
  /**
   * A column the counter is unsure of (its best class below `minConfidence`) still loses boxes
   * while the probability that it holds at least that many packs is below `dropBelow`, and gains
   * one pack where the probability of one more than its boxes is at least `addFrom` (adding needs
   * `backBoxes`). Absent: such columns keep the boxes the detector gave them.
   */
  unsure?: { dropBelow: number; addFrom: number };
  /**
   * Where the 1st, 2nd, ... pack behind the front one shows, relative to the front pack's box
   * (measured on the training set). Absent: the counter only removes boxes, it never adds any.
   */
  backBoxes?: BackBox[];
  /**
   * The net has a second output, `boxes`: per column, where its 1st .. (classes - 1)-th pack behind
   * the front shows (4 numbers each, as BackBox without dxPerX). Packs the detector missed are placed
   * there rather than at the average places of `backBoxes`.
   */
  boxOutput?: boolean;
}

/** Offsets in front-box widths (dx) and heights (dy); size as a share of the front box's. */
export interface BackBox {
  dx: number;
  dy: number;
  w: number;
  h: number;
  /**
   * Change of dx per unit of the front box's centre x in the image (0 = left edge, 1 = right), from
   * the image centre: seen through a wide lens, packs further back shift toward the camera axis.
   */
  dxPerX?: number;
}

/** The region of the work image the counter sees for a column whose front pack has box `front`. */
export function counterRegion(front: Box, r: CounterConfig['region']): Box {
  return [front[0] - r.left * front[2], front[1] - r.up * front[3], r.width * front[2], r.height * front[3]];
}

/** The counter's verdict on a column: its likeliest count, that count's probability, all classes'. */
export interface Count {
  packs: number;
  p: number;
  /** Softmax per class (class k = k + 1 packs, the last "or more"); absent, unsure columns stay as they are. */
  probs?: number[];
}

/** Probability that a column holds at least `m` packs (m >= 1). */
export function atLeast(n: Count, m: number): number {
  if (!n.probs) return m <= n.packs ? n.p : 0;
  let s = 0;
  for (let k = Math.min(m, n.probs.length) - 1; k < n.probs.length; k++) s += n.probs[k]!;
  return s;
}

/** Packs in a column and the counter's certainty, from one row of its logits. */
export function readCount(logits: ArrayLike<number>, offset: number, classes: number): Required<Count> {
  let best = 0;
  let max = -Infinity;
  for (let k = 0; k < classes; k++) {
    const v = logits[offset + k]!;
    if (v > max) {
      max = v;
      best = k;
    }
  }
  const probs = Array.from({ length: classes }, (_, k) => Math.exp(logits[offset + k]! - max));
  const sum = probs.reduce((a, b) => a + b, 0);
  return { packs: best + 1, p: 1 / sum, probs: probs.map((v) => v / sum) };
}

/** The places one column's `boxes` output row gives its packs behind the front (see boxOutput). */
export function readPlaces(boxes: ArrayLike<number>, column: number, classes: number): BackBox[] {
  const n = classes - 1;
  return Array.from({ length: n }, (_, k) => {
    const o = (column * n + k) * 4;
    return { dx: boxes[o]!, dy: boxes[o + 1]!, w: boxes[o + 2]!, h: boxes[o + 3]! };
  });
}

/** One column: its front pack and the boxes behind it. */
export interface Column {
  front: number;
  behind: number[];
}

/**
 * Columns of a front view from stackFronts' output: every stack whose front is a product.
 * `isProduct[i]` is false for empty slots, which never stand in front of a pack.
 */
export function columnsOf(fronts: readonly number[], isProduct: readonly boolean[]): Column[] {
  const cols = new Map<number, Column>();
  fronts.forEach((f, i) => {
    if (f < 0 || !isProduct[f] || !isProduct[i]) return;
    const c = cols.get(f) ?? { front: f, behind: [] };
    if (i !== f) c.behind.push(i);
    cols.set(f, c);
  });
  return [...cols.values()];
}

/**
 * Boxes to drop so that no column holds more boxes than its count says: the weakest boxes behind the
 * front go first; the front pack always stays. A column counted in the open-ended last class, or
 * holding fewer boxes than counted, is left alone (missingBoxes deals with the last); one the counter
 * is unsure of loses boxes only as `unsure.dropBelow` says.
 */
export function surplusBoxes(
  columns: readonly Column[],
  counts: readonly Count[],
  scores: readonly number[],
  opts: Pick<CounterConfig, 'classes' | 'minConfidence' | 'unsure'>,
): Set<number> {
  const drop = new Set<number>();
  columns.forEach((c, k) => {
    const n = counts[k];
    if (!n) return;
    let keep: number;
    if (n.p >= opts.minConfidence) {
      if (n.packs >= opts.classes) return;
      keep = n.packs;
    } else {
      if (!opts.unsure || !n.probs) return;
      keep = 1 + c.behind.length;
      while (keep > 1 && atLeast(n, keep) < opts.unsure.dropBelow) keep--;
    }
    const extra = 1 + c.behind.length - keep;
    if (extra <= 0) return;
    [...c.behind]
      .sort((a, b) => scores[a]! - scores[b]! || b - a)
      .slice(0, extra)
      .forEach((i) => drop.add(i));
  });
  return drop;
}

/** A pack the counter counts but the detector gave no box: `k`-th behind the column's front. */
export interface MissingPack {
  front: number;
  k: number;
  box: Box;
  /** The counter's probability that the column holds this pack (at least k + 1 packs). */
  p: number;
}

/**
 * Packs a column lacks boxes for: a column the counter confidently counts at n packs that holds
 * fewer boxes gets the missing ones behind its front box; one it is unsure of gets one pack where
 * `addFrom` says. With the counter's own `places` for the column, the detector's back boxes take
 * the places they overlap most and the missing packs the first places left (the detector often
 * misses the 1st pack behind a front and sees the 2nd); without them the missing packs go to the
 * average places `back` of the k-th pack, k counted on from the boxes the column has (taking the
 * nearest average places placed no better). The detector's own boxes stay where they are; at most
 * as many packs as there are places behind the front are placed.
 */
export function missingBoxes(
  columns: readonly Column[],
  counts: readonly Count[],
  boxes: readonly Box[],
  back: readonly BackBox[],
  opts: {
    minConfidence: number;
    /** See CounterConfig.unsure. */
    addFrom?: number;
    /** Per box, its centre x as a share of the image width (for `dxPerX`). */
    centreX?: readonly number[];
    /** Per column, the counter's own places for its packs behind the front (see boxOutput). */
    places?: readonly (readonly BackBox[])[];
  },
): MissingPack[] {
  const out: MissingPack[] = [];
  columns.forEach((c, i) => {
    const n = counts[i];
    if (!n) return;
    const have = 1 + c.behind.length;
    let packs: number;
    if (n.p >= opts.minConfidence) packs = n.packs;
    else if (opts.addFrom !== undefined && n.probs && atLeast(n, have + 1) >= opts.addFrom) packs = have + 1;
    else return;
    if (packs <= have) return;
    const f = boxes[c.front]!;
    const at = (b: BackBox, dx = b.dx): Box => [f[0] + dx * f[2], f[1] + b.dy * f[3], b.w * f[2], b.h * f[3]];
    const own = opts.places?.[i];
    let free: number[]; // indices k - 1 of the places still open, in order
    if (own) {
      free = own.map((_, k) => k);
      for (const j of c.behind) {
        if (free.length === 0) break;
        const overlap = free.map((k) => iou(at(own[k]!), boxes[j]!));
        free.splice(overlap.indexOf(Math.max(...overlap)), 1);
      }
    } else free = back.map((_, k) => k).slice(c.behind.length);
    free.slice(0, packs - have).forEach((k, m) => {
      let box: Box;
      if (own) box = at(own[k]!);
      else {
        const b = back[k]!;
        box = at(b, b.dx + (b.dxPerX ?? 0) * ((opts.centreX?.[c.front] ?? 0.5) - 0.5));
      }
      if (!(box[2] > 0 && box[3] > 0)) return; // a net's place can come out degenerate
      out.push({ front: c.front, k: k + 1, box, p: atLeast(n, have + m + 1) });
    });
  });
  return out;
}
