/**
 * Wide-angle lens with barrel distortion (Brown–Conrady radial model, k1/k2), applied as a remap of
 * the rendered pinhole image.
 *
 * Coordinates are normalised by the half-diagonal F and centred on the image: r = |p - c| / F, so
 * r = 1 at a corner. The lens maps an undistorted (pinhole) radius r_s to a distorted radius
 *
 *     D(r) = r · (1 + k1·r² + k2·r⁴),     r_d = D(r_s) · ρ0 / D(ρ0)
 *
 * with ρ0 = half the image height / F, so the vertical field of view is kept: the top and bottom edge
 * midpoints stay put, the rest of the frame is pulled towards the centre (straight lines bow
 * outwards), and the corners look further out than the pinhole frame reached (they repeat its border,
 * which is the uniform surround of every fixture). k1 < 0 is barrel; k2 ≥ 0.45·k1² keeps D strictly
 * increasing, so the map is one-to-one.
 *
 * The inverse map (for every output pixel, where to sample the pinhole image) needs D⁻¹, which has no
 * closed form; it is solved once per parameter set into a radial table and expanded into a per-pixel
 * map that is cached. Parameters are quantised (a camera fleet has a few lens models) so the cache hits.
 */

export interface LensParams {
  k1: number;
  k2: number;
}

export interface LensMap {
  width: number;
  height: number;
  params: LensParams;
  /** Top-left source pixel (y·W + x) of the bilinear 2×2 neighbourhood, per output pixel. */
  index: Int32Array;
  /** Bilinear weights of the right / lower neighbours, 0..128. Nearest = index + (wx ≥ 64) + (wy ≥ 64)·W. */
  wx: Uint8Array;
  wy: Uint8Array;
}

const D = (p: LensParams, r: number) => r * (1 + p.k1 * r * r + p.k2 * r * r * r * r);

/** Quantise to the lens grid (k1 in steps of 0.03, extra k2 in steps of 0.02) and enforce monotonicity. */
export function quantiseLens(k1: number, k2Extra: number): LensParams {
  const q1 = Math.round(k1 / 0.03) * 0.03;
  const q2 = Math.round(k2Extra / 0.02) * 0.02;
  const k1r = Math.round(q1 * 1000) / 1000;
  return { k1: k1r, k2: Math.round((0.45 * k1r * k1r + q2) * 10000) / 10000 };
}

function geometry(width: number, height: number) {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const F = Math.hypot(width, height) / 2;
  const rho0 = height / 2 / F;
  return { cx, cy, F, rho0 };
}

/** Forward model: where a pinhole-image point lands in the distorted image. */
export function distortPoint(p: LensParams, width: number, height: number, x: number, y: number): [number, number] {
  const { cx, cy, F, rho0 } = geometry(width, height);
  const dx = (x - cx) / F;
  const dy = (y - cy) / F;
  const rs = Math.hypot(dx, dy);
  if (rs === 0) return [x, y];
  const rd = (D(p, rs) * rho0) / D(p, rho0);
  const k = rd / rs;
  return [cx + dx * k * F, cy + dy * k * F];
}

const cache = new Map<string, LensMap>();
const CACHE_MAX = 24;

