import sharp from 'sharp';
import type { LensMap } from '../render/lens.js';
import { Rng } from '../util/rng.js';
import type { PerturbParams } from './params.js';

// Gaussian samples reused for every frame: a PRNG call per pixel would dominate render time.
// (A libvips `overlay` composite of a noise tile was measured slower than this loop.)
const NOISE_LEN = 1 << 16;
let noiseTable: Float32Array | undefined;
function noise(): Float32Array {
  if (!noiseTable) {
    noiseTable = new Float32Array(NOISE_LEN);
    // mulberry32, not an LCG: strided reads of an LCG table showed up as horizontal stripes.
    const r = new Rng(12345);
    for (let i = 0; i < NOISE_LEN; i++)
      noiseTable[i] = Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
  }
  return noiseTable;
}

/** The veil is smooth, so it is computed at 1/VEIL_DIV resolution (upscaling to full size was slow). */
const VEIL_DIV = 4;

/** Veil alpha (0-255) per low-res pixel: condensation blotches plus glare ellipses, or undefined. */
async function veilMap(p: PerturbParams, fullW: number, fullH: number, rng: Rng): Promise<Uint8Array | undefined> {
  const width = Math.ceil(fullW / VEIL_DIV);
  const height = Math.ceil(fullH / VEIL_DIV);
  if (p.haze <= 0 && p.glare.length === 0) return undefined;
  let veil: Uint8Array;
  if (p.haze > 0) {
    // A coarse random field upscaled smoothly by libvips looks like fogged glass.
    const gw = 32;
    const gh = 24;
    const field = Buffer.alloc(gw * gh);
    for (let i = 0; i < field.length; i++) field[i] = Math.round(255 * p.haze * Math.pow(rng.next(), 0.7));
    veil = await sharp(field, { raw: { width: gw, height: gh, channels: 1 } })
      .resize(width, height, { kernel: 'cubic' })
      // libvips turns single-band raw input into sRGB unless told otherwise.
      .extractChannel(0)
      .raw()
      .toBuffer();
  } else {
    veil = new Uint8Array(width * height);
  }
  for (const full of p.glare) {
    const g = {
      cx: full.cx / VEIL_DIV,
      cy: full.cy / VEIL_DIV,
      rx: full.rx / VEIL_DIV,
      ry: full.ry / VEIL_DIV,
      opacity: full.opacity,
    };
    const x0 = Math.max(0, Math.floor(g.cx - g.rx));
    const x1 = Math.min(width, Math.ceil(g.cx + g.rx));
    const y0 = Math.max(0, Math.floor(g.cy - g.ry));
    const y1 = Math.min(height, Math.ceil(g.cy + g.ry));
    for (let y = y0; y < y1; y++) {
      const dy = (y - g.cy) / g.ry;
      const dy2 = dy * dy;
      for (let x = x0; x < x1; x++) {
        const dx = (x - g.cx) / g.rx;
        const d = dx * dx + dy2;
        if (d >= 1) continue;
        const a = g.opacity * (1 - d) * (1 - d);
        const i = y * width + x;
        veil[i] = 255 - (255 - veil[i]!) * (1 - a);
      }
    }
  }
  return veil;
}

/** Horizontal box blur of odd length k (camera shake / a shopper's hand), running sums per row. */
function motionBlur(src: Uint8Array, width: number, height: number, k: number): Uint8Array {
  const out = new Uint8Array(src.length);
  const half = k >> 1;
  const inv = 1 / k;
  const stride = width * 3;
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    let r = 0;
    let g = 0;
    let b = 0;
    // Edge pixels are repeated so the frame border does not darken.
    for (let x = -half; x <= half; x++) {
      const j = row + (x < 0 ? 0 : x) * 3;
      r += src[j]!;
      g += src[j + 1]!;
      b += src[j + 2]!;
    }
    for (let x = 0, o = row; x < width; x++, o += 3) {
      out[o] = r * inv + 0.5;
      out[o + 1] = g * inv + 0.5;
      out[o + 2] = b * inv + 0.5;
      const add = row + (x + half + 1 < width ? x + half + 1 : width - 1) * 3;
      const sub = row + (x - half > 0 ? x - half : 0) * 3;
      r += src[add]! - src[sub]!;
      g += src[add + 1]! - src[sub + 1]!;
      b += src[add + 2]! - src[sub + 2]!;
    }
  }
  return out;
}

const EMPTY_I32 = new Int32Array(1);
const EMPTY_U8 = new Uint8Array(1);

