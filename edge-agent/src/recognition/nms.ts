import type { Box } from './letterbox.js';

export interface Candidate {
  /** Index into model.json detector.classes. */
  cls: number;
  score: number;
  /** Model-input pixels. */
  box: Box;
  /** Packs in front of this one, as the detector predicts it (products of a model with a depth head). */
  depth?: number;
}

/**
 * Suppression between two candidates that both carry a depth: from `iou` up at depths less than `gap`
 * apart (a second box on one pack), from `apartIou` up otherwise (a pack and one behind it; default:
 * the plain NMS threshold).
 */
export interface SameDepthRule {
  iou: number;
  gap: number;
  apartIou?: number;
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
 * of two overlapping candidates wins regardless of class. With `sameDepth`, two candidates that both
 * carry a depth are judged by it (see SameDepthRule): a pack and the one pushed back behind it overlap as
 * much as two boxes on one pack, but lie a depth apart.
 */
export function nms(
  cands: readonly Candidate[],
  iouThreshold: number,
  maxKeep = Infinity,
  sameDepth?: SameDepthRule,
): Candidate[] {
  const sorted = [...cands].sort((a, b) => b.score - a.score);
  const keep: Candidate[] = [];
  const suppresses = (k: Candidate, c: Candidate) => {
    const o = iou(k.box, c.box);
    if (!sameDepth || k.depth === undefined || c.depth === undefined) return o >= iouThreshold;
    if (Math.abs(k.depth - c.depth) < sameDepth.gap) return o >= Math.min(sameDepth.iou, iouThreshold);
    return o >= (sameDepth.apartIou ?? iouThreshold);
  };
  for (const c of sorted) {
    if (keep.length >= maxKeep) break;
    if (!keep.some((k) => suppresses(k, c))) keep.push(c);
  }
  return keep;
}
