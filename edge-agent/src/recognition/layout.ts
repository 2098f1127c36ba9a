import type { Box } from './letterbox.js';

export interface Placed {
  row: number;
  column: number;
  facing: boolean;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Groups boxes into shelf rows by clustering their bottom edges (products stand on the shelf, so
 * bottoms align even when heights differ). A new row starts when a bottom lies more than
 * `tolerance` x median box height below the running mean of the current row. Rows are numbered top
 * to bottom from 0. Returns one row index per box.
 */
export function groupRows(boxes: readonly Box[], tolerance = 0.4): number[] {
  const rows = new Array<number>(boxes.length).fill(0);
  if (boxes.length === 0) return rows;
  const tol = tolerance * median(boxes.map((b) => b[3]));
  const order = boxes.map((_, i) => i).sort((a, b) => bottom(boxes[a]!) - bottom(boxes[b]!));
  let row = 0;
  let sum = 0;
  let n = 0;
  for (const i of order) {
    const y = bottom(boxes[i]!);
    if (n > 0 && y - sum / n > tol) {
      row++;
      sum = 0;
      n = 0;
    }
    rows[i] = row;
    sum += y;
    n++;
  }
  return rows;
}

function bottom(b: Box): number {
  return b[1] + b[3];
}

/**
 * Within each row, boxes whose horizontal extents overlap by more than `overlap` of the narrower
 * one share a column (a product behind or on top of another). Columns are numbered left to right
 * per row. The front-most box of a column is its facing; front-most = lowest bottom edge (closest
 * to the camera in an upright cooler), ties broken by larger area.
 */
export function placeBoxes(boxes: readonly Box[], rows: readonly number[], overlap = 0.5): Placed[] {
  const out: Placed[] = boxes.map((_, i) => ({ row: rows[i] ?? 0, column: 0, facing: true }));
  const byRow = new Map<number, number[]>();
  rows.forEach((r, i) => byRow.set(r, [...(byRow.get(r) ?? []), i]));
  for (const members of byRow.values()) {
    members.sort((a, b) => centerX(boxes[a]!) - centerX(boxes[b]!));
    const columns: number[][] = [];
    for (const i of members) {
      const last = columns[columns.length - 1];
      if (last && last.some((j) => xOverlap(boxes[i]!, boxes[j]!) > overlap)) last.push(i);
      else columns.push([i]);
    }
    columns.forEach((col, c) => {
      let front = col[0]!;
      for (const i of col) {
        const bi = boxes[i]!;
        const bf = boxes[front]!;
        if (bottom(bi) > bottom(bf) + 1e-9 || (Math.abs(bottom(bi) - bottom(bf)) <= 1e-9 && area(bi) > area(bf)))
          front = i;
      }
      for (const i of col) out[i] = { row: out[i]!.row, column: c, facing: i === front };
    });
  }
  return out;
}

function centerX(b: Box): number {
  return b[0] + b[2] / 2;
}

function area(b: Box): number {
  return b[2] * b[3];
}

/** Horizontal overlap as a fraction of the narrower box's width. */
export function xOverlap(a: Box, b: Box): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  return w <= 0 ? 0 : w / Math.max(1e-9, Math.min(a[2], b[2]));
}
