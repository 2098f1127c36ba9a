import type { Box } from './letterbox.js';

/** Interleaved RGB (HWC, uint8) image as sharp's raw output gives it. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * HWC uint8 -> CHW float32 with (v/255 - mean) / std, the normalisation the nets were trained with.
 * With `mirrored`, also writes the left-right mirror of the result there in the same pass (the flip
 * test's second detector input), saving a separate pass over the float planes.
 */
export function toChw(
  img: RgbImage,
  mean: readonly number[],
  std: readonly number[],
  out?: Float32Array,
  mirrored?: Float32Array,
): Float32Array {
  const { data, width: W, height: H } = img;
  const plane = W * H;
  const dst = out ?? new Float32Array(3 * plane);
  if (dst.length !== 3 * plane || (mirrored && mirrored.length !== dst.length))
    throw new Error('toChw: output size does not match 3 x H x W');
  const [a0, a1, a2, b0, b1, b2] = normalisation(mean, std);
  // Pixel by pixel, reading the interleaved bytes once, rather than one pass per channel.
  for (let y = 0; y < H; y++) {
    const row = y * W;
    const last = row + W - 1;
    for (let x = 0; x < W; x++) {
      const i = row + x;
      const p = i * 3;
      const r = data[p]! * a0 + b0;
      const g = data[p + 1]! * a1 + b1;
      const b = data[p + 2]! * a2 + b2;
      dst[i] = r;
      dst[plane + i] = g;
      dst[2 * plane + i] = b;
      if (mirrored) {
        const m = last - x;
        mirrored[m] = r;
        mirrored[plane + m] = g;
        mirrored[2 * plane + m] = b;
      }
    }
  }
  return dst;
}

/** Per channel, v -> v * a + b turns a byte into (v/255 - mean) / std: [a0, a1, a2, b0, b1, b2]. */
function normalisation(
  mean: readonly number[],
  std: readonly number[],
): [number, number, number, number, number, number] {
  return [
    1 / (255 * std[0]!),
    1 / (255 * std[1]!),
    1 / (255 * std[2]!),
    -mean[0]! / std[0]!,
    -mean[1]! / std[1]!,
    -mean[2]! / std[2]!,
  ];
}

/** Grows a box by `pad` of its size on each side (context that makes crops robust to box jitter). */
export function expandBox(box: Box, pad: number): Box {
  return [box[0] - pad * box[2], box[1] - pad * box[3], box[2] * (1 + 2 * pad), box[3] * (1 + 2 * pad)];
}

/**
 * Bilinear crop of `box` (image pixels) resized to outW x outH, written normalised in CHW order at
 * `offset` of `dst`. Samples at pixel centres with edge clamping, exactly like
 * models/training/data.py `sample_crop`, so gallery and device embeddings see the same pixels.
 */
export function cropInto(
  img: RgbImage,
  box: Box,
  outW: number,
  outH: number,
  mean: readonly number[],
  std: readonly number[],
  dst: Float32Array,
  offset: number,
): void {
  const { data, width: W, height: H } = img;
  const sx = box[2] / outW;
  const sy = box[3] / outH;
  const plane = outW * outH;
  const [a0, a1, a2, b0, b1, b2] = normalisation(mean, std);
  // Source columns and weights are the same for every output row: worked out once per crop
  // (this loop runs for every pack and column of every frame).
  const { c0, c1, fxs } = columnScratch(outW);
  for (let ox = 0; ox < outW; ox++) {
    const xs = Math.min(W - 1, Math.max(0, box[0] + (ox + 0.5) * sx - 0.5));
    const x0 = Math.floor(xs);
    c0[ox] = x0 * 3;
    c1[ox] = Math.min(x0 + 1, W - 1) * 3;
    fxs[ox] = xs - x0;
  }
  for (let oy = 0; oy < outH; oy++) {
    const ys = Math.min(H - 1, Math.max(0, box[1] + (oy + 0.5) * sy - 0.5));
    const y0 = Math.floor(ys);
    const r0 = y0 * W * 3;
    const r1 = Math.min(y0 + 1, H - 1) * W * 3;
    const fy = ys - y0;
    const o0 = offset + oy * outW;
    for (let ox = 0; ox < outW; ox++) {
      const fx = fxs[ox]!;
      const p00 = r0 + c0[ox]!;
      const p01 = r0 + c1[ox]!;
      const p10 = r1 + c0[ox]!;
      const p11 = r1 + c1[ox]!;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const o = o0 + ox;
      dst[o] = (data[p00]! * w00 + data[p01]! * w01 + data[p10]! * w10 + data[p11]! * w11) * a0 + b0;
      dst[o + plane] =
        (data[p00 + 1]! * w00 + data[p01 + 1]! * w01 + data[p10 + 1]! * w10 + data[p11 + 1]! * w11) * a1 + b1;
      dst[o + 2 * plane] =
        (data[p00 + 2]! * w00 + data[p01 + 2]! * w01 + data[p10 + 2]! * w10 + data[p11 + 2]! * w11) * a2 + b2;
    }
  }
}

let scratch = { c0: new Int32Array(0), c1: new Int32Array(0), fxs: new Float64Array(0) };

/** Per-column source offsets and weights of cropInto, reused between calls (grown when a crop is wider). */
function columnScratch(outW: number): typeof scratch {
  if (scratch.c0.length < outW)
    scratch = { c0: new Int32Array(outW), c1: new Int32Array(outW), fxs: new Float64Array(outW) };
  return scratch;
}