/** The cached inverse map for a parameter set (about 7 MB for 1280×960, ~25 ms to build). */
export function lensMap(p: LensParams, width: number, height: number): LensMap {
  const key = `${p.k1}|${p.k2}|${width}x${height}`;
  const hit = cache.get(key);
  if (hit) {
    // Refresh LRU position.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const m = buildMap(p, width, height);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(key, m);
  return m;
}

function buildMap(p: LensParams, width: number, height: number): LensMap {
  const { cx, cy, F, rho0 } = geometry(width, height);
  const scale = D(p, rho0) / rho0;
  // Radial table over r_d² in [0, 1.0001]: ratio r_s / r_d. D is smooth, so linear
  // interpolation in r² over 4096 steps is far below a hundredth of a pixel.
  const N = 4096;
  const ratio = new Float64Array(N + 2);
  let rs = 0;
  for (let i = 0; i <= N + 1; i++) {
    const rd = Math.sqrt(i / N);
    if (rd === 0) {
      ratio[i] = scale; // D(r) ≈ r near the centre
      continue;
    }
    // Solve D(rs) = rd·scale by Newton from the previous solution (D is increasing).
    const target = rd * scale;
    if (rs === 0) rs = rd;
    for (let it = 0; it < 30; it++) {
      const r2 = rs * rs;
      const f = rs * (1 + p.k1 * r2 + p.k2 * r2 * r2) - target;
      const df = 1 + 3 * p.k1 * r2 + 5 * p.k2 * r2 * r2;
      const step = f / df;
      rs -= step;
      if (Math.abs(step) < 1e-12) break;
    }
    ratio[i] = rs / rd;
  }
  const n = width * height;
  const index = new Int32Array(n);
  const wx = new Uint8Array(n);
  const wy = new Uint8Array(n);
  const invF2 = 1 / (F * F);
  const maxX = width - 1;
  const maxY = height - 1;
  for (let y = 0, i = 0; y < height; y++) {
    const dy = y - cy;
    for (let x = 0; x < width; x++, i++) {
      const dx = x - cx;
      const t = (dx * dx + dy * dy) * invF2 * N;
      const ti = t | 0;
      const f = t - ti;
      const k = ratio[ti]! + (ratio[ti + 1]! - ratio[ti]!) * f;
      let sx = cx + dx * k;
      let sy = cy + dy * k;
      // Outside the pinhole frame: repeat its border (the fixture's uniform surround).
      sx = sx < 0 ? 0 : sx > maxX ? maxX : sx;
      sy = sy < 0 ? 0 : sy > maxY ? maxY : sy;
      let x0 = Math.floor(sx);
      let y0 = Math.floor(sy);
      if (x0 > width - 2) x0 = width - 2;
      if (y0 > height - 2) y0 = height - 2;
      index[i] = y0 * width + x0;
      wx[i] = Math.round((sx - x0) * 128);
      wy[i] = Math.round((sy - y0) * 128);
    }
  }
  return { width, height, params: p, index, wx, wy };
}

/** Source pixel index the output pixel i takes its ownership (and nearest colour) from. */
export function nearestSource(m: LensMap, i: number): number {
  return m.index[i]! + (m.wx[i]! >= 64 ? 1 : 0) + (m.wy[i]! >= 64 ? m.width : 0);
}

/** Ownership map of the distorted image: nearest-neighbour remap, so every label stays a real label. */
export function remapOwner(m: LensMap, owner: Int32Array, out: Int32Array): void {
  const { index, wx, wy, width } = m;
  const n = index.length;
  for (let i = 0; i < n; i++) {
    out[i] = owner[index[i]! + (wx[i]! >= 64 ? 1 : 0) + (wy[i]! >= 64 ? width : 0)]!;
  }
}

/** Bilinear remap of a raw RGB frame (used by tests and tools; the renderer fuses it with the photometric pass). */
export function remapRgb(m: LensMap, src: Uint8Array, out: Uint8Array): void {
  const { index, wx, wy, width } = m;
  const stride = width * 3;
  const n = index.length;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const s = index[i]! * 3;
    const ax = wx[i]!;
    const ay = wy[i]!;
    const bx = 128 - ax;
    const by = 128 - ay;
    for (let c = 0; c < 3; c++) {
      const top = src[s + c]! * bx + src[s + 3 + c]! * ax;
      const bot = src[s + stride + c]! * bx + src[s + stride + 3 + c]! * ax;
      out[o + c] = (top * by + bot * ay + 8192) >> 14;
    }
  }
}

/**
 * Destination-pixel rectangle that can contain the image of a source rectangle [x0,x1)×[y0,y1):
 * the forward map of its border (radial and monotonic, so the border bounds the image), padded.
 */
export function distortedRegion(
  p: LensParams,
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): [number, number, number, number] {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const add = (x: number, y: number) => {
    const [u, v] = distortPoint(p, width, height, x, y);
    if (u < minX) minX = u;
    if (u > maxX) maxX = u;
    if (v < minY) minY = v;
    if (v > maxY) maxY = v;
  };
  const steps = Math.max(2, Math.ceil(Math.max(x1 - x0, y1 - y0) / 6));
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    add(x0 + (x1 - x0) * t, y0);
    add(x0 + (x1 - x0) * t, y1);
    add(x0, y0 + (y1 - y0) * t);
    add(x1, y0 + (y1 - y0) * t);
  }
  // Output pixels beyond the pinhole frame sample its clamped border, so a rectangle touching the
  // border can own pixels anywhere along the output edge: search the whole frame then (rare).
  if (x0 <= 0 || y0 <= 0 || x1 >= width - 1 || y1 >= height - 1) return [0, 0, width, height];
  const pad = 3;
  return [
    Math.max(0, Math.floor(minX) - pad),
    Math.max(0, Math.floor(minY) - pad),
    Math.min(width, Math.ceil(maxX) + pad + 1),
    Math.min(height, Math.ceil(maxY) + pad + 1),
  ];
}
