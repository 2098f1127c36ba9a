import type { Box } from './letterbox.js';
import { intersection } from './nms.js';

/**
 * How the camera sees the fixture: `front` = from above the front of an upright cooler or shelf,
 * looking in (packs further back show above the pack in front); `top` = straight down into a chest
 * cooler (lower packs of a stack show round the edges of the one on top).
 */
export type View = 'front' | 'top';

export interface Placed {
  row: number;
  column: number;
  facing: boolean;
}

/**
 * For each box, the index of the box directly in front of it, or -1. With the camera above the
 * fixture front, a pack further back shows above the pack in front of it, with its bottom edge
 * hidden behind that pack: B is behind A when they overlap horizontally, A reaches lower, and A's
 * top is above B's bottom. Packs of the shelf below never qualify: the shelf plate separates them.
 */
export function inFrontOf(boxes: readonly Box[], overlap = 0.3): number[] {
  return boxes.map((b, i) => {
    let best = -1;
    boxes.forEach((a, j) => {
      if (j === i || xOverlap(a, b) <= overlap) return;
      if (bottom(a) > bottom(b) + 0.05 * a[3] && a[1] < bottom(b) && (best < 0 || bottom(a) < bottom(boxes[best]!)))
        best = j;
    });
    return best;
  });
}

/**
 * For each box, the index of the box lying on top of it, or -1 (top view, camera above the middle
 * of the frame). The pack on top is nearer the camera, so it shows larger and, by perspective,
 * displaced outwards from the frame centre: the packs under it peek out on its inner side. B lies
 * under A when their boxes overlap by at least `overlap` of B's, A is the larger and A's centre lies
 * further out than B's along the line from the frame centre through B. Neighbours on one level are
 * about the same size and barely overlap, so they never qualify.
 */
export function lyingOn(boxes: readonly Box[], overlap = 0.2): number[] {
  return boxes.map((b, i) => {
    let best = -1;
    const bx = centerX(b) - 0.5;
    const by = centerY(b) - 0.5;
    boxes.forEach((a, j) => {
      if (j === i || area(a) <= area(b) || intersection(a, b) < overlap * area(b)) return;
      if ((centerX(a) - centerX(b)) * bx + (centerY(a) - centerY(b)) * by <= 0) return;
      // The smallest box that still qualifies is the pack directly on B (the next level up).
      if (best < 0 || area(a) < area(boxes[best]!)) best = j;
    });
    return best;
  });
}

/** Per box the box that hides it from the camera: in front of it, or on top of it. */
export function coverOf(boxes: readonly Box[], view: View = 'front'): number[] {
  return view === 'top' ? lyingOn(boxes) : inFrontOf(boxes);
}

/**
 * Index of the front-most (top-most, seen from above) box of each box's stack (itself for a facing).
 * `cover` is coverOf(boxes, view), passed in by a caller that already has it.
 */
export function stackFronts(boxes: readonly Box[], view: View = 'front', cover = coverOf(boxes, view)): number[] {
  return boxes.map((_, i) => rootOf(cover, i));
}

/** Rows, columns and facings of every box, and the front of each box's stack, from one cover pass. */
export function layOut(boxes: readonly Box[], view: View = 'front'): { placed: Placed[]; fronts: number[] } {
  const cover = coverOf(boxes, view);
  return {
    placed: placeBoxes(boxes, groupRows(boxes, view, undefined, cover), view, cover),
    fronts: stackFronts(boxes, view, cover),
  };
}

/** Follows "in front of" links to the front-most box (guarding against cycles). */
function rootOf(front: readonly number[], i: number): number {
  let r = i;
  for (let k = 0; k < front.length && front[r]! >= 0; k++) r = front[r]!;
  return r;
}

/**
 * Groups boxes into shelf rows, numbered top to bottom from 0. Front-most boxes (nothing in front
 * of them) are clustered by bottom edge — products stand on the shelf — splitting where sorted
 * bottoms jump by more than `gap` x the height of the lower box: consecutive shelves are a pack
 * height plus clearance apart, while a pushed-back pack whose front slot is empty sits well under a
 * pack height higher. Heights are local because shelves hold different pack sizes. Every other box
 * takes the row of the front-most box of its stack.
 */
export function groupRows(
  boxes: readonly Box[],
  view: View = 'front',
  gap = view === 'top' ? 0.6 : 0.9,
  front = coverOf(boxes, view),
): number[] {
  const rows = new Array<number>(boxes.length).fill(0);
  if (boxes.length === 0) return rows;
  const roots = boxes.map((_, i) => i).filter((i) => front[i]! < 0);
  // Seen from above, basket rows are bands of pack centres, a row pitch apart (more than a pack deep).
  const key = view === 'top' ? centerY : bottom;
  roots.sort((a, b) => key(boxes[a]!) - key(boxes[b]!));
  let row = 0;
  roots.forEach((i, k) => {
    if (k > 0 && key(boxes[i]!) - key(boxes[roots[k - 1]!]!) > gap * boxes[i]![3]) row++;
    rows[i] = row;
  });
  boxes.forEach((_, i) => {
    if (front[i]! >= 0) rows[i] = rows[rootOf(front, i)]!;
  });
  return rows;
}

function bottom(b: Box): number {
  return b[1] + b[3];
}

function centerY(b: Box): number {
  return b[1] + b[3] / 2;
}

function area(b: Box): number {
  return b[2] * b[3];
}

/**
 * Columns and facings. A column is a front-most box plus everything stacked behind it (under it,
 * seen from above); columns are numbered left to right per row, and only the front-most (top-most)
 * box of a column is a facing.
 */
export function placeBoxes(
  boxes: readonly Box[],
  rows: readonly number[],
  view: View = 'front',
  front = coverOf(boxes, view),
): Placed[] {
  const root = boxes.map((_, i) => rootOf(front, i));
  const out: Placed[] = boxes.map((_, i) => ({ row: rows[i] ?? 0, column: 0, facing: root[i] === i }));
  const byRow = new Map<number, number[]>();
  root.forEach((r, i) => {
    if (r !== i) return;
    const row = rows[i] ?? 0;
    byRow.set(row, [...(byRow.get(row) ?? []), i]);
  });
  const columnOfRoot = new Map<number, number>();
  for (const members of byRow.values()) {
    members.sort((a, b) => centerX(boxes[a]!) - centerX(boxes[b]!));
    members.forEach((i, c) => columnOfRoot.set(i, c));
  }
  boxes.forEach((_, i) => {
    out[i]!.column = columnOfRoot.get(root[i]!) ?? 0;
  });
  return out;
}

function centerX(b: Box): number {
  return b[0] + b[2] / 2;
}

/** Horizontal overlap as a fraction of the narrower box's width. */
export function xOverlap(a: Box, b: Box): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  return w <= 0 ? 0 : w / Math.max(1e-9, Math.min(a[2], b[2]));
}