/**
 * Photometric degradations on a raw RGB frame, then JPEG. Geometry never changes here, so truth
 * boxes stay valid; occluding door bars are drawn by the scene renderer instead.
 */
export async function perturbToJpeg(
  rgb: Buffer,
  width: number,
  height: number,
  p: PerturbParams,
  rng: Rng,
  lens: LensMap | null = null,
): Promise<Buffer> {
  const veil = await veilMap(p, width, height, rng);
  // Everything below runs synchronously (shared scratch buffers are safe with concurrent renders).
  // Always a plain Uint8Array (not Buffer / Uint8ClampedArray): the per-pixel loops stay
  // monomorphic, which was measured several times faster than reading a mix of array types.
  let frame = new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.length);
  if (p.motionBlurPx > 1) frame = motionBlur(frame, width, height, p.motionBlurPx | 1);

  // Uint8ClampedArray rounds and clamps on store, which is most of the per-pixel cost otherwise.
  const out = new Uint8ClampedArray(width * height * 3);
  const gr = p.whiteBalance[0] * p.exposure;
  const gg = p.whiteBalance[1] * p.exposure;
  const gb = p.whiteBalance[2] * p.exposure;
  const nt = noise();
  const mask = NOISE_LEN - 1;
  let ni = rng.int(0, mask);
  const step = 1 + 2 * rng.int(1, 500); // odd stride walks the whole table before repeating
  // A fixed stride would repeat the same sequence on every row (visible stripes); jump randomly.
  let js = rng.int(1, 0x7fffffff);
  const rowJump = () => (js = (Math.imul(js, 1664525) + 1013904223) >>> 0) >>> 16;
  const sd = p.noiseSd;
  const vw = Math.ceil(width / VEIL_DIV);
  const inv255 = 1 / 255;
  // The lens remap is fused into this pass: each output pixel samples the (blurred) pinhole frame
  // bilinearly through the cached inverse map, then gets veil, gain and noise.
  const idx = lens ? lens.index : EMPTY_I32;
  const wxs = lens ? lens.wx : EMPTY_U8;
  const wys = lens ? lens.wy : EMPTY_U8;
  const stride = width * 3;
  const useLens = lens !== null;
  const useVeil = veil !== undefined;
  const vm = veil ?? EMPTY_U8;
  for (let y = 0, i = 0, k = 0; y < height; y++) {
    const vrow = ((y / VEIL_DIV) | 0) * vw;
    ni = (ni + rowJump()) & mask;
    for (let x = 0; x < width; x++, i += 3, k++) {
      let r: number;
      let g: number;
      let b: number;
      if (useLens) {
        const s = idx[k]! * 3;
        const ax = wxs[k]!;
        const ay = wys[k]!;
        const bx = 128 - ax;
        const by = 128 - ay;
        const t = s + stride;
        r = ((frame[s]! * bx + frame[s + 3]! * ax) * by + (frame[t]! * bx + frame[t + 3]! * ax) * ay) * (1 / 16384);
        g =
          ((frame[s + 1]! * bx + frame[s + 4]! * ax) * by + (frame[t + 1]! * bx + frame[t + 4]! * ax) * ay) *
          (1 / 16384);
        b =
          ((frame[s + 2]! * bx + frame[s + 5]! * ax) * by + (frame[t + 2]! * bx + frame[t + 5]! * ax) * ay) *
          (1 / 16384);
      } else {
        r = frame[i]!;
        g = frame[i + 1]!;
        b = frame[i + 2]!;
      }
      // One draw per pixel: luma noise; chroma noise would mostly vanish in JPEG anyway.
      const e = sd * nt[ni]!;
      ni = (ni + step) & mask;
      if (useVeil) {
        const a = vm[vrow + ((x / VEIL_DIV) | 0)]! * inv255;
        r += (255 - r) * a;
        g += (255 - g) * a;
        b += (255 - b) * a;
      }
      out[i] = r * gr + e;
      out[i + 1] = g * gg + e;
      out[i + 2] = b * gb + e;
    }
  }
  return (
    sharp(Buffer.from(out.buffer, out.byteOffset, out.byteLength), { raw: { width, height, channels: 3 } })
      // Baseline libjpeg-turbo settings: no mozjpeg trellis/scan optimisation, no Huffman
      // optimisation (halves encode time for ~5 % larger files), 4:2:0 chroma like most cameras.
      .jpeg({ quality: p.jpegQuality, mozjpeg: false, optimiseCoding: false, chromaSubsampling: '4:2:0' })
      .toBuffer()
  );
}
