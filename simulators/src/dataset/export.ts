import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadCatalog, toCatalogJson } from '../catalog/catalog.js';
import { syntheticProducts } from '../catalog/synthetic.js';
import type { CatalogEntry } from '../catalog/types.js';
import { EMPTY_CATEGORY, UNKNOWN_CATEGORY } from '../catalog/types.js';
import { fixtureGeometry } from '../fixtures/geometry.js';
import { DEFAULT_STOCK, makePlanogram, makeStock, type StockOptions } from '../fixtures/planogram.js';
import type { FixtureKind } from '../fixtures/types.js';
import type { Difficulty } from '../perturb/params.js';
import { renderScene, type Pose, type SceneTruth } from '../render/scene.js';
import { hashString, Rng } from '../util/rng.js';
import { simulatorFingerprint } from './fingerprint.js';

/** `mixed` draws each image's fixture (or difficulty) from a fixed mix, deterministically per image. */
export type FixtureChoice = FixtureKind | 'mixed';
export type DifficultyChoice = Difficulty | 'mixed';

/** Documented mixes: the upright door camera is the main product, chest and shelf share the rest. */
export const FIXTURE_MIX: Record<FixtureKind, number> = { upright: 0.5, chest: 0.25, shelf: 0.25 };
export const DIFFICULTY_MIX: Record<Difficulty, number> = { easy: 0.25, default: 0.5, hard: 0.25 };

export interface DatasetProgress {
  done: number;
  total: number;
  /** Wall-clock images/s since the start. */
  imagesPerS: number;
  /** Images per CPU-second of this process (main thread + libvips threads): images/s per core. */
  imagesPerCoreS: number;
  /** Per fixture: images done and images per CPU-second spent rendering that fixture. */
  byFixture: Partial<Record<FixtureKind, { images: number; imagesPerCoreS: number }>>;
}

export interface DatasetOptions {
  out: string;
  count: number;
  seed: number;
  difficulty: DifficultyChoice;
  /** Default `mixed` (see FIXTURE_MIX). */
  fixture?: FixtureChoice;
  /** Scenes rendered at once; 2 overlaps JS composition with libvips JPEG encoding. */
  concurrency?: number;
  onProgress?: (p: DatasetProgress) => void;
  /** Progress every N images (default 50). */
  progressEvery?: number;
  /**
   * Stock the scenes with this many invented brands (`syn…` SKUs, never in the catalog) instead of
   * the catalog's products, for training an SKU embedder on more packs than the catalog has. 0: off.
   */
  extraBrands?: number;
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
  /** `upright`, `tilted` (leaning) or `toppled` (lying on its side). */
  pose: Pose;
  amodal_bbox: [number, number, number, number];
}

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
  truth_file: string;
  /** Fixture of this image (`upright`, `chest`, `shelf`): evaluation breaks results down by it. */
  fixture: FixtureKind;
  difficulty: Difficulty;
}

