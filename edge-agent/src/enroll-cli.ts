import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SkuId } from '@shelfsight/protocol';
import { EnrollError, MAX_ENROLL_SHOTS, enrollIntoGallery, type EnrollShot } from './recognition/enroll.js';
import type { GalleryFile } from './recognition/gallery.js';
import type { Box } from './recognition/letterbox.js';

export const ENROLL_USAGE = `usage: shelfsight-agent enroll --model-dir DIR --sku SKU --image FILE [--image FILE ...]
                              [--box x,y,w,h ...] [--size-mm WxH] [--gallery FILE] --out FILE

Embeds 1-${MAX_ENROLL_SHOTS} reference images of one SKU with the model's embedder and writes the next
gallery version with the SKU's prototype added (or replaced). No retraining.

  --model-dir DIR   model folder (model.json, embedder.onnx)
  --sku SKU         SKU id to enrol, e.g. aur-mango-330c
  --image FILE      reference image (JPEG/PNG/WebP); repeat for each shot (5 is plenty)
  --box x,y,w,h     pack box in 0-1 fractions of the image, one per --image in order;
                    without --box each image is a close-up of the pack
  --size-mm WxH     pack front in millimetres, e.g. 66x168 for a 500 ml can: tells size variants
                    with the same art apart (default: the size the gallery already has, if any)
  --gallery FILE    gallery to extend (default DIR/gallery.json)
  --out FILE        where to write the new gallery (may equal --gallery; written atomically)`;

const parseBox = (s: string, i: number): Box => {
  const v = s.split(',').map(Number);
  if (v.length !== 4 || v.some((x) => !Number.isFinite(x)))
    throw new EnrollError(`--box ${i + 1} "${s}": expected four numbers x,y,w,h`);
  return v as Box;
};

const parseSize = (s: string): { width: number; height: number } => {
  const m = /^(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)$/.exec(s);
  if (!m || !(Number(m[1]) > 0 && Number(m[2]) > 0))
    throw new EnrollError(`--size-mm "${s}": expected WIDTHxHEIGHT in millimetres, e.g. 66x168`);
  return { width: Number(m[1]), height: Number(m[2]) };
};

/** `shelfsight-agent enroll …`: returns the exit code; prints a JSON summary on success. */
export const runEnrollCli = async (argv: string[]): Promise<number> => {
  let a;
  try {
    a = parseArgs({
      args: argv,
      options: {
        'model-dir': { type: 'string' },
        sku: { type: 'string' },
        image: { type: 'string', multiple: true },
        box: { type: 'string', multiple: true },
        'size-mm': { type: 'string' },
        gallery: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${ENROLL_USAGE}`);
    return 2;
  }
  if (a.help) {
    console.log(ENROLL_USAGE);
    return 0;
  }
  const missing = (['model-dir', 'sku', 'image', 'out'] as const).filter((k) => !a[k]);
  if (missing.length) {
    console.error(`missing ${missing.map((k) => `--${k}`).join(', ')}\n\n${ENROLL_USAGE}`);
    return 2;
  }
  const sku = SkuId.safeParse(a.sku);
  if (!sku.success) {
    console.error(`--sku "${a.sku}": ${sku.error.issues[0]?.message ?? 'invalid'}`);
    return 2;
  }
  const images = a.image!;
  const boxes = a.box ?? [];
  try {
    if (boxes.length && boxes.length !== images.length)
      throw new EnrollError(`${boxes.length} --box for ${images.length} --image: give one per image or none`);
    const sizeMm = a['size-mm'] === undefined ? undefined : parseSize(a['size-mm']);
    const modelDir = a['model-dir']!;
    const galleryPath = a.gallery ?? path.join(modelDir, 'gallery.json');
    let gallery: GalleryFile;
    try {
      gallery = JSON.parse(await readFile(galleryPath, 'utf8')) as GalleryFile;
    } catch (err) {
      throw new EnrollError(`--gallery ${galleryPath}: ${(err as Error).message}`);
    }
    const shots: EnrollShot[] = await Promise.all(
      images.map(async (file, i) => {
        const image = await readFile(file).catch((err: Error) => {
          throw new EnrollError(`--image ${file}: ${err.message}`, i);
        });
        return { image, label: file, ...(boxes[i] ? { box: parseBox(boxes[i], i) } : {}) };
      }),
    );
    const res = await enrollIntoGallery(modelDir, gallery, sku.data, shots, new Date(), sizeMm);
    const out = a.out!;
    const tmp = `${out}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(res.gallery)}\n`);
    await rename(tmp, out);
    console.log(
      JSON.stringify({
        sku: sku.data,
        shots: shots.length,
        ...(res.entry.sizeMm ? { sizeMm: res.entry.sizeMm } : {}),
        gallery: { name: res.gallery.name, version: res.gallery.version, previousVersion: res.previousVersion },
        nearest: res.nearest,
        out,
      }),
    );
    return 0;
  } catch (err) {
    if (!(err instanceof EnrollError)) throw err;
    console.error(`enroll: ${err.message}`);
    return 2;
  }
};
