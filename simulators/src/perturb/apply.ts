import sharp from 'sharp';
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
function motionBlur(src: Uint8Array, width: number, height: number, k: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(src.length);
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
      out[o] = r * inv;
      out[o + 1] = g * inv;
      out[o + 2] = b * inv;
      const add = row + (x + half + 1 < width ? x + half + 1 : width - 1) * 3;
      const sub = row + (x - half > 0 ? x - half : 0) * 3;
      r += src[add]! - src[sub]!;
      g += src[add + 1]! - src[sub + 1]!;
      b += src[add + 2]! - src[sub + 2]!;
    }
  }
  return out;
}

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
): Promise<Buffer> {
  const frame: Uint8Array | Uint8ClampedArray =
    p.motionBlurPx > 1 ? motionBlur(rgb, width, height, p.motionBlurPx | 1) : rgb;
  const veil = await veilMap(p, width, height, rng);

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
  if (veil) {
    const vw = Math.ceil(width / VEIL_DIV);
    const inv255 = 1 / 255;
    for (let y = 0, i = 0; y < height; y++) {
      const vrow = ((y / VEIL_DIV) | 0) * vw;
      ni = (ni + rowJump()) & mask;
      for (let x = 0; x < width; x++, i += 3) {
        const a = veil[vrow + ((x / VEIL_DIV) | 0)]! * inv255;
        const e = sd * nt[ni]!;
        ni = (ni + step) & mask;
        const r = frame[i]!;
        const g = frame[i + 1]!;
        const b = frame[i + 2]!;
        out[i] = (r + (255 - r) * a) * gr + e;
        out[i + 1] = (g + (255 - g) * a) * gg + e;
        out[i + 2] = (b + (255 - b) * a) * gb + e;
      }
    }
  } else {
    for (let y = 0, i = 0; y < height; y++) {
      ni = (ni + rowJump()) & mask;
      for (let x = 0; x < width; x++, i += 3) {
        // One draw per pixel: luma noise; chroma noise would mostly vanish in JPEG anyway.
        const e = sd * nt[ni]!;
        ni = (ni + step) & mask;
        out[i] = frame[i]! * gr + e;
        out[i + 1] = frame[i + 1]! * gg + e;
        out[i + 2] = frame[i + 2]! * gb + e;
      }
    }
  }
  return sharp(Buffer.from(out.buffer, out.byteOffset, out.byteLength), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: p.jpegQuality })
    .toBuffer();
}
