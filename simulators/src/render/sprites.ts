import sharp from 'sharp';
import { packSvg } from '../catalog/art.js';
import { productBySku } from '../catalog/catalog.js';
import { packTopSvg } from '../catalog/topArt.js';
import type { CatalogEntry } from '../catalog/types.js';

/** Base raster resolution. Scenes draw packs at roughly 0.8-1.6 px/mm, so 4 px/mm only ever shrinks. */
export const BASE_PX_PER_MM = 4;

export interface Sprite {
  /** Raw RGBA, premultiplication not applied. */
  data: Buffer;
  width: number;
  height: number;
}

const pngCache = new Map<string, Promise<Buffer>>();
const spriteCache = new Map<string, Promise<Sprite>>();
const SPRITE_CACHE_MAX = 4000;

/** Front-view PNG (transparent background) rasterised once per SKU; SVG rasterising is the slow part. */
export function packPng(e: CatalogEntry): Promise<Buffer> {
  let p = pngCache.get(e.sku);
  if (!p) {
    p = sharp(Buffer.from(packSvg(e, BASE_PX_PER_MM)))
      .png()
      .toBuffer();
    pngCache.set(e.sku, p);
  }
  return p;
}

/**
 * Pack resized to an exact pixel size and darkened by `shade` (1 = as lit at the front). Cached by
 * size because a fixture geometry repeats the same few sizes across every scene.
 */
export function packSprite(sku: string, width: number, height: number, shade: number): Promise<Sprite> {
  const shadeQ = Math.round(shade * 50) / 50;
  const key = `${sku}|${width}x${height}|${shadeQ}`;
  let p = spriteCache.get(key);
  if (!p) {
    const entry = productBySku(sku);
    if (!entry) throw new Error(`unknown sku ${sku}`);
    p = (async () => {
      const { data, info } = await sharp(await packPng(entry))
        .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      if (shadeQ !== 1) {
        for (let i = 0; i < data.length; i += 4) {
          data[i] = data[i]! * shadeQ;
          data[i + 1] = data[i + 1]! * shadeQ;
          data[i + 2] = data[i + 2]! * shadeQ;
        }
      }
      return { data, width: info.width, height: info.height };
    })();
    if (spriteCache.size >= SPRITE_CACHE_MAX) {
      // Maps iterate in insertion order, so this evicts the oldest entry.
      const first = spriteCache.keys().next();
      if (!first.done) spriteCache.delete(first.value);
    }
    spriteCache.set(key, p);
  }
  return p;
}

const topPngCache = new Map<string, Promise<Buffer>>();

/** Top-view PNG (chest cooler, toppled-forward packs), rasterised once per SKU. */
export function packTopPng(e: CatalogEntry): Promise<Buffer> {
  let p = topPngCache.get(e.sku);
  if (!p) {
    p = sharp(Buffer.from(packTopSvg(e, BASE_PX_PER_MM)))
      .png()
      .toBuffer();
    topPngCache.set(e.sku, p);
  }
  return p;
}

function remember(key: string, make: () => Promise<Sprite>): Promise<Sprite> {
  let p = spriteCache.get(key);
  if (!p) {
    p = make();
    if (spriteCache.size >= SPRITE_CACHE_MAX) {
      const first = spriteCache.keys().next();
      if (!first.done) spriteCache.delete(first.value);
    }
    spriteCache.set(key, p);
  }
  return p;
}

async function rotateRaw(s: Sprite, angleDeg: number): Promise<Sprite> {
  const { data, info } = await sharp(s.data, { raw: { width: s.width, height: s.height, channels: 4 } })
    .rotate(angleDeg, { background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * Front-view pack rotated in the image plane (tilted or toppled packs). Angles are quantised to 3°
 * (90° multiples are exact) so rotated sprites cache like upright ones.
 */
export function rotatedPackSprite(
  sku: string,
  width: number,
  height: number,
  shade: number,
  angleDeg: number,
): Promise<Sprite> {
  const a = Math.round(angleDeg / 3) * 3;
  if (a % 360 === 0) return packSprite(sku, width, height, shade);
  const shadeQ = Math.round(shade * 50) / 50;
  return remember(`${sku}|${width}x${height}|${shadeQ}|r${a}`, async () =>
    rotateRaw(await packSprite(sku, width, height, shade), a),
  );
}

/**
 * Top view of a pack at an exact pixel size (before rotation), darkened by `shade` and rotated in-plane
 * by a multiple of 15°.
 */
export function packTopSprite(
  sku: string,
  width: number,
  height: number,
  shade: number,
  angleDeg: number,
): Promise<Sprite> {
  const shadeQ = Math.round(shade * 50) / 50;
  const a = (((Math.round(angleDeg / 15) * 15) % 360) + 360) % 360;
  return remember(`top|${sku}|${width}x${height}|${shadeQ}|r${a}`, async () => {
    const entry = productBySku(sku);
    if (!entry) throw new Error(`unknown sku ${sku}`);
    const { data, info } = await sharp(await packTopPng(entry))
      .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (shadeQ !== 1) {
      for (let i = 0; i < data.length; i += 4) {
        data[i] = data[i]! * shadeQ;
        data[i + 1] = data[i + 1]! * shadeQ;
        data[i + 2] = data[i + 2]! * shadeQ;
      }
    }
    const s = { data, width: info.width, height: info.height };
    return a === 0 ? s : rotateRaw(s, a);
  });
}
