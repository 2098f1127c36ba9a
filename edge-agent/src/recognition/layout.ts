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
 * Groups boxes into shelf rows. Products stand on the shelf, so the bottoms of full-height boxes
 * align even when pack heights differ: those "anchor" boxes are clustered by bottom edge (a new row
 * starts when a bottom lies more than `tolerance` x median height below the running mean of the
 * current row). Short boxes — the visible tops of packs pushed back behind a front pack — do not
 * stand on the shelf line in the image, so they join the row whose vertical band they fall in.
 * Rows are numbered top to bottom from 0. Returns one row index per box.
 */
export function groupRows(boxes: readonly Box[], tolerance = 0.4, anchorHeight = 0.6): number[] {
  const rows = new Array<number>(boxes.length).fill(0);
  if (boxes.length === 0) return rows;
  const medH = median(boxes.map((b) => b[3]));
  const tol = tolerance * medH;
  let anchors = boxes.map((_, i) => i).filter((i) => boxes[i]![3] >= anchorHeight * medH);
  if (anchors.length === 0) anchors = boxes.map((_, i) => i);
  anchors.sort((a, b) => bottom(boxes[a]!) - bottom(boxes[b]!));
  const bands: { top: number; sum: number; n: number }[] = [];
  for (const i of anchors) {
    const b = boxes[i]!;
    let band = bands[bands.length - 1];
    if (!band || bottom(b) - band.sum / band.n > tol) {
      band = { top: b[1], sum: 0, n: 0 };
      bands.push(band);
    }
    rows[i] = bands.length - 1;
    band.top = Math.min(band.top, b[1]);
    band.sum += bottom(b);
    band.n++;
  }
  const anchorSet = new Set(anchors);
  boxes.forEach((b, i) => {
    if (anchorSet.has(i)) return;
    const cy = b[1] + b[3] / 2;
    let best = 0;
    let bestD = Infinity;
    bands.forEach((band, r) => {
      const lo = band.top - 0.5 * medH;
      const hi = band.sum / band.n;
      const d = cy < lo ? lo - cy : cy > hi ? cy - hi : 0;
      if (d < bestD) {
        bestD = d;
        best = r;
      }
    });
    rows[i] = best;
  });
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
