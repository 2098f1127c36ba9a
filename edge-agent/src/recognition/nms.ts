import type { Box } from './letterbox.js';

export interface Candidate {
  /** Index into model.json detector.classes. */
  cls: number;
  score: number;
  /** Model-input pixels. */
  box: Box;
}

/** Area of the overlap of two boxes (0 when apart). */
export function intersection(a: Box, b: Box): number {
  const iw = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  return iw <= 0 || ih <= 0 ? 0 : iw * ih;
}

export function iou(a: Box, b: Box): number {
  const inter = intersection(a, b);
  return inter === 0 ? 0 : inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

/**
 * Greedy NMS across classes: a slot is either a product or empty, never both, so the stronger
 * of two overlapping candidates wins regardless of class.
 */
export function nms(cands: readonly Candidate[], iouThreshold: number, maxKeep = Infinity): Candidate[] {
  const sorted = [...cands].sort((a, b) => b.score - a.score);
  const keep: Candidate[] = [];
  for (const c of sorted) {
    if (keep.length >= maxKeep) break;
    if (keep.every((k) => iou(k.box, c.box) < iouThreshold)) keep.push(c);
  }
  return keep;
}
