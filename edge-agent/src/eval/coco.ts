import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { formatIssues } from '@shelfsight/protocol';
import { z } from 'zod';
import type { Truth } from './metrics.js';

/** The export format of `npm run sim -- dataset` (COCO), as much of it as the evaluation reads. */
const CocoFile = z.object({
  images: z.array(
    z.looseObject({
      id: z.number().int(),
      file_name: z.string().min(1),
      width: z.number().positive(),
      height: z.number().positive(),
      fixture: z.string().optional(),
      difficulty: z.string().optional(),
    }),
  ),
  info: z.looseObject({ fixture: z.string().optional(), difficulty: z.string().optional() }).optional(),
  categories: z.array(z.looseObject({ id: z.number().int(), name: z.string().min(1) })),
  annotations: z.array(
    z.looseObject({
      image_id: z.number().int(),
      category_id: z.number().int(),
      bbox: z.tuple([z.number(), z.number(), z.number().nonnegative(), z.number().nonnegative()]),
    }),
  ),
});
type CocoFile = z.infer<typeof CocoFile>;

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
  const file = join(dir, 'annotations.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`${file}: ${e.code === 'ENOENT' ? 'no such file (is this a dataset folder?)' : e.message}`);
  }
  const parsed = CocoFile.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: not a COCO set: ${formatIssues(parsed.error.issues)}`);
  const coco: CocoFile = parsed.data;
  const cats = new Map(coco.categories.map((c) => [c.id, c.name]));
  const byImage = new Map<number, Truth[]>(coco.images.map((im) => [im.id, []]));
  const sizes = new Map(coco.images.map((im) => [im.id, im]));
  for (const [k, a] of coco.annotations.entries()) {
    const im = sizes.get(a.image_id);
    const name = cats.get(a.category_id);
    // A dangling reference means a broken set: scoring it anyway would quietly drop ground truth.
    if (!im) throw new Error(`${file}: annotations.${k}.image_id: no image has id ${a.image_id}`);
    if (name === undefined)
      throw new Error(`${file}: annotations.${k}.category_id: no category has id ${a.category_id}`);
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
