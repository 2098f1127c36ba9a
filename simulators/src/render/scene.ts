import { foreignProducts, productBySku } from '../catalog/catalog.js';
import { EMPTY_CATEGORY, UNKNOWN_CATEGORY } from '../catalog/types.js';
import { columnCenterMm, fixtureGeometry, packRect, project, type FixtureGeometry } from '../fixtures/geometry.js';
import type { Planogram, Stock } from '../fixtures/types.js';
import { perturbToJpeg } from '../perturb/apply.js';
import { samplePerturb, type Difficulty, type PerturbParams } from '../perturb/params.js';
import { hashString, Rng } from '../util/rng.js';
import { composeLayers, type ComposeLayer } from './compose.js';
import { backgroundRaster, plateRasters, priceTag, type PlacedSprite } from './fixtureArt.js';
import { packSprite } from './sprites.js';

export type Box = [x: number, y: number, w: number, h: number];

export interface TruthObject {
  /** `product` is a catalog SKU, `unknown` a product not in the catalog, `empty` a sold-out slot. */
  kind: 'product' | 'unknown' | 'empty';
  /** COCO category name: the SKU, `__unknown__` or `__empty__`. */
  category: string;
  /** The real SKU, also for foreign products (never shown to recognition). */
  sku: string | null;
  /** Planned SKU of this column. */
  plannedSku: string;
  /** Shelf row, 0 = top. */
  row: number;
  /** Column (facing index), 0 = left. */
  column: number;
  /** Position front to back, 0 = at the shelf front. */
  depth: number;
  /** Front-most product of its column: what counts as a facing. */
  facing: boolean;
  /** Visible part of the object in final-image pixels (what a detector can see). */
  bbox: Box;
  /** Whole object as if nothing were in front of it. */
  amodalBbox: Box;
  /** Fraction of the object's opaque pixels hidden by nearer packs, shelf edges and door bars. */
  occlusion: number;
  /** False when fully hidden (kept so stock counts stay complete; excluded from COCO). */
  visible: boolean;
}

export interface SceneTruth {
  width: number;
  height: number;
  fixture: Planogram['fixture'];
  rows: number;
  cols: number;
  planogram: Planogram;
  objects: TruthObject[];
  perturb: PerturbParams;
}

export interface SceneSpec {
  planogram: Planogram;
  stock: Stock;
  /** Seeds layout jitter, prices and perturbations. */
  seed: number;
  difficulty?: Difficulty;
  /** Overrides the sampled perturbations (e.g. a demo camera with a fixed look). */
  perturb?: PerturbParams;
}

export interface RenderedScene {
  jpeg: Buffer;
  width: number;
  height: number;
  truth: SceneTruth;
}

type Layer = ComposeLayer;

const SCENERY = -2;

export function priceOf(sku: string): string {
  const h = hashString(sku);
  return `¥${2 + (h % 9)}.${(h >> 8) % 2 === 0 ? '50' : '00'}`;
}

/** Render a fixture state to a JPEG plus exact per-object ground truth. */
export async function renderScene(spec: SceneSpec): Promise<RenderedScene> {
  const { planogram: plan, stock } = spec;
  const g = fixtureGeometry(plan);
  const rng = new Rng(spec.seed);
  const layoutRng = rng.fork('layout');
  const perturb = spec.perturb ?? samplePerturb(rng.fork('perturb'), spec.difficulty ?? 'default', g.width, g.height);
  const [bg, plates] = await Promise.all([backgroundRaster(g), plateRasters(g)]);

  const objects: TruthObject[] = [];
  const layers: Layer[] = [];
  const foreign = new Set(foreignProducts().map((e) => e.sku));

  // Painter's order: bottom row first, since the shelf plate above a row hides the back of it;
  // within a row, back to front.
  for (let r = plan.rows.length - 1; r >= 0; r--) {
    const row = plan.rows[r]!;
    const plate = plates[r] as PlacedSprite;
    layers.push({ sprite: plate, left: plate.left, top: plate.top, id: SCENERY });
    await pushPriceTags(g, r, row.columns, layoutRng, layers);
    const columns = stock[r] ?? [];
    const maxDepth = Math.max(0, ...columns.map((c) => c.length));
    for (let d = maxDepth - 1; d >= 0; d--) {
      for (let c = 0; c < row.columns.length; c++) {
        const slots = columns[c] ?? [];
        const sku = slots[d];
        if (!sku) continue;
        const entry = productBySku(sku);
        if (!entry) throw new Error(`stock holds unknown sku ${sku}`);
        const front = slots.findIndex((s) => s !== null) === d;
        const jitter = layoutRng.range(-3, 3);
        const rect = packRect(g, r, c, d, entry.pack.widthMm, entry.pack.heightMm, jitter);
        // Cooler lights sit in the door frame, so deeper packs are darker.
        const shade = 1 - 0.11 * d;
        const sprite = await packSprite(sku, rect.w, rect.h, shade);
        const isForeign = foreign.has(sku);
        const box: Box = [rect.x, rect.y, rect.w, rect.h];
        objects.push({
          kind: isForeign ? 'unknown' : 'product',
          category: isForeign ? UNKNOWN_CATEGORY : sku,
          sku,
          plannedSku: row.columns[c]!,
          row: r,
          column: c,
          depth: d,
          facing: front,
          bbox: box,
          amodalBbox: box,
          occlusion: 0,
          visible: true,
        });
        layers.push({ sprite, left: rect.x, top: rect.y, id: objects.length - 1 });
      }
    }
    for (let c = 0; c < row.columns.length; c++) {
      const slots = columns[c] ?? [];
      if (slots.some((s) => s !== null)) continue;
      // A sold-out column: the slot region at the shelf front, planned pack height.
      const rg = g.rows[r]!;
      const cx = columnCenterMm(g, c);
      const half = g.slotWidthMm / 2 - 4;
      const [x0, y0] = project(g, cx - half, rg.yMm + rg.packHeightMm, 0);
      const [x1, y1] = project(g, cx + half, rg.yMm, 0);
      const box: Box = [
        Math.round(x0),
        Math.round(y0),
        Math.round(x1) - Math.round(x0),
        Math.round(y1) - Math.round(y0),
      ];
      objects.push({
        kind: 'empty',
        category: EMPTY_CATEGORY,
        sku: null,
        plannedSku: row.columns[c]!,
        row: r,
        column: c,
        depth: 0,
        facing: false,
        bbox: box,
        amodalBbox: box,
        occlusion: 0,
        visible: true,
      });
    }
  }
  for (const bar of perturb.doorBars) {
    const x = Math.max(0, Math.min(g.width - bar.w, bar.x));
    layers.push({ sprite: solid(bar.w, g.height, [58, 60, 64]), left: x, top: 0, id: SCENERY });
  }

  const composed = Buffer.from(bg.data);
  // Shared scratch buffer: compose + visibility run synchronously, so concurrent renders cannot
  // interleave here, and reusing 5 MB per frame keeps the GC quiet.
  const owner = ownerBuffer(g.width * g.height);
  const opaque = new Float64Array(objects.length);
  composeLayers(composed, g.width, g.height, layers, owner, opaque);
  computeVisibility(g, owner, opaque, objects);
  const jpeg = await perturbToJpeg(composed, g.width, g.height, perturb, rng.fork('noise'));
  return {
    jpeg,
    width: g.width,
    height: g.height,
    truth: {
      width: g.width,
      height: g.height,
      fixture: plan.fixture,
      rows: plan.rows.length,
      cols: g.cols,
      planogram: plan,
      objects,
      perturb,
    },
  };
}

