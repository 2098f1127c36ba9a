import { distortedRegion, nearestSource, remapOwner, type LensMap } from './lens.js';
import type { Box, ObjectShape, TruthObject } from './sceneTypes.js';
import type { Sprite } from './sprites.js';

/**
 * Exact truth from the per-pixel ownership map. Without a lens: bbox = tight box of the pixels an
 * object still owns after every nearer layer; amodal = tight box of its opaque sprite pixels. With a
 * lens, each output pixel takes its owner from the same source pixel its colour is sampled nearest
 * to, so: bbox = tight box of the distorted visible pixels, amodal = tight box of the output pixels
 * whose source lies in the object's opaque mask (or, for empty slots, in its rectangle). An empty
 * slot's occlusion is the share of its rectangle that a pack or an occluder covers (door bars, a hand, a
 * pack leaning in), as a pack's is the share of its pixels hidden: a slot behind a door
 * bar cannot be seen to be empty.
 * Returns the final ownership map (a scratch buffer: copy it before the next render).
 */
export function finishTruth(
  width: number,
  height: number,
  objects: TruthObject[],
  shapes: ObjectShape[],
  owner: Int32Array,
  opaquePx: Float64Array,
  lens: LensMap | null,
): Int32Array {
  let map = owner;
  if (lens) {
    map = scratch(width * height);
    remapOwner(lens, owner, map);
  }
  const vis = visibleBoxes(width, height, map, objects.length);
  objects.forEach((o, i) => {
    const shape = shapes[i]!;
    let amodal: Box | null;
    let total: number;
    let free = 0;
    if (lens) {
      const a = distortedMask(lens, shape, o.kind === 'empty' ? map : undefined);
      amodal = a.box;
      total = a.count;
      free = a.free;
    } else if (o.kind === 'empty' && shape.kind === 'rect') {
      const r = uncoveredRect(map, width, height, shape);
      amodal = r.box;
      total = r.count;
      free = r.free;
    } else {
      amodal = shape.kind === 'rect' ? [shape.x, shape.y, shape.w, shape.h] : spriteBox(shape, width, height);
      total = opaquePx[i]!;
    }
    if (o.kind === 'empty') {
      // Empty slots are regions, not layers: their box is the (distorted) slot rectangle.
      const b = amodal ?? o.amodalBbox;
      o.bbox = [...b];
      o.amodalBbox = [...b];
      o.occlusion = total > 0 ? Math.round(Math.max(0, 1 - free / total) * 1000) / 1000 : 1;
      o.visible = free > 0;
      return;
    }
    const v = vis.count[i]!;
    o.amodalBbox = amodal ?? [...o.amodalBbox];
    o.occlusion = total > 0 ? Math.round(Math.max(0, 1 - v / total) * 1000) / 1000 : 1;
    o.visible = v > 0;
    o.bbox =
      v > 0
        ? [vis.minX[i]!, vis.minY[i]!, vis.maxX[i]! - vis.minX[i]! + 1, vis.maxY[i]! - vis.minY[i]! + 1]
        : [...o.amodalBbox];
  });
  return map;
}

let ownerScratch = new Int32Array(0);
function scratch(n: number): Int32Array {
  if (ownerScratch.length < n) ownerScratch = new Int32Array(n);
  return ownerScratch.subarray(0, n);
}

/** Pixel count and tight box per owner id. */
export function visibleBoxes(width: number, height: number, owner: Int32Array, n: number) {
  const count = new Float64Array(n);
  const minX = new Int32Array(n).fill(width);
  const minY = new Int32Array(n).fill(height);
  const maxX = new Int32Array(n).fill(-1);
  const maxY = new Int32Array(n).fill(-1);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const o = owner[i]!;
      if (o < 0) continue;
      count[o]! += 1;
      if (x < minX[o]!) minX[o] = x;
      if (x > maxX[o]!) maxX[o] = x;
      if (y < minY[o]!) minY[o] = y;
      if (y > maxY[o]!) maxY[o] = y;
    }
  }
  return { count, minX, minY, maxX, maxY };
}

const opaqueBoxCache = new WeakMap<Sprite, [number, number, number, number] | null>();

