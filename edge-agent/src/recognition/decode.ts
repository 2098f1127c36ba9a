import type { Candidate } from './nms.js';

export interface DecodeOptions {
  /** A cell that is a 3x3 local maximum of its class heatmap is a centre from this score up (or per class). */
  threshold: number | readonly number[];
  /**
   * A cell that is not a 3x3 maximum is a centre too from this score up (default: never). The visible
   * box of a pack pushed back behind another nearly coincides with the front pack's, so its centre
   * lies one cell from the front pack's and a 3x3 window swallows it; NMS then removes the cells
   * that only repeat a box.
   */
  shoulder?: number;
  maxCandidates?: number;
  /** The detector's depth map [H, W]; candidates of `depthClass` carry the depth at their cell. */
  depth?: Float32Array;
  depthClass?: number;
}

/**
 * Turns CenterNet outputs into candidates. heat is [C, H, W] (already sigmoid), reg is [4, H, W] =
 * [dx, dy, log(w/stride), log(h/stride)]. Boxes come out in model-input pixels, strongest first.
 */
export function decodeCenters(
  heat: Float32Array,
  reg: Float32Array,
  classes: number,
  gridH: number,
  gridW: number,
  stride: number,
  { threshold, shoulder = Infinity, maxCandidates = 1000, depth, depthClass = 0 }: DecodeOptions,
): Candidate[] {
  const plane = gridH * gridW;
  const out: Candidate[] = [];
  for (let c = 0; c < classes; c++) {
    const base = c * plane;
    const min = typeof threshold === 'number' ? threshold : threshold[c]!;
    for (let y = 0; y < gridH; y++) {
      for (let x = 0; x < gridW; x++) {
        const v = heat[base + y * gridW + x]!;
        if (v < min) continue;
        if (v < shoulder && !isLocalMax(heat, base, gridW, gridH, x, y, v)) continue;
        const i = y * gridW + x;
        const w = Math.exp(reg[2 * plane + i]!) * stride;
        const h = Math.exp(reg[3 * plane + i]!) * stride;
        const cx = (x + reg[i]!) * stride;
        const cy = (y + reg[plane + i]!) * stride;
        const cand: Candidate = { cls: c, score: v, box: [cx - w / 2, cy - h / 2, w, h] };
        if (depth && c === depthClass) cand.depth = depth[i]!;
        out.push(cand);
      }
    }
  }
  out.sort((a, b) => b.score - a.score);
  return out.length > maxCandidates ? out.slice(0, maxCandidates) : out;
}

function isLocalMax(heat: Float32Array, base: number, gridW: number, gridH: number, x: number, y: number, v: number) {
  for (let dy = -1; dy <= 1; dy++) {
    const yy = y + dy;
    if (yy < 0 || yy >= gridH) continue;
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx;
      if (xx < 0 || xx >= gridW || (dx === 0 && dy === 0)) continue;
      if (heat[base + yy * gridW + xx]! > v) return false;
    }
  }
  return true;
}
