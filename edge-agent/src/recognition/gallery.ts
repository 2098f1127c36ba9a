import { readFile } from 'node:fs/promises';

/** One enrolled SKU: an L2-normalised prototype embedding built from a few reference images. */
export interface GalleryEntry {
  sku: string;
  vector: number[];
  /**
   * Each reference image's own embedding. When present a crop matches the SKU through its nearest
   * shot rather than the mean: shots that differ (lit and shaded, upright and tilted) average into a
   * prototype that resembles none of them, which costs new SKUs most (they have no trained class).
   */
  shotVectors?: number[][];
  /** How many reference images the prototype averages. */
  shots?: number;
  source?: string;
  heldOut?: boolean;
  /** ISO time of the enrolment that produced this prototype. */
  enrolledAt?: string;
  /** Pack front in millimetres: lets the shelf scale tell size variants apart (see size.ts). */
  sizeMm?: { width: number; height: number };
  /**
   * A front pack is this SKU only at this cosine similarity or above (else unknown), where that is
   * above the model's unknown threshold: calibrated on captures of known SKUs (eval/floors.ts), it
   * keeps a foreign look-alike from passing as a SKU whose own packs always match closely.
   */
  minSimilarity?: number;
}

export interface GalleryFile {
  name: string;
  version: string;
  dim: number;
  /** sha256 prefix of the embedder the vectors came from. */
  embedder?: string;
  entries: GalleryEntry[];
}

/** Row-major matrix of prototypes for fast cosine matching: one row per reference shot (or mean). */
export interface Gallery {
  name: string;
  version: string;
  dim: number;
  /** The SKU of each matrix row; a SKU enrolled with shot vectors has several rows. */
  skus: string[];
  matrix: Float32Array;
  /** Pack front in mm, for the SKUs whose entry gives sizeMm. */
  sizes: Map<string, { width: number; height: number }>;
  /** Per matrix row, its SKU's minSimilarity (0 where the entry has none). */
  floors: Float32Array;
}

export function buildGallery(file: GalleryFile): Gallery {
  const { dim } = file;
  const rows = file.entries.flatMap((e) =>
    (e.shotVectors?.length ? e.shotVectors : [e.vector]).map((vector, k) => ({ sku: e.sku, vector, k })),
  );
  const matrix = new Float32Array(rows.length * dim);
  rows.forEach(({ sku, vector, k }, i) => {
    if (vector.length !== dim)
      throw new Error(`gallery: ${sku}${k > 0 ? ` shot ${k + 1}` : ''} has ${vector.length} dims, expected ${dim}`);
    // Re-normalise: rounding in the JSON file must not bias cosine scores.
    const n = Math.hypot(...vector) || 1;
    for (let d = 0; d < dim; d++) matrix[i * dim + d] = vector[d]! / n;
  });
  const sizes = new Map<string, { width: number; height: number }>();
  for (const e of file.entries) {
    if (!e.sizeMm) continue;
    const { width, height } = e.sizeMm;
    if (!(width > 0 && height > 0)) throw new Error(`gallery: ${e.sku} sizeMm must be {width > 0, height > 0} mm`);
    sizes.set(e.sku, { width, height });
  }
  const floorOf = new Map<string, number>();
  for (const e of file.entries) {
    if (e.minSimilarity === undefined) continue;
    if (!(typeof e.minSimilarity === 'number' && e.minSimilarity >= 0 && e.minSimilarity <= 1))
      throw new Error(`gallery: ${e.sku} minSimilarity must be a number in [0, 1]`);
    floorOf.set(e.sku, e.minSimilarity);
  }
  const floors = Float32Array.from(rows, (r) => floorOf.get(r.sku) ?? 0);
  return { name: file.name, version: file.version, dim, skus: rows.map((r) => r.sku), matrix, sizes, floors };
}

export async function loadGallery(path: string): Promise<Gallery> {
  return buildGallery(JSON.parse(await readFile(path, 'utf8')) as GalleryFile);
}

export interface Match {
  /** Best SKU, or undefined when the best similarity is below the unknown threshold. */
  sku: string | undefined;
  similarity: number;
  /** Best similarity of any other SKU, useful to spot look-alike confusions. */
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
        if (bi < 0 || skus[bi] !== skus[g]) second = best;
        best = s;
        bi = g;
      } else if (s > second && skus[g] !== skus[bi]) second = s;
    }
    out.push({
      sku: bi >= 0 && best >= unknownThreshold ? skus[bi] : undefined,
      similarity: Number.isFinite(best) ? best : 0,
      secondSimilarity: Number.isFinite(second) ? second : 0,
    });
  }
  return out;
}
