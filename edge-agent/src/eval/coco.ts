import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Truth } from './metrics.js';

interface CocoFile {
  images: {
    id: number;
    file_name: string;
    width: number;
    height: number;
    fixture?: string;
    difficulty?: string;
  }[];
  info?: { fixture?: string; difficulty?: string };
  categories: { id: number; name: string }[];
  annotations: ({ image_id: number; category_id: number; bbox: [number, number, number, number] } & Record<
    string,
    unknown
  >)[];
}

export interface EvalImage {
  path: string;
  width: number;
  height: number;
  /** Fixture / difficulty of the image (simulator sets), else the set-wide value, else 'unknown'. */
  fixture: string;
  difficulty: string;
  truth: Truth[];
}

/** Whether the set marks an object as a facing; simulator sets carry `facing`, others may not. */
function facingOf(a: Record<string, unknown>): boolean | undefined {
  if (typeof a.facing === 'boolean') return a.facing;
  return undefined;
}

/**
 * Loads a COCO set (images/ + annotations.json) with boxes normalised to 0-1. Objects whose
 * `occlusion` exceeds `maxOcclusion` are marked ignore (see Truth.ignore).
 */
export async function loadCoco(dir: string, maxOcclusion = 0.9): Promise<EvalImage[]> {
  const coco = JSON.parse(await readFile(join(dir, 'annotations.json'), 'utf8')) as CocoFile;
  const cats = new Map(coco.categories.map((c) => [c.id, c.name]));
  const byImage = new Map<number, Truth[]>(coco.images.map((im) => [im.id, []]));
  const sizes = new Map(coco.images.map((im) => [im.id, im]));
  for (const a of coco.annotations) {
    const im = sizes.get(a.image_id);
    const name = cats.get(a.category_id);
    if (!im || name === undefined) continue;
    const [x, y, w, h] = a.bbox;
    const truth: Truth = { name, box: [x / im.width, y / im.height, w / im.width, h / im.height] };
    const facing = facingOf(a);
    if (facing !== undefined) truth.facing = facing;
    if (typeof a.occlusion === 'number') {
      truth.occlusion = a.occlusion;
      if (a.occlusion > maxOcclusion) truth.ignore = true;
    }
    if (typeof a.depth === 'number' && Number.isInteger(a.depth) && a.depth >= 0) truth.depth = a.depth;
    byImage.get(a.image_id)!.push(truth);
  }
  return coco.images.map((im) => ({
    path: join(dir, 'images', basename(im.file_name)),
    width: im.width,
    height: im.height,
    fixture: im.fixture ?? coco.info?.fixture ?? 'unknown',
    difficulty: im.difficulty ?? coco.info?.difficulty ?? 'unknown',
    truth: byImage.get(im.id) ?? [],
  }));
}