/** Tight box of a sprite's opaque (alpha ≥ 128) pixels in sprite coordinates, inclusive; cached per sprite. */
function opaqueBox(s: Sprite): [number, number, number, number] | null {
  if (opaqueBoxCache.has(s)) return opaqueBoxCache.get(s)!;
  let x0 = s.width;
  let y0 = s.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0, k = 3; y < s.height; y++) {
    for (let x = 0; x < s.width; x++, k += 4) {
      if (s.data[k]! < 128) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  const b: [number, number, number, number] | null = x1 < 0 ? null : [x0, y0, x1, y1];
  opaqueBoxCache.set(s, b);
  return b;
}

/** Opaque box of a placed sprite clipped to the frame (exact only for sprites fully inside, the usual case). */
function spriteBox(shape: Extract<ObjectShape, { kind: 'sprite' }>, width: number, height: number): Box | null {
  const b = opaqueBox(shape.sprite);
  if (!b) return null;
  const x0 = Math.max(0, shape.left + b[0]);
  const y0 = Math.max(0, shape.top + b[1]);
  const x1 = Math.min(width - 1, shape.left + b[2]);
  const y1 = Math.min(height - 1, shape.top + b[3]);
  if (x1 < x0 || y1 < y0) return null;
  return [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

/** Owner id of the fixture's own parts drawn as layers (shelf plates, price tags). */
export const SCENERY = -2;
/**
 * Owner id of the things in front of the fixture (door and lid bars, a shopper's hand). Other negative
 * ids are the fixture itself (background -1, SCENERY): what an empty slot looks like.
 */
export const OCCLUDER = -3;
const seesFixture = (owner: number) => owner < 0 && owner !== OCCLUDER;

/** A rectangle clipped to the frame: its pixel count, tight box, and how many of its pixels show the fixture. */
function uncoveredRect(
  owner: Int32Array,
  width: number,
  height: number,
  r: Extract<ObjectShape, { kind: 'rect' }>,
): { count: number; free: number; box: Box | null } {
  const x0 = Math.max(0, r.x);
  const y0 = Math.max(0, r.y);
  const x1 = Math.min(width, r.x + r.w);
  const y1 = Math.min(height, r.y + r.h);
  if (x1 <= x0 || y1 <= y0) return { count: 0, free: 0, box: null };
  let free = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (seesFixture(owner[y * width + x]!)) free++;
  return { count: (x1 - x0) * (y1 - y0), free, box: [x0, y0, x1 - x0, y1 - y0] };
}

/**
 * Output pixels whose nearest source pixel lies in the shape's opaque mask: count and tight box, and
 * with an ownership map, how many of them show the fixture (no pack or occluder covers them).
 */
export function distortedMask(
  m: LensMap,
  shape: ObjectShape,
  owner?: Int32Array,
): { count: number; free: number; box: Box | null } {
  const W = m.width;
  const H = m.height;
  let sx0: number, sy0: number, sx1: number, sy1: number;
  let sprite: Sprite | null = null;
  if (shape.kind === 'sprite') {
    sprite = shape.sprite;
    sx0 = shape.left;
    sy0 = shape.top;
    sx1 = shape.left + sprite.width;
    sy1 = shape.top + sprite.height;
  } else {
    sx0 = shape.x;
    sy0 = shape.y;
    sx1 = shape.x + shape.w;
    sy1 = shape.y + shape.h;
  }
  const [rx0, ry0, rx1, ry1] = distortedRegion(m.params, W, H, sx0, sy0, sx1, sy1);
  let count = 0;
  let free = 0;
  let minX = W;
  let minY = H;
  let maxX = -1;
  let maxY = -1;
  for (let y = ry0; y < ry1; y++) {
    for (let x = rx0, i = y * W + rx0; x < rx1; x++, i++) {
      const s = nearestSource(m, i);
      const py = (s / W) | 0;
      const px = s - py * W;
      if (px < sx0 || px >= sx1 || py < sy0 || py >= sy1) continue;
      if (sprite && sprite.data[((py - sy0) * sprite.width + (px - sx0)) * 4 + 3]! < 128) continue;
      count++;
      if (owner && seesFixture(owner[i]!)) free++;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  return { count, free, box: maxX < 0 ? null : [minX, minY, maxX - minX + 1, maxY - minY + 1] };
}
