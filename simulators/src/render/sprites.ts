import sharp from 'sharp';
import { packSvg } from '../catalog/art.js';
import { productBySku } from '../catalog/catalog.js';
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
