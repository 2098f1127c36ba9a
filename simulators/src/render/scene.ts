import { foreignProducts, productBySku } from '../catalog/catalog.js';
import { UNKNOWN_CATEGORY } from '../catalog/types.js';
import { columnCenterMm, fixtureGeometry, packRect, project, type FixtureGeometry } from '../fixtures/geometry.js';
import type { Planogram, Stock } from '../fixtures/types.js';
import { perturbToJpeg } from '../perturb/apply.js';
import { samplePerturb, type Difficulty, type PerturbParams } from '../perturb/params.js';
import { hashString, Rng } from '../util/rng.js';
import { buildChestScene, emptyObject } from './chest.js';
import { composeLayers, type ComposeLayer } from './compose.js';
import { backgroundRaster, handSprite, plateRasters, priceTag, type PlacedSprite } from './fixtureArt.js';
import { lensMap } from './lens.js';
import type { Box, BuiltScene, ObjectShape, Pose, SceneTruth, TruthObject } from './sceneTypes.js';
import { packSprite, rotatedPackSprite } from './sprites.js';
import { finishTruth, OCCLUDER, SCENERY } from './truth.js';

export type { Box, Pose, SceneTruth, TruthObject } from './sceneTypes.js';

/** How often a front-most pack leans (tilted) or lies on its side (toppled). */
export interface PoseRates {
  tiltedRate: number;
  toppledRate: number;
}

export const POSE_RATES: Record<Difficulty, PoseRates> = {
  easy: { tiltedRate: 0.02, toppledRate: 0.01 },
  default: { tiltedRate: 0.05, toppledRate: 0.02 },
  hard: { tiltedRate: 0.08, toppledRate: 0.05 },
};

export interface SceneSpec {
  planogram: Planogram;
  stock: Stock;
  /** Seeds layout jitter, prices and perturbations. */
  seed: number;
  difficulty?: Difficulty;
  /** Overrides the sampled perturbations (e.g. a demo camera with a fixed look). */
  perturb?: PerturbParams;
  /** Overrides the difficulty's tilted / toppled pack rates (front fixtures). */
  poses?: PoseRates;
  /** Also return the final (distorted) ownership map, for tests and tools. */
  withOwnerMap?: boolean;
}

export interface RenderedScene {
  jpeg: Buffer;
  width: number;
  height: number;
  truth: SceneTruth;
  /**
   * With `withOwnerMap`: per final-image pixel, the index in truth.objects of the object seen there,
   * or < 0 (fixture, bars, hand). The truth boxes are tight boxes of these pixels.
   */
  ownerMap?: Int32Array;
}

export function priceOf(sku: string): string {
  const h = hashString(sku);
  return `¥${2 + (h % 9)}.${(h >> 8) % 2 === 0 ? '50' : '00'}`;
}

