import sharp from 'sharp';
import { project, type FixtureGeometry } from '../fixtures/geometry.js';
import type { HandParams } from '../perturb/params.js';
import type { Sprite } from './sprites.js';

export interface PlacedSprite extends Sprite {
  left: number;
  top: number;
}

const pts = (p: [number, number][]) => p.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');

async function rasterRaw(svg: string): Promise<Sprite> {
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const bgCache = new Map<string, Promise<Sprite>>();
const plateCache = new Map<string, Promise<PlacedSprite[]>>();
const CACHE_MAX = 64;

function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let v = cache.get(key);
  if (v === undefined) {
    v = make();
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(key, v);
  }
  return v;
}

/** Cabinet, walls, ceiling light and floor: everything behind the packs. Depends only on geometry. */
export function backgroundRaster(g: FixtureGeometry): Promise<Sprite> {
  // RGB (no alpha): it is the opaque base frame every scene is composed onto.
  return remember(bgCache, g.key, async () => {
    const { data, info } = await sharp(Buffer.from(backgroundSvg(g)))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  });
}

function backgroundSvg(g: FixtureGeometry): string {
  const W = g.interiorWidthMm;
  const H = g.interiorHeightMm;
  const D = g.shelfDepthMm + 30;
  const f = (x: number, y: number, z: number) => project(g, x, y, z);
  const fTL = f(0, H, 0);
  const fTR = f(W, H, 0);
  const fBL = f(0, 0, 0);
  const fBR = f(W, 0, 0);
  const bTL = f(0, H, D);
  const bTR = f(W, H, D);
  const bBL = f(0, 0, D);
  const bBR = f(W, 0, D);
  const shelf = g.kind === 'shelf';
  const outside = shelf ? '#cdbfa8' : '#2b2d31';
  const back = shelf ? '#e9e4da' : '#dfe4e8';
  const side = shelf ? '#d8d0c0' : '#c4ccd3';
  const frame = shelf ? '#8d6e63' : '#9aa0a6';
  const [lx0, ly0] = f(W * 0.1, H - 5, 40);
  const [lx1] = f(W * 0.9, H - 5, 40);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${g.width}" height="${g.height}">` +
    `<defs><linearGradient id="bw" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#fff" stop-opacity="0.25"/>` +
    `<stop offset="1" stop-color="#000" stop-opacity="0.25"/></linearGradient></defs>` +
    `<rect width="${g.width}" height="${g.height}" fill="${outside}"/>` +
    `<polygon points="${pts([fTL, fTR, fBR, fBL])}" fill="${side}"/>` +
    `<polygon points="${pts([fTL, fTR, bTR, bTL])}" fill="${shelf ? side : '#eef2f5'}"/>` +
    `<polygon points="${pts([fBL, fBR, bBR, bBL])}" fill="#8f969c"/>` +
    `<polygon points="${pts([fTL, bTL, bBL, fBL])}" fill="${side}"/><polygon points="${pts([fTL, bTL, bBL, fBL])}" fill="url(#bw)"/>` +
    `<polygon points="${pts([fTR, bTR, bBR, fBR])}" fill="${side}"/><polygon points="${pts([fTR, bTR, bBR, fBR])}" fill="url(#bw)"/>` +
    `<polygon points="${pts([bTL, bTR, bBR, bBL])}" fill="${back}"/><polygon points="${pts([bTL, bTR, bBR, bBL])}" fill="url(#bw)"/>` +
    (shelf ? '' : `<rect x="${lx0}" y="${ly0 - 4}" width="${lx1 - lx0}" height="8" rx="4" fill="#ffffff"/>`) +
    `<polygon points="${pts([fTL, fTR, fBR, fBL])}" fill="none" stroke="${frame}" stroke-width="${shelf ? 10 : 18}"/>` +
    `</svg>`
  );
}

/** Shelf plate each row stands on (top surface + front price strip), positioned in the frame. */
export function plateRasters(g: FixtureGeometry): Promise<PlacedSprite[]> {
  return remember(plateCache, g.key, () => Promise.all(g.rows.map((_, r) => plateRaster(g, r))));
}

async function plateRaster(g: FixtureGeometry, row: number): Promise<PlacedSprite> {
  const r = g.rows[row]!;
  const W = g.interiorWidthMm;
  const y = r.yMm;
  const t = g.plateThicknessMm;
  const D = g.shelfDepthMm;
  const fl = project(g, 0, y, 0);
  const fr = project(g, W, y, 0);
  const bl = project(g, 0, y, D);
  const br = project(g, W, y, D);
  const sl = project(g, 0, y - t, 0);
  const sr = project(g, W, y - t, 0);
  const left = Math.floor(Math.min(fl[0], sl[0]));
  const top = Math.floor(Math.min(bl[1], br[1]));
  const right = Math.ceil(Math.max(fr[0], sr[0]));
  const bottom = Math.ceil(Math.max(sl[1], sr[1]));
  const o = (p: [number, number]): [number, number] => [p[0] - left, p[1] - top];
  const shelf = g.kind === 'shelf';
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${right - left}" height="${bottom - top}">` +
    `<polygon points="${pts([o(fl), o(fr), o(br), o(bl)])}" fill="${shelf ? '#bdb6a8' : '#b9c1c8'}"/>` +
    `<polygon points="${pts([o(fl), o(fr), o(sr), o(sl)])}" fill="${shelf ? '#f4f4f0' : '#e8ecef'}" stroke="#7d858c" stroke-width="1"/>` +
    `</svg>`;
  const s = await rasterRaw(svg);
  return { ...s, left, top };
}

