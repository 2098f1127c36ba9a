import type { Box } from './letterbox.js';

export interface Candidate {
  /** Index into model.json detector.classes. */
  cls: number;
  score: number;
  /** Model-input pixels. */
  box: Box;
}

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
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