/** Render a fixture state to a JPEG plus exact per-object ground truth. */
export async function renderScene(spec: SceneSpec): Promise<RenderedScene> {
  const { planogram: plan, stock } = spec;
  const difficulty = spec.difficulty ?? 'default';
  const rng = new Rng(spec.seed);
  const layoutRng = rng.fork('layout');
  const W = 1280;
  const H = 960;
  const perturb = spec.perturb ?? samplePerturb(rng.fork('perturb'), difficulty, W, H, plan.fixture);
  const built =
    plan.fixture === 'chest'
      ? await buildChestScene(plan, stock, layoutRng)
      : await buildFrontScene(plan, stock, layoutRng, spec.poses ?? POSE_RATES[difficulty]);
  const { layers, objects, shapes, width, height } = built;

  // Nearest things last: a shopper's arm, then door / lid frame bars.
  if (perturb.hand) {
    const hand = await handSprite(perturb.hand, width, height);
    if (hand) layers.push({ sprite: hand, left: hand.left, top: hand.top, id: OCCLUDER });
  }
  for (const bar of perturb.doorBars) {
    const x = Math.max(0, Math.min(width - bar.w, bar.x));
    layers.push({ sprite: solid(bar.w, height, [58, 60, 64]), left: x, top: 0, id: OCCLUDER });
  }

  const composed = Buffer.from(built.background.data);
  // Shared scratch buffer: compose + visibility run synchronously, so concurrent renders cannot
  // interleave here, and reusing 5 MB per frame keeps the GC quiet.
  const owner = ownerBuffer(width * height);
  const opaque = new Float64Array(objects.length);
  composeLayers(composed, width, height, layers, owner, opaque);
  const lens = perturb.lens ? lensMap(perturb.lens, width, height) : null;
  const finalOwner = finishTruth(width, height, objects, shapes, owner, opaque, lens);
  const ownerMap = spec.withOwnerMap ? Int32Array.from(finalOwner) : undefined;
  const jpeg = await perturbToJpeg(composed, width, height, perturb, rng.fork('noise'), lens);
  return {
    jpeg,
    width,
    height,
    ...(ownerMap ? { ownerMap } : {}),
    truth: {
      width,
      height,
      fixture: plan.fixture,
      rows: plan.rows.length,
      cols: built.cols,
      planogram: plan,
      objects,
      perturb,
    },
  };
}

/** Upright cooler and ambient shelf: shelves seen from the front, packs back to front. */
async function buildFrontScene(plan: Planogram, stock: Stock, layoutRng: Rng, poses: PoseRates): Promise<BuiltScene> {
  const g = fixtureGeometry(plan);
  const [bg, plates] = await Promise.all([backgroundRaster(g), plateRasters(g)]);
  const objects: TruthObject[] = [];
  const shapes: ObjectShape[] = [];
  const layers: ComposeLayer[] = [];
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
    // A toppled pack lies across the shelf front, in front of its neighbours: drawn last in its row.
    const lying: ComposeLayer[] = [];
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
        // Only the front-most pack of a column can lean or fall over (the ones behind are held).
        const u = layoutRng.next();
        const pose: Pose = !front
          ? 'upright'
          : u < poses.toppledRate
            ? 'toppled'
            : u < poses.toppledRate + poses.tiltedRate
              ? 'tilted'
              : 'upright';
        const side = layoutRng.chance(0.5) ? 1 : -1;
        const rotationDeg = pose === 'toppled' ? 90 * side : pose === 'tilted' ? side * layoutRng.int(3, 5) * 3 : 0;
        const sprite =
          rotationDeg === 0
            ? await packSprite(sku, rect.w, rect.h, shade)
            : await rotatedPackSprite(sku, rect.w, rect.h, shade, rotationDeg);
        // Rotated packs keep their column centre and rest on the shelf surface.
        const cx = rect.x + rect.w / 2;
        const left = Math.round(cx - sprite.width / 2);
        const top = rect.y + rect.h - sprite.height;
        const isForeign = foreign.has(sku);
        const box: Box = [left, top, sprite.width, sprite.height];
        objects.push({
          kind: isForeign ? 'unknown' : 'product',
          category: isForeign ? UNKNOWN_CATEGORY : sku,
          sku,
          plannedSku: row.columns[c]!,
          row: r,
          column: c,
          depth: d,
          facing: front,
          pose,
          rotationDeg,
          bbox: box,
          amodalBbox: box,
          occlusion: 0,
          visible: true,
        });
        shapes.push({ kind: 'sprite', sprite, left, top });
        (pose === 'toppled' ? lying : layers).push({ sprite, left, top, id: objects.length - 1 });
      }
    }
    layers.push(...lying);
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
      objects.push(emptyObject(row.columns[c]!, r, c, box));
      shapes.push({ kind: 'rect', x: box[0], y: box[1], w: box[2], h: box[3] });
    }
  }
  return { width: g.width, height: g.height, cols: g.cols, background: bg, layers, objects, shapes };
}

async function pushPriceTags(g: FixtureGeometry, r: number, columns: string[], rng: Rng, layers: ComposeLayer[]) {
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