const tagCache = new Map<string, Promise<Sprite>>();

/** Price label on a shelf strip; cached per text and size since prices repeat. */
export function priceTag(textValue: string, w: number, h: number, promo: boolean): Promise<Sprite> {
  return remember(tagCache, `${textValue}|${w}|${h}|${promo}`, () =>
    rasterRaw(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">` +
        `<rect width="${w}" height="${h}" fill="${promo ? '#ffeb3b' : '#ffffff'}" stroke="#555" stroke-width="1"/>` +
        `<text x="${w / 2}" y="${h * 0.78}" font-size="${h * 0.78}" font-family="DejaVu Sans" font-weight="bold" ` +
        `fill="${promo ? '#c62828' : '#222'}" text-anchor="middle">${textValue}</text></svg>`,
    ),
  );
}

/**
 * A shopper's hand and forearm reaching in from the frame edge (partial occlusion at hard
 * difficulty). Drawn in a local frame (fingertips at the origin, arm along +x), rotated into place
 * and rasterised only over its clipped bounding box; undefined when it falls outside the frame.
 */
export async function handSprite(h: HandParams, width: number, height: number): Promise<PlacedSprite | undefined> {
  const w = h.widthPx;
  const L = Math.hypot(width, height) + 2 * w;
  const a = (h.angleDeg * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const toImg = (x: number, y: number): [number, number] => [h.x + x * cos - y * sin, h.y + x * sin + y * cos];
  // Bounding box of the arm polygon (fingers to shoulder), clipped to the frame.
  const hull: [number, number][] = [
    [-0.05 * w, -0.75 * w],
    [-0.05 * w, 0.75 * w],
    [L, -0.6 * w],
    [L, 0.6 * w],
  ].map(([x, y]) => toImg(x!, y!));
  const left = Math.max(0, Math.floor(Math.min(...hull.map((p) => p[0]))));
  const top = Math.max(0, Math.floor(Math.min(...hull.map((p) => p[1]))));
  const right = Math.min(width, Math.ceil(Math.max(...hull.map((p) => p[0]))));
  const bottom = Math.min(height, Math.ceil(Math.max(...hull.map((p) => p[1]))));
  if (right - left < 2 || bottom - top < 2) return undefined;
  const f = (v: number) => v.toFixed(1);
  const fingers = [-0.3, -0.1, 0.1, 0.3]
    .map(
      (y, i) =>
        `<rect x="${f(0.02 * w * (i === 0 || i === 3 ? 3 : 0))}" y="${f(y * w - 0.09 * w)}" width="${f(0.62 * w)}" ` +
        `height="${f(0.18 * w)}" rx="${f(0.09 * w)}" fill="${h.skin}" stroke="#000" stroke-opacity="0.18" stroke-width="1.5"/>`,
    )
    .join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${right - left}" height="${bottom - top}">` +
    `<defs><linearGradient id="sh" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#fff" stop-opacity="0.18"/>` +
    `<stop offset="0.5" stop-color="#fff" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.3"/></linearGradient></defs>` +
    `<g transform="translate(${f(h.x - left)} ${f(h.y - top)}) rotate(${h.angleDeg})">` +
    `<rect x="${f(0.7 * w)}" y="${f(-0.36 * w)}" width="${f(L)}" height="${f(0.72 * w)}" rx="${f(0.3 * w)}" fill="${h.skin}"/>` +
    `<rect x="${f(0.7 * w)}" y="${f(-0.36 * w)}" width="${f(L)}" height="${f(0.72 * w)}" rx="${f(0.3 * w)}" fill="url(#sh)"/>` +
    `<rect x="${f(2.3 * w)}" y="${f(-0.5 * w)}" width="${f(L)}" height="${f(w)}" rx="${f(0.2 * w)}" fill="${h.sleeve}"/>` +
    `<rect x="${f(2.3 * w)}" y="${f(-0.5 * w)}" width="${f(L)}" height="${f(w)}" rx="${f(0.2 * w)}" fill="url(#sh)"/>` +
    fingers +
    `<ellipse cx="${f(0.72 * w)}" cy="0" rx="${f(0.4 * w)}" ry="${f(0.46 * w)}" fill="${h.skin}"/>` +
    `<rect x="${f(0.45 * w)}" y="${f(0.3 * w)}" width="${f(0.55 * w)}" height="${f(0.2 * w)}" rx="${f(0.1 * w)}" ` +
    `fill="${h.skin}" stroke="#000" stroke-opacity="0.18" stroke-width="1.5" transform="rotate(-35 ${f(0.8 * w)} ${f(0.4 * w)})"/>` +
    `<ellipse cx="${f(0.72 * w)}" cy="0" rx="${f(0.4 * w)}" ry="${f(0.46 * w)}" fill="url(#sh)"/>` +
    `</g></svg>`;
  const s = await rasterRaw(svg);
  return { ...s, left, top };
}
