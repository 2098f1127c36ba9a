import sharp from 'sharp';
import { foreignProducts, productBySku } from '../catalog/catalog.js';
import { EMPTY_CATEGORY, UNKNOWN_CATEGORY } from '../catalog/types.js';
import { cellCenterMm, chestGeometry, chestScale, projectTop, type ChestGeometry } from '../fixtures/chest.js';
import type { Planogram, Stock } from '../fixtures/types.js';
import type { Rng } from '../util/rng.js';
import type { ComposeLayer } from './compose.js';
import type { Box, BuiltScene, ObjectShape, TruthObject } from './sceneTypes.js';
import { packTopSprite, type Sprite } from './sprites.js';

const pts = (p: [number, number][]) => p.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');

type Quad = [[number, number], [number, number], [number, number], [number, number]];

const bgCache = new Map<string, Promise<Sprite>>();

/** Shop floor, cabinet rim, inner walls, basket floor and wire baskets. Depends only on geometry. */
function chestBackground(g: ChestGeometry): Promise<Sprite> {
  let p = bgCache.get(g.key);
  if (!p) {
    p = (async () => {
      const { data, info } = await sharp(Buffer.from(chestSvg(g)))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height };
    })();
    if (bgCache.size >= 64) bgCache.delete(bgCache.keys().next().value as string);
    bgCache.set(g.key, p);
  }
  return p;
}

function chestSvg(g: ChestGeometry): string {
  const W = g.interiorWidthMm;
  const D = g.interiorDepthMm;
  const R = g.rimHeightMm;
  const f = (x: number, y: number, z: number) => projectTop(g, x, y, z);
  const rect = (x0: number, y0: number, x1: number, y1: number, z: number): Quad => [
    f(x0, y0, z),
    f(x1, y0, z),
    f(x1, y1, z),
    f(x0, y1, z),
  ];
  const [tl, tr, br, bl] = rect(0, 0, W, D, R);
  const [ftl, ftr, fbr, fbl] = rect(0, 0, W, D, 0) as Quad;
  const body = rect(-40, -40, W + 40, D + 40, R);
  let baskets = '';
  for (let r = 0; r < g.rows; r++) {
    const y0 = g.marginMm + r * g.pitchYMm + 3;
    const y1 = y0 + g.pitchYMm - 6;
    const x0 = g.marginMm - 8;
    const x1 = W - g.marginMm + 8;
    // Basket floor grid, then its rim wire at basket height.
    baskets += `<polygon points="${pts(rect(x0, y0, x1, y1, 2))}" fill="#aeb7bf"/>`;
    for (let c = 0; c <= g.cols; c++) {
      const x = g.marginMm + c * g.pitchXMm;
      const [a, b] = [f(x, y0, 2), f(x, y1, 2)];
      baskets += `<line x1="${a[0].toFixed(1)}" y1="${a[1].toFixed(1)}" x2="${b[0].toFixed(1)}" y2="${b[1].toFixed(1)}" stroke="#7f8a94" stroke-width="1.5"/>`;
    }
    for (let k = 1; k < 4; k++) {
      const y = y0 + ((y1 - y0) * k) / 4;
      const [a, b] = [f(x0, y, 2), f(x1, y, 2)];
      baskets += `<line x1="${a[0].toFixed(1)}" y1="${a[1].toFixed(1)}" x2="${b[0].toFixed(1)}" y2="${b[1].toFixed(1)}" stroke="#8f99a2" stroke-width="1"/>`;
    }
    baskets += `<polygon points="${pts(rect(x0, y0, x1, y1, 2))}" fill="none" stroke="#6c7680" stroke-width="2.5"/>`;
    baskets += `<polygon points="${pts(rect(x0, y0, x1, y1, g.basketHeightMm))}" fill="none" stroke="#9aa3ab" stroke-width="2"/>`;
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${g.width}" height="${g.height}">` +
    `<rect width="${g.width}" height="${g.height}" fill="#9c968c"/>` +
    `<polygon points="${pts(body)}" fill="#eef1f3" stroke="#b8bec4" stroke-width="3"/>` +
    // Inner walls, lit from above: far wall brightest, near wall in shadow.
    `<polygon points="${pts([tl, tr, ftr, ftl])}" fill="#dde4ea"/>` +
    `<polygon points="${pts([bl, br, fbr, fbl])}" fill="#b4bec7"/>` +
    `<polygon points="${pts([tl, bl, fbl, ftl])}" fill="#c9d2d9"/>` +
    `<polygon points="${pts([tr, br, fbr, ftr])}" fill="#c9d2d9"/>` +
    `<polygon points="${pts([ftl, ftr, fbr, fbl])}" fill="#c3ccd3"/>` +
    baskets +
    `<polygon points="${pts([tl, tr, br, bl])}" fill="none" stroke="#7d868e" stroke-width="4"/>` +
    `</svg>`
  );
}

