import sharp from 'sharp';
import type { Rng } from '../util/rng.js';
import type { PerturbParams } from './params.js';

// Gaussian samples reused for every frame: per-pixel PRNG calls would dominate render time.
const NOISE_LEN = 1 << 16;
let noiseTable: Float32Array | undefined;
function noise(): Float32Array {
  if (!noiseTable) {
    noiseTable = new Float32Array(NOISE_LEN);
    let s = 12345;
    const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
    for (let i = 0; i < NOISE_LEN; i++) noiseTable[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  }
  return noiseTable;
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
  let frame = rgb;
  if (p.motionBlurPx > 1) {
    const k = p.motionBlurPx | 1;
    const kernel = new Array<number>(k * 3).fill(0);
    for (let i = 0; i < k; i++) kernel[k + i] = 1;
    frame = await sharp(frame, { raw: { width, height, channels: 3 } })
      .convolve({ width: k, height: 3, kernel, scale: k })
      .raw()
      .toBuffer();
  }

  // Veil alpha: condensation blotches plus glare ellipses, blended towards white.
  let veil: Float32Array | undefined;
  if (p.haze > 0 || p.glare.length > 0) {
    veil = new Float32Array(width * height);
    if (p.haze > 0) {
      const gw = 32;
      const gh = 24;
      const field = Buffer.alloc(gw * gh);
      for (let i = 0; i < field.length; i++) field[i] = Math.round(255 * Math.pow(rng.next(), 0.7));
      const big = await sharp(field, { raw: { width: gw, height: gh, channels: 1 } })
        .resize(width, height, { kernel: 'cubic' })
        .raw()
        .toBuffer();
      for (let i = 0; i < veil.length; i++) veil[i] = (p.haze * big[i]!) / 255;
    }
    for (const g of p.glare) {
      const x0 = Math.max(0, g.cx - g.rx);
      const x1 = Math.min(width, g.cx + g.rx);
      const y0 = Math.max(0, g.cy - g.ry);
      const y1 = Math.min(height, g.cy + g.ry);
      for (let y = y0; y < y1; y++) {
        const dy = (y - g.cy) / g.ry;
        for (let x = x0; x < x1; x++) {
          const dx = (x - g.cx) / g.rx;
          const d = dx * dx + dy * dy;
          if (d >= 1) continue;
          const a = g.opacity * (1 - d) * (1 - d);
          const i = y * width + x;
          veil[i] = 1 - (1 - veil[i]!) * (1 - a);
        }
      }
    }
  }

  // Uint8ClampedArray rounds and clamps for free, which is most of the per-pixel cost otherwise.
  const out = new Uint8ClampedArray(width * height * 3);
  const [gr, gg, gb] = p.whiteBalance.map((w) => w * p.exposure) as [number, number, number];
  const nt = noise();
  const mask = NOISE_LEN - 1;
  let ni = rng.int(0, mask);
  const step = 1 + 2 * rng.int(1, 500); // odd stride walks the whole table before repeating
  const sd = p.noiseSd;
  const n = width * height;
  for (let px = 0, i = 0; px < n; px++, i += 3) {
    let r = frame[i]!;
    let g = frame[i + 1]!;
    let b = frame[i + 2]!;
    if (veil) {
      const a = veil[px]!;
      if (a > 0) {
        r += (255 - r) * a;
        g += (255 - g) * a;
        b += (255 - b) * a;
      }
    }
    // One noise draw per pixel keeps luma noise; chroma noise is mostly removed by JPEG anyway.
    const e = sd * nt[ni]!;
    ni = (ni + step) & mask;
    out[i] = r * gr + e;
    out[i + 1] = g * gg + e;
    out[i + 2] = b * gb + e;
  }
  return sharp(Buffer.from(out.buffer, out.byteOffset, out.byteLength), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: p.jpegQuality, mozjpeg: false })
    .toBuffer();
}
