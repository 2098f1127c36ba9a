/** Geometry of fitting a source image into the model input while keeping its aspect ratio. */
export interface Letterbox {
  scale: number;
  /** Size of the resized image inside the canvas. */
  width: number;
  height: number;
  padLeft: number;
  padTop: number;
}

/** Same rounding as models/training/data.py `letterbox_params`, so boxes map back identically. */
export function letterboxParams(srcW: number, srcH: number, dstW: number, dstH: number): Letterbox {
  const scale = Math.min(dstW / srcW, dstH / srcH);
  const width = Math.max(1, Math.round(srcW * scale));
  const height = Math.max(1, Math.round(srcH * scale));
  return { scale, width, height, padLeft: Math.floor((dstW - width) / 2), padTop: Math.floor((dstH - height) / 2) };
}

export type Box = [x: number, y: number, w: number, h: number];

/** Maps a box from model-input pixels to normalised 0-1 source coordinates, clipped to the image. */
export function toNormalised(box: Box, lb: Letterbox, srcW: number, srcH: number): Box {
  const x0 = clamp01((box[0] - lb.padLeft) / lb.scale / srcW);
  const y0 = clamp01((box[1] - lb.padTop) / lb.scale / srcH);
  const x1 = clamp01((box[0] + box[2] - lb.padLeft) / lb.scale / srcW);
  const y1 = clamp01((box[1] + box[3] - lb.padTop) / lb.scale / srcH);
  return [x0, y0, x1 - x0, y1 - y0];
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
