import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadCatalog, toCatalogJson } from '../catalog/catalog.js';
import { EMPTY_CATEGORY, UNKNOWN_CATEGORY } from '../catalog/types.js';
import { fixtureGeometry } from '../fixtures/geometry.js';
import { DEFAULT_STOCK, makePlanogram, makeStock, type StockOptions } from '../fixtures/planogram.js';
import type { FixtureKind } from '../fixtures/types.js';
import type { Difficulty } from '../perturb/params.js';
import { renderScene, type SceneTruth } from '../render/scene.js';
import { hashString, Rng } from '../util/rng.js';

export interface DatasetOptions {
  out: string;
  count: number;
  seed: number;
  difficulty: Difficulty;
  fixture: FixtureKind;
  /** Scenes rendered at once; 2 overlaps JS composition with libvips JPEG encoding. */
  concurrency?: number;
  onProgress?: (done: number, total: number, imagesPerS: number) => void;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory: string;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** Visible part, [x, y, w, h] pixels. */
  bbox: [number, number, number, number];
  area: number;
  iscrowd: 0;
  kind: 'product' | 'unknown' | 'empty';
  row: number;
  column: number;
  depth: number;
  facing: boolean;
  occlusion: number;
  amodal_bbox: [number, number, number, number];
}

export interface CocoDataset {
  info: Record<string, unknown>;
  images: { id: number; file_name: string; width: number; height: number; truth_file: string }[];
  categories: CocoCategory[];
  annotations: CocoAnnotation[];
}

const STOCK_BY_DIFFICULTY: Record<Difficulty, StockOptions> = {
  easy: { emptyRate: 0.06, misplacedRate: 0.02, foreignRate: 0.02, pushedBackRate: 0.1 },
  default: DEFAULT_STOCK,
  hard: { emptyRate: 0.12, misplacedRate: 0.08, foreignRate: 0.08, pushedBackRate: 0.3 },
};

/** Objects hidden this much (or smaller than this) are kept in truth files but not annotated. */
export const MAX_ANNOTATED_OCCLUSION = 0.97;
export const MIN_ANNOTATED_PX = 40;

/**
 * Stable category ids: catalog order, then `__empty__`, then `__unknown__`. Training and
 * evaluation can rely on the same id meaning the same SKU across exports.
 */
export function cocoCategories(): CocoCategory[] {
  const cats: CocoCategory[] = loadCatalog().map((e, i) => ({ id: i + 1, name: e.sku, supercategory: e.brand }));
  cats.push({ id: cats.length + 1, name: EMPTY_CATEGORY, supercategory: 'empty' });
  cats.push({ id: cats.length + 1, name: UNKNOWN_CATEGORY, supercategory: 'unknown' });
  return cats;
}

export const imageName = (i: number) => String(i).padStart(6, '0');

/** Scene i of a dataset depends only on (seed, i), so any image can be regenerated alone. */
export function sceneSeed(seed: number, index: number): number {
  return hashString(`scene|${seed}|${index}`);
}

export async function renderDatasetScene(seed: number, index: number, difficulty: Difficulty, fixture: FixtureKind) {
  const s = sceneSeed(seed, index);
  const planogram = makePlanogram({ seed: s, fixture });
  const g = fixtureGeometry(planogram);
  const stock = makeStock(
    planogram,
    g.rows.map((r) => r.depthSlots),
    new Rng(s ^ 0x5bd1e995),
    STOCK_BY_DIFFICULTY[difficulty],
  );
  return renderScene({ planogram, stock, seed: s, difficulty });
}

export async function exportDataset(o: DatasetOptions): Promise<CocoDataset> {
  const out = path.resolve(o.out);
  await mkdir(path.join(out, 'images'), { recursive: true });
  await mkdir(path.join(out, 'truth'), { recursive: true });
  const categories = cocoCategories();
  const catId = new Map(categories.map((c) => [c.name, c.id]));
  const images: CocoDataset['images'] = [];
  const annotations: CocoAnnotation[] = [];
  const truths: SceneTruth[] = new Array(o.count);
  const started = performance.now();
  let next = 1;
  let done = 0;

  const worker = async () => {
    while (next <= o.count) {
      const i = next++;
      const scene = await renderDatasetScene(o.seed, i, o.difficulty, o.fixture);
      const name = imageName(i);
      await Promise.all([
        writeFile(path.join(out, 'images', `${name}.jpg`), scene.jpeg),
        writeFile(path.join(out, 'truth', `${name}.json`), JSON.stringify(scene.truth)),
      ]);
      truths[i - 1] = scene.truth;
      done++;
      if (o.onProgress && (done % 50 === 0 || done === o.count)) {
        o.onProgress(done, o.count, done / ((performance.now() - started) / 1000));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 2) }, worker));

  // Assemble in image order so annotations.json is byte-identical for a seed regardless of timing.
  truths.forEach((truth, k) => {
    const id = k + 1;
    const name = imageName(id);
    images.push({
      id,
      file_name: `images/${name}.jpg`,
      width: truth.width,
      height: truth.height,
      truth_file: `truth/${name}.json`,
    });
    for (const obj of truth.objects) {
      const [, , w, h] = obj.bbox;
      if (!obj.visible || obj.occlusion > MAX_ANNOTATED_OCCLUSION || w * h < MIN_ANNOTATED_PX) continue;
      annotations.push({
        id: annotations.length + 1,
        image_id: id,
        category_id: catId.get(obj.category)!,
        bbox: [...obj.bbox],
        area: w * h,
        iscrowd: 0,
        kind: obj.kind,
        row: obj.row,
        column: obj.column,
        depth: obj.depth,
        facing: obj.facing,
        occlusion: obj.occlusion,
        amodal_bbox: [...obj.amodalBbox],
      });
    }
  });
  const coco: CocoDataset = {
    info: {
      description: 'ShelfSight synthetic cooler images with exact ground truth',
      generator: '@shelfsight/simulators',
      seed: o.seed,
      count: o.count,
      difficulty: o.difficulty,
      fixture: o.fixture,
      bbox: 'visible part of the object, [x, y, w, h] pixels; amodal_bbox is the whole object',
      notes: `objects more than ${MAX_ANNOTATED_OCCLUSION * 100}% hidden or under ${MIN_ANNOTATED_PX} px are only in truth files`,
    },
    images,
    categories,
    annotations,
  };
  await writeFile(path.join(out, 'annotations.json'), JSON.stringify(coco));
  await writeFile(path.join(out, 'catalog.json'), JSON.stringify(toCatalogJson(loadCatalog()), null, 2));
  return coco;
}