async function pushPriceTags(g: FixtureGeometry, r: number, columns: string[], rng: Rng, layers: Layer[]) {
  const rg = g.rows[r]!;
  let c = 0;
  while (c < columns.length) {
    // One label per block of the same planned SKU, like real shelf-edge labels.
    let end = c;
    while (end + 1 < columns.length && columns[end + 1] === columns[c]) end++;
    const xMid = (columnCenterMm(g, c) + columnCenterMm(g, end)) / 2;
    const [x0, y0] = project(g, xMid - 22, rg.yMm - 3, 0);
    const [x1, y1] = project(g, xMid + 22, rg.yMm - g.plateThicknessMm + 3, 0);
    const w = Math.max(8, Math.round(x1 - x0));
    const h = Math.max(6, Math.round(y1 - y0));
    const tag = await priceTag(priceOf(columns[c]!), w, h, rng.chance(0.15));
    layers.push({ sprite: tag, left: Math.round(x0), top: Math.round(y0), id: SCENERY });
    c = end + 1;
  }
}

const solidCache = new Map<string, { data: Buffer; width: number; height: number }>();
function solid(width: number, height: number, rgb: [number, number, number]) {
  const key = `${width}x${height}|${rgb.join(',')}`;
  let s = solidCache.get(key);
  if (!s) {
    const data = Buffer.alloc(width * height * 4);
    for (let i = 0; i < data.length; i += 4) {
      data[i] = rgb[0];
      data[i + 1] = rgb[1];
      data[i + 2] = rgb[2];
      data[i + 3] = 255;
    }
    s = { data, width, height };
    solidCache.set(key, s);
  }
  return s;
}

let ownerScratch = new Int32Array(0);
function ownerBuffer(n: number): Int32Array {
  if (ownerScratch.length < n) ownerScratch = new Int32Array(n);
  const b = ownerScratch.subarray(0, n);
  b.fill(-1);
  return b;
}

/** What an object still owns in the ownership map after all nearer layers is what the camera sees of it. */
function computeVisibility(g: FixtureGeometry, owner: Int32Array, total: Float64Array, objects: TruthObject[]) {
  const W = g.width;
  const H = g.height;
  const n = objects.length;
  const vis = new Float64Array(n);
  const minX = new Int32Array(n).fill(W);
  const minY = new Int32Array(n).fill(H);
  const maxX = new Int32Array(n).fill(-1);
  const maxY = new Int32Array(n).fill(-1);
  for (let y = 0, i = 0; y < H; y++) {
    for (let x = 0; x < W; x++, i++) {
      const o = owner[i]!;
      if (o < 0) continue;
      vis[o]! += 1;
      if (x < minX[o]!) minX[o] = x;
      if (x > maxX[o]!) maxX[o] = x;
      if (y < minY[o]!) minY[o] = y;
      if (y > maxY[o]!) maxY[o] = y;
    }
  }
  objects.forEach((o, i) => {
    if (o.kind === 'empty') return;
    const t = total[i]!;
    const v = vis[i]!;
    o.occlusion = t > 0 ? Math.round((1 - v / t) * 1000) / 1000 : 1;
    o.visible = v > 0;
    o.bbox = v > 0 ? [minX[i]!, minY[i]!, maxX[i]! - minX[i]! + 1, maxY[i]! - minY[i]! + 1] : [...o.amodalBbox];
  });
}