/** Layers and truth of a chest cooler: stacks drawn lowest first, so upper items hide lower ones. */
export async function buildChestScene(plan: Planogram, stock: Stock, rng: Rng): Promise<BuiltScene> {
  const g = chestGeometry(plan);
  const bg = await chestBackground(g);
  const foreign = new Set(foreignProducts().map((e) => e.sku));
  const objects: TruthObject[] = [];
  const shapes: ObjectShape[] = [];
  const items: { z: number; order: number; layer: ComposeLayer }[] = [];
  for (let r = 0; r < plan.rows.length; r++) {
    const row = plan.rows[r]!;
    for (let c = 0; c < row.columns.length; c++) {
      // Items settle to the basket floor: the stack is the non-null slots, top-most first.
      const stack = (stock[r]?.[c] ?? []).filter((s): s is string => s !== null);
      const [cx, cy] = cellCenterMm(g, r, c);
      if (stack.length === 0) {
        const half = g.pitchXMm / 2 - 5;
        const halfY = g.pitchYMm / 2 - 5;
        const [x0, y0] = projectTop(g, cx - half, cy - halfY, 0);
        const [x1, y1] = projectTop(g, cx + half, cy + halfY, 0);
        const box: Box = [
          Math.round(x0),
          Math.round(y0),
          Math.round(x1) - Math.round(x0),
          Math.round(y1) - Math.round(y0),
        ];
        objects.push(emptyObject(row.columns[c]!, r, c, box));
        shapes.push({ kind: 'rect', x: box[0], y: box[1], w: box[2], h: box[3] });
        continue;
      }
      for (let j = 0; j < stack.length; j++) {
        const sku = stack[j]!;
        const entry = productBySku(sku);
        if (!entry) throw new Error(`stock holds unknown sku ${sku}`);
        const level = stack.length - 1 - j;
        const zTop = (level + 1) * entry.pack.heightMm;
        const s = chestScale(g, zTop);
        const jx = rng.range(-6, 6);
        const jy = rng.range(-6, 6);
        const carton = entry.pack.format.startsWith('carton') && entry.pack.volumeMl < 1000;
        const angle = carton ? rng.pick([0, 90, 180, 270]) + rng.pick([-15, 0, 0, 15]) : rng.int(0, 23) * 15;
        const w = Math.max(1, Math.round(entry.pack.widthMm * s));
        const h = Math.max(1, Math.round(entry.pack.depthMm * s));
        // Lower items get less light from the shop ceiling.
        const sprite = await packTopSprite(sku, w, h, 1 - 0.13 * j, angle);
        const [u, v] = projectTop(g, cx + jx, cy + jy, zTop);
        const left = Math.round(u - sprite.width / 2);
        const top = Math.round(v - sprite.height / 2);
        const isForeign = foreign.has(sku);
        const box: Box = [left, top, sprite.width, sprite.height];
        objects.push({
          kind: isForeign ? 'unknown' : 'product',
          category: isForeign ? UNKNOWN_CATEGORY : sku,
          sku,
          plannedSku: row.columns[c]!,
          row: r,
          column: c,
          depth: j,
          facing: j === 0,
          pose: 'upright',
          rotationDeg: ((angle % 360) + 360) % 360,
          bbox: box,
          amodalBbox: box,
          occlusion: 0,
          visible: true,
        });
        shapes.push({ kind: 'sprite', sprite, left, top });
        items.push({ z: zTop, order: items.length, layer: { sprite, left, top, id: objects.length - 1 } });
      }
    }
  }
  items.sort((a, b) => a.z - b.z || a.order - b.order);
  return {
    width: g.width,
    height: g.height,
    cols: g.cols,
    background: bg,
    layers: items.map((i) => i.layer),
    objects,
    shapes,
  };
}

function emptyObject(plannedSku: string, row: number, column: number, box: Box): TruthObject {
  return {
    kind: 'empty',
    category: EMPTY_CATEGORY,
    sku: null,
    plannedSku,
    row,
    column,
    depth: 0,
    facing: false,
    pose: 'upright',
    rotationDeg: 0,
    bbox: box,
    amodalBbox: box,
    occlusion: 0,
    visible: true,
  };
}

export { emptyObject };
