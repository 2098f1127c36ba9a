import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModelConfig } from './config.js';
import type { GalleryEntry, GalleryFile } from './gallery.js';
import { decodeLetterboxed } from './image.js';
import type { Box } from './letterbox.js';
import { cropInto, expandBox } from './preprocess.js';

export interface EnrollShot {
  /** Encoded JPEG/PNG: a cooler frame or a photo of the pack. */
  image: Buffer;
  /** Pack box in normalised 0-1 image coordinates; omitted = the whole image is the pack. */
  box?: Box;
}

/**
 * Builds a gallery entry for a SKU from a few reference images with the deployed embedder: new
 * products are enrolled without retraining. Crops go through exactly the device's crop path.
 */
export async function enrollSku(modelDir: string, sku: string, shots: readonly EnrollShot[]): Promise<GalleryEntry> {
  if (shots.length === 0) throw new Error('enrollSku: need at least one reference image');
  const cfg = await loadModelConfig(modelDir);
  const { width: WW, height: WH } = cfg.work ?? cfg.input;
  const { width: EW, height: EH, dim, cropPad } = cfg.embedder;
  const session = await ort.InferenceSession.create(join(modelDir, cfg.embedder.file), { intraOpNumThreads: 1 });
  try {
    const plane = 3 * EW * EH;
    const crops = new Float32Array(shots.length * plane);
    for (const [i, shot] of shots.entries()) {
      const f = await decodeLetterboxed(shot.image, WW, WH, cfg.input.pad);
      const lb = f.letterbox;
      const [nx, ny, nw, nh] = shot.box ?? [0, 0, 1, 1];
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
    }
    const out = await session.run({ crops: new ort.Tensor('float32', crops, [shots.length, 3, EH, EW]) });
    const emb = out.embeddings!.data as Float32Array;
    const mean = new Array<number>(dim).fill(0);
    for (let i = 0; i < shots.length; i++) for (let d = 0; d < dim; d++) mean[d]! += emb[i * dim + d]!;
    const n = Math.hypot(...mean) || 1;
    return { sku, vector: mean.map((v) => Math.round((v / n) * 1e5) / 1e5), shots: shots.length, source: 'enrolled' };
  } finally {
    await session.release();
  }
}

/** Returns a copy of the gallery with `entry` added or replacing the SKU's previous entry. */
export function withEntry(gallery: GalleryFile, entry: GalleryEntry): GalleryFile {
  return { ...gallery, entries: [...gallery.entries.filter((e) => e.sku !== entry.sku), entry] };
}
