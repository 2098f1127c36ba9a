import type { Box } from './letterbox.js';

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

/** Index of the front-most box of each box's stack (itself for a front box). */
export function stackFronts(boxes: readonly Box[]): number[] {
  const front = inFrontOf(boxes);
  return boxes.map((_, i) => rootOf(front, i));
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
export function groupRows(boxes: readonly Box[], gap = 0.9): number[] {
  const rows = new Array<number>(boxes.length).fill(0);
  if (boxes.length === 0) return rows;
  const front = inFrontOf(boxes);
  const roots = boxes.map((_, i) => i).filter((i) => front[i]! < 0);
  roots.sort((a, b) => bottom(boxes[a]!) - bottom(boxes[b]!));
  let row = 0;
  roots.forEach((i, k) => {
    if (k > 0 && bottom(boxes[i]!) - bottom(boxes[roots[k - 1]!]!) > gap * boxes[i]![3]) row++;
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

/**
 * Columns and facings. A column is a front-most box plus everything stacked behind it; columns are
 * numbered left to right per row, and only the front-most box of a column is a facing.
 */
export function placeBoxes(boxes: readonly Box[], rows: readonly number[]): Placed[] {
  const front = inFrontOf(boxes);
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
