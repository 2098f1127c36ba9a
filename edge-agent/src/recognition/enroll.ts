import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModelConfig, type ModelConfig } from './config.js';
import { buildGallery, type GalleryEntry, type GalleryFile } from './gallery.js';
import { decodeLetterboxed, ImageDecodeError } from './image.js';
import type { Box } from './letterbox.js';
import { cropInto, expandBox } from './preprocess.js';
import { similarityMatrix } from './prior.js';

export interface EnrollShot {
  /** Encoded JPEG/PNG/WebP: a cooler frame or a photo of the pack. */
  image: Buffer;
  /** Pack box in normalised 0-1 image coordinates; omitted = the whole image is the pack. */
  box?: Box;
  /** Where the image came from (file name, upload index), used in error messages. */
  label?: string;
}

/** Most reference images one enrolment takes: a prototype of 5 already matches the target. */
export const MAX_ENROLL_SHOTS = 20;
/** Smallest pack crop, in pixels of the source image, that still carries a readable label. */
export const MIN_CROP_PX = 12;

/** Bad enrolment input: says which image and what was wrong. */
export class EnrollError extends Error {
  constructor(
    message: string,
    /** Index of the offending image, or undefined when the request as a whole is wrong. */
    readonly shot?: number,
  ) {
    super(message);
    this.name = 'EnrollError';
  }
}

const checkBox = (box: Box, where: string): void => {
  const [x, y, w, h] = box;
  if (![x, y, w, h].every(Number.isFinite) || x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > 1.0001 || y + h > 1.0001)
    throw new Error(`${where}: box must be [x, y, w, h] fractions of the image, inside 0-1, got [${box.join(', ')}]`);
};

/**
 * Builds a gallery entry for a SKU from a few reference images with the deployed embedder: new
 * products are enrolled without retraining. Crops go through exactly the device's crop path.
 */
export async function enrollSku(
  modelDir: string,
  sku: string,
  shots: readonly EnrollShot[],
  /** The model's config when the caller already loaded it. */
  config?: ModelConfig,
): Promise<GalleryEntry> {
  if (shots.length === 0) throw new EnrollError('need at least one reference image');
  if (shots.length > MAX_ENROLL_SHOTS)
    throw new EnrollError(`at most ${MAX_ENROLL_SHOTS} reference images per enrolment, got ${shots.length}`);
  const cfg = config ?? (await loadModelConfig(modelDir));
  const { width: WW, height: WH } = cfg.work ?? cfg.input;
  const { width: EW, height: EH, dim, cropPad } = cfg.embedder;
  const plane = 3 * EW * EH;
  const crops = new Float32Array(shots.length * plane);
  for (const [i, shot] of shots.entries()) {
    const where = `image ${i + 1}${shot.label ? ` (${shot.label})` : ''}`;
    try {
      if (shot.box) checkBox(shot.box, where);
      const f = await decodeLetterboxed(shot.image, WW, WH, cfg.input.pad).catch((err: Error) => {
        const detail = err instanceof ImageDecodeError ? err.detail : err.message;
        throw new Error(`${where}: not a decodable JPEG/PNG/WebP image (${detail})`);
      });
      const lb = f.letterbox;
      const [nx, ny, nw, nh] = shot.box ?? [0, 0, 1, 1];
      if (nw * f.srcWidth < MIN_CROP_PX || nh * f.srcHeight < MIN_CROP_PX)
        throw new Error(`${where}: the pack is smaller than ${MIN_CROP_PX}×${MIN_CROP_PX} px`);
      // Normalised source box -> work pixels, the inverse of toNormalised.
      const box: Box = [
        nx * f.srcWidth * lb.scale + lb.padLeft,
        ny * f.srcHeight * lb.scale + lb.padTop,
        nw * f.srcWidth * lb.scale,
        nh * f.srcHeight * lb.scale,
      ];
      cropInto(
        f.image,
        shot.box ? expandBox(box, cropPad) : box,
        EW,
        EH,
        cfg.input.mean,
        cfg.input.std,
        crops,
        i * plane,
      );
    } catch (err) {
      throw new EnrollError((err as Error).message, i);
    }
  }
  const session = await ort.InferenceSession.create(join(modelDir, cfg.embedder.file), { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ crops: new ort.Tensor('float32', crops, [shots.length, 3, EH, EW]) });
    const emb = out.embeddings!.data as Float32Array;
    const r5 = (v: number) => Math.round(v * 1e5) / 1e5;
    const mean = new Array<number>(dim).fill(0);
    for (let i = 0; i < shots.length; i++) for (let d = 0; d < dim; d++) mean[d]! += emb[i * dim + d]!;
    const n = Math.hypot(...mean) || 1;
    const shotVectors = Array.from({ length: shots.length }, (_, i) =>
      Array.from(emb.subarray(i * dim, (i + 1) * dim), r5),
    );
    return { sku, vector: mean.map((v) => r5(v / n)), shotVectors, shots: shots.length, source: 'enrolled' };
  } finally {
    await session.release();
  }
}

