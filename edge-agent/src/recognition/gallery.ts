import { readFile } from 'node:fs/promises';

/** One enrolled SKU: an L2-normalised prototype embedding built from a few reference images. */
export interface GalleryEntry {
  sku: string;
  vector: number[];
  /** How many reference images the prototype averages. */
  shots?: number;
  source?: string;
  heldOut?: boolean;
  /** ISO time of the enrolment that produced this prototype. */
  enrolledAt?: string;
}

export interface GalleryFile {
  name: string;
  version: string;
  dim: number;
  /** sha256 prefix of the embedder the vectors came from. */
  embedder?: string;
  entries: GalleryEntry[];
}

/** Row-major matrix of prototypes for fast cosine matching. */
export interface Gallery {
  name: string;
  version: string;
  dim: number;
  skus: string[];
  matrix: Float32Array;
}

export function buildGallery(file: GalleryFile): Gallery {
  const { dim } = file;
  const matrix = new Float32Array(file.entries.length * dim);
  file.entries.forEach((e, i) => {
    if (e.vector.length !== dim) throw new Error(`gallery: ${e.sku} has ${e.vector.length} dims, expected ${dim}`);
    // Re-normalise: rounding in the JSON file must not bias cosine scores.
    const n = Math.hypot(...e.vector) || 1;
    for (let d = 0; d < dim; d++) matrix[i * dim + d] = e.vector[d]! / n;
  });
  return { name: file.name, version: file.version, dim, skus: file.entries.map((e) => e.sku), matrix };
}

export async function loadGallery(path: string): Promise<Gallery> {
  return buildGallery(JSON.parse(await readFile(path, 'utf8')) as GalleryFile);
}

export interface Match {
  /** Best SKU, or undefined when the best similarity is below the unknown threshold. */
  sku: string | undefined;
  similarity: number;
  /** Runner-up similarity, useful to spot look-alike confusions. */
  secondSimilarity: number;
}

/** Cosine match of L2-normalised embeddings (rows of `emb`, `dim` wide) against the gallery. */
export function matchEmbeddings(emb: Float32Array, gallery: Gallery, unknownThreshold: number): Match[] {
  const { dim, matrix, skus } = gallery;
  const n = Math.floor(emb.length / dim);
  const out: Match[] = [];
  for (let r = 0; r < n; r++) {
    let best = -Infinity;
    let second = -Infinity;
    let bi = -1;
    for (let g = 0; g < skus.length; g++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += emb[r * dim + d]! * matrix[g * dim + d]!;
      if (s > best) {
        second = best;
        best = s;
        bi = g;
      } else if (s > second) second = s;
    }
    out.push({
      sku: bi >= 0 && best >= unknownThreshold ? skus[bi] : undefined,
      similarity: Number.isFinite(best) ? best : 0,
      secondSimilarity: Number.isFinite(second) ? second : 0,
    });
  }
  return out;
}