export interface CocoDataset {
  info: Record<string, unknown>;
  images: CocoImage[];
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
 * Stable category ids: catalog order, then `__empty__`, then `__unknown__`, then the invented
 * brands' products when a set has them. Training and evaluation can rely on the same id meaning
 * the same SKU across exports.
 */
export function cocoCategories(extraBrands = 0): CocoCategory[] {
  const cats: CocoCategory[] = loadCatalog().map((e, i) => ({ id: i + 1, name: e.sku, supercategory: e.brand }));
  cats.push({ id: cats.length + 1, name: EMPTY_CATEGORY, supercategory: 'empty' });
  cats.push({ id: cats.length + 1, name: UNKNOWN_CATEGORY, supercategory: 'unknown' });
  for (const e of syntheticProducts(extraBrands))
    cats.push({ id: cats.length + 1, name: e.sku, supercategory: e.brand });
  return cats;
}

export const imageName = (i: number) => String(i).padStart(6, '0');

/** Scene i of a dataset depends only on (seed, i), so any image can be regenerated alone. */
export function sceneSeed(seed: number, index: number): number {
  return hashString(`scene|${seed}|${index}`);
}

function pickMix<K extends string>(mix: Record<K, number>, u: number): K {
  const keys = Object.keys(mix) as K[];
  let acc = 0;
  for (const k of keys) {
    acc += mix[k];
    if (u < acc) return k;
  }
  return keys[keys.length - 1]!;
}

/** The fixture and difficulty image `index` gets: fixed ones as given, `mixed` drawn from (seed, index). */
export function imageSetup(
  seed: number,
  index: number,
  fixture: FixtureChoice,
  difficulty: DifficultyChoice,
): { fixture: FixtureKind; difficulty: Difficulty } {
  const r = new Rng(`mix|${seed}|${index}`);
  const uf = r.next();
  const ud = r.next();
  return {
    fixture: fixture === 'mixed' ? pickMix(FIXTURE_MIX, uf) : fixture,
    difficulty: difficulty === 'mixed' ? pickMix(DIFFICULTY_MIX, ud) : difficulty,
  };
}

/** `products` (default: the catalog) are what the planogram and stock draw from. */
export async function renderDatasetScene(
  seed: number,
  index: number,
  difficulty: Difficulty,
  fixture: FixtureKind,
  products?: readonly CatalogEntry[],
) {
  const s = sceneSeed(seed, index);
  const planogram = makePlanogram({ seed: s, fixture, products });
  const g = fixtureGeometry(planogram);
  const stock = makeStock(
    planogram,
    g.rows.map((r) => r.depthSlots),
    new Rng(s ^ 0x5bd1e995),
    STOCK_BY_DIFFICULTY[difficulty],
    products,
  );
  return renderScene({ planogram, stock, seed: s, difficulty });
}

/**
 * The set already in `o.out` when it is this very set: same seed, count, difficulty and fixture
 * choice, rendered by the current simulator code (`info.simulator`). Null otherwise, also for no set
 * or an annotations file cut short by an interrupted export. Caches of generated sets (evaluation,
 * training) ask this before rendering, so a changed renderer or truth is never measured on an old set.
 */
export async function currentDataset(o: DatasetOptions): Promise<CocoDataset | null> {
  let coco: CocoDataset;
  try {
    coco = JSON.parse(await readFile(path.join(path.resolve(o.out), 'annotations.json'), 'utf8')) as CocoDataset;
  } catch {
    return null;
  }
  const i = coco.info ?? {};
  const same =
    i.simulator === simulatorFingerprint() &&
    i.seed === o.seed &&
    i.count === o.count &&
    i.difficulty === o.difficulty &&
    i.fixture === (o.fixture ?? 'mixed') &&
    (i.extra_brands ?? 0) === (o.extraBrands ?? 0);
  return same ? coco : null;
}

export async function exportDataset(o: DatasetOptions): Promise<CocoDataset> {
  const out = path.resolve(o.out);
  await mkdir(path.join(out, 'images'), { recursive: true });
  await mkdir(path.join(out, 'truth'), { recursive: true });
  const extraBrands = o.extraBrands ?? 0;
  const products = extraBrands > 0 ? syntheticProducts(extraBrands) : undefined;
  const categories = cocoCategories(extraBrands);
  const catId = new Map(categories.map((c) => [c.name, c.id]));
  const images: CocoDataset['images'] = [];
  const annotations: CocoAnnotation[] = [];
  const truths: SceneTruth[] = new Array(o.count);
  const setups: { fixture: FixtureKind; difficulty: Difficulty }[] = new Array(o.count);
  const fixtureChoice = o.fixture ?? 'mixed';
  const every = o.progressEvery ?? 50;
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  // CPU time per fixture: each render's share of the process CPU used while it was in flight,
  // split evenly between the renders in flight (concurrency 2 overlaps them).
  const fixCpu = new Map<FixtureKind, { images: number; cpuS: number }>();
  const inFlight = new Set<{ fixture: FixtureKind }>();
  let lastCpu = cpuS(cpu0);
  const account = () => {
    const now = cpuS(cpu0);
    const dt = now - lastCpu;
    lastCpu = now;
    if (inFlight.size === 0) return;
    for (const { fixture: f } of inFlight) {
      const e = fixCpu.get(f) ?? { images: 0, cpuS: 0 };
      e.cpuS += dt / inFlight.size;
      fixCpu.set(f, e);
    }
  };
  let next = 1;
  let done = 0;

  const worker = async () => {
    while (next <= o.count) {
      const i = next++;
      const setup = imageSetup(o.seed, i, fixtureChoice, o.difficulty);
      setups[i - 1] = setup;
      account();
      const token = { fixture: setup.fixture };
      inFlight.add(token);
      const scene = await renderDatasetScene(o.seed, i, setup.difficulty, setup.fixture, products);
      account();
      inFlight.delete(token);
      const e = fixCpu.get(setup.fixture) ?? { images: 0, cpuS: 0 };
      e.images++;
      fixCpu.set(setup.fixture, e);
      const name = imageName(i);
      await Promise.all([
        writeFile(path.join(out, 'images', `${name}.jpg`), scene.jpeg),
        writeFile(path.join(out, 'truth', `${name}.json`), JSON.stringify(scene.truth)),
      ]);
      truths[i - 1] = scene.truth;
      done++;
      if (o.onProgress && (done % every === 0 || done === o.count)) {
        const byFixture: DatasetProgress['byFixture'] = {};
        for (const [f, v] of fixCpu)
          byFixture[f] = { images: v.images, imagesPerCoreS: v.images / Math.max(1e-9, v.cpuS) };
        o.onProgress({
          done,
          total: o.count,
          imagesPerS: done / ((performance.now() - started) / 1000),
          imagesPerCoreS: done / Math.max(1e-9, cpuS(cpu0)),
          byFixture,
        });
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
      fixture: truth.fixture,
      difficulty: setups[k]!.difficulty,
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
        pose: obj.pose,
        amodal_bbox: [...obj.amodalBbox],
      });
    }
  });
  const coco: CocoDataset = {
    info: {
      description: 'ShelfSight synthetic cooler images with exact ground truth',
      generator: '@shelfsight/simulators',
      simulator: simulatorFingerprint(),
      seed: o.seed,
      count: o.count,
      difficulty: o.difficulty,
      fixture: fixtureChoice,
      fixture_mix: fixtureChoice === 'mixed' ? FIXTURE_MIX : undefined,
      difficulty_mix: o.difficulty === 'mixed' ? DIFFICULTY_MIX : undefined,
      extra_brands: extraBrands > 0 ? extraBrands : undefined,
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

function cpuS(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}
