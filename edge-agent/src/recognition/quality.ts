import type { ImageQualityFlag } from '@shelfsight/protocol';
import type { QualityThresholds } from './config.js';
import type { RgbImage } from './preprocess.js';

export interface QualityStats {
  /** Mean luma 0-1. */
  brightness: number;
  /** Standard deviation of luma 0-1. */
  contrast: number;
  /** Mean absolute 4-neighbour Laplacian of luma (0-255 units); low means blurred. */
  sharpness: number;
}

/**
 * Cheap frame statistics over a region of the (downscaled) model input. The letterbox padding is
 * excluded so it cannot fake contrast or edges.
 */
export function imageStats(img: RgbImage, x0 = 0, y0 = 0, w = img.width, h = img.height): QualityStats {
  const { data, width: W } = img;
  if (lumaScratch.length < w * h) lumaScratch = new Float32Array(w * h);
  const luma = lumaScratch;
  let sum = 0;
  let sum2 = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = ((y0 + y) * W + x0 + x) * 3;
      const l = 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!;
      luma[y * w + x] = l;
      sum += l;
      sum2 += l * l;
    }
  }
  const n = Math.max(1, w * h);
  const mean = sum / n;
  const variance = Math.max(0, sum2 / n - mean * mean);
  let lap = 0;
  let m = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      lap += Math.abs(4 * luma[i]! - luma[i - 1]! - luma[i + 1]! - luma[i - w]! - luma[i + w]!);
      m++;
    }
  }
  return { brightness: mean / 255, contrast: Math.sqrt(variance) / 255, sharpness: m ? lap / m : 0 };
}

/** Luma plane of imageStats, reused between frames (1.2 MB a frame at 640 x 480 otherwise). */
let lumaScratch = new Float32Array(0);

export function qualityFlags(s: QualityStats, t: QualityThresholds): ImageQualityFlag[] {
  const flags: ImageQualityFlag[] = [];
  if (s.brightness < t.darkBelow) flags.push('too_dark');
  if (s.brightness > t.brightAbove) flags.push('too_bright');
  if (s.contrast < t.contrastBelow) flags.push('low_contrast');
  // A dark or flat frame also has weak edges; only call it blurred when exposure is otherwise fine.
  if (s.sharpness < t.sharpnessBelow && flags.length === 0) flags.push('blurred');
  return flags;
}