/** Returns a copy of the gallery with `entry` added or replacing the SKU's previous entry. */
export function withEntry(gallery: GalleryFile, entry: GalleryEntry): GalleryFile {
  return { ...gallery, entries: [...gallery.entries.filter((e) => e.sku !== entry.sku), entry] };
}

/**
 * The version after an enrolment: minor bump of the semver core, build metadata dropped
 * (`0.1.0+20261123` → `0.2.0`), so every published gallery has a distinct, ordered version.
 */
export function nextGalleryVersion(version: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) throw new EnrollError(`gallery version "${version}" is not semver (MAJOR.MINOR.PATCH)`);
  return `${m[1]}.${Number(m[2]) + 1}.0`;
}

/**
 * The gallery must have been built with the deployed embedder, or cosine scores between the new
 * prototype and the old ones mean nothing.
 */
export function checkGalleryMatchesModel(gallery: GalleryFile, cfg: ModelConfig): void {
  const sha = cfg.embedder.sha256;
  if (gallery.embedder && sha && !sha.startsWith(gallery.embedder) && !gallery.embedder.startsWith(sha))
    throw new EnrollError(`gallery was built with embedder ${gallery.embedder}, the model's embedder is ${sha}`);
  if (gallery.dim !== cfg.embedder.dim)
    throw new EnrollError(`gallery has ${gallery.dim}-d vectors, the model's embedder makes ${cfg.embedder.dim}-d`);
}

export interface Neighbour {
  sku: string;
  similarity: number;
}

/** The SKUs already in the gallery most similar to `vector`: look-alikes worth a second look. */
export function nearestSkus(gallery: GalleryFile, vector: readonly number[], k = 3, exclude?: string): Neighbour[] {
  const others = gallery.entries.filter((e) => e.sku !== exclude);
  if (others.length === 0) return [];
  const g = buildGallery({ ...gallery, entries: others });
  const n = Math.hypot(...vector) || 1;
  const sims = similarityMatrix(
    Float32Array.from(vector, (v) => v / n),
    g,
  );
  // A SKU's similarity is that of its nearest row (shot), as in matching.
  const best = new Map<string, number>();
  g.skus.forEach((sku, i) => best.set(sku, Math.max(sims[i]!, best.get(sku) ?? -Infinity)));
  const out: Neighbour[] = [...best].map(([sku, s]) => ({ sku, similarity: Math.round(s * 1e4) / 1e4 }));
  return out.sort((a, b) => b.similarity - a.similarity).slice(0, k);
}

export interface EnrollResult {
  gallery: GalleryFile;
  entry: GalleryEntry;
  previousVersion: string;
  /** Nearest other SKUs: a similarity close to the unknown threshold's margin means look-alike risk. */
  nearest: Neighbour[];
}

/** Embeds the shots and returns the next gallery version holding the SKU's new prototype. */
export async function enrollIntoGallery(
  modelDir: string,
  gallery: GalleryFile,
  sku: string,
  shots: readonly EnrollShot[],
  now: Date = new Date(),
  /** The pack front in mm (size.ts tells size variants apart by it); default: what the gallery knew. */
  sizeMm: GalleryEntry['sizeMm'] = gallery.entries.find((e) => e.sku === sku)?.sizeMm,
): Promise<EnrollResult> {
  const cfg = await loadModelConfig(modelDir);
  checkGalleryMatchesModel(gallery, cfg);
  if (sizeMm && !(sizeMm.width > 0 && sizeMm.height > 0))
    throw new EnrollError(`pack size must be positive millimetres, got ${sizeMm.width} x ${sizeMm.height}`);
  const entry: GalleryEntry = {
    ...(await enrollSku(modelDir, sku, shots, cfg)),
    enrolledAt: now.toISOString(),
    ...(sizeMm ? { sizeMm } : {}),
  };
  const next = withEntry({ ...gallery, version: nextGalleryVersion(gallery.version) }, entry);
  return {
    gallery: next,
    entry,
    previousVersion: gallery.version,
    nearest: nearestSkus(gallery, entry.vector, 3, sku),
  };
}
