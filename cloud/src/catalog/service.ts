import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Logger } from 'pino';
import {
  EnrollError,
  enrollIntoGallery,
  type EnrollShot,
  type GalleryFile,
  type Neighbour,
} from '@shelfsight/edge-agent/recognition';
import type { MasterDataRegistry, SkuMaster } from '../masterdata/index.js';

export interface CatalogOptions {
  /** Cloud data dir; ':memory:' keeps the catalog in a temp dir for the process's life. */
  dataDir: string;
  /**
   * Model folder (model.json, embedder.onnx, gallery.json) whose embedder the devices run. Without
   * it reference images are still stored, but nothing can be enrolled.
   */
  modelDir?: string | undefined;
  masterdata: MasterDataRegistry;
  /** Called after enrolment added a SKU to the master data (analytics caches depend on it). */
  onMasterDataChanged?: () => void;
  logger: Logger;
}

export interface ReferenceImage {
  id: string;
  /** Pack box in 0-1 fractions of the original image, when the image is a whole-scene photo. */
  box?: [number, number, number, number];
  name?: string;
  width: number;
  height: number;
  addedAt: string;
  addedBy: string;
  /** Whether the image went into the SKU's current gallery prototype. */
  enrolled: boolean;
}

export interface GalleryChange {
  version: string;
  previousVersion: string | null;
  sku: string | null;
  shots: number;
  at: string;
  by: string;
}

export interface UploadImage {
  data: Buffer;
  box?: [number, number, number, number] | undefined;
  name?: string | undefined;
}

export interface AddReferencesResult {
  sku: string;
  references: ReferenceImage[];
  /** Set when the images were enrolled: the new gallery version and the look-alikes to check. */
  gallery?: { name: string; version: string; previousVersion: string };
  nearest?: Neighbour[];
}

/** A request that cannot be served as asked; the router maps it to 400 (or 503 for `unavailable`). */
export class CatalogError extends Error {
  constructor(
    message: string,
    readonly param: string,
    readonly unavailable = false,
  ) {
    super(message);
    this.name = 'CatalogError';
  }
}

const THUMB_PX = 240;
const VERSION_FILE = /^(\d+\.\d+\.\d+.*)\.json$/;
const cmpSemver = (a: string, b: string): number => {
  const pa = a.split(/[.+-]/).map((x) => Number(x));
  const pb = b.split(/[.+-]/).map((x) => Number(x));
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return a.localeCompare(b);
};

/**
 * The SKU catalog's recognition side: reference images per SKU and the versioned gallery of SKU
 * prototypes the devices match crops against. Enrolment embeds the uploaded images with the same
 * embedder (and crop path) as the devices, so a new SKU is recognised without retraining; each
 * enrolment writes a new immutable gallery version, which release tooling signs and ships by OTA.
 *
 * Files: `catalog/galleries/<version>.json`, `catalog/history.jsonl`,
 * `catalog/references/<sku>/<id>.{orig,thumb.jpg,json}`.
 */
export class CatalogService {
  private current: GalleryFile | null = null;
  private history: GalleryChange[] = [];
  /** Enrolments run one at a time: each one reads the current version and writes the next. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly opts: CatalogOptions,
  ) {}

  static async open(opts: CatalogOptions): Promise<CatalogService> {
    const dir =
      opts.dataDir === ':memory:'
        ? await mkdtemp(path.join(tmpdir(), 'shelfsight-catalog-'))
        : path.join(opts.dataDir, 'catalog');
    const svc = new CatalogService(dir, opts);
    await mkdir(path.join(dir, 'galleries'), { recursive: true });
    await mkdir(path.join(dir, 'references'), { recursive: true });
    await svc.load();
    return svc;
  }

  private async load(): Promise<void> {
    try {
      this.history = (await readFile(path.join(this.dir, 'history.jsonl'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as GalleryChange);
    } catch {
      this.history = [];
    }
    const versions = (await readdir(path.join(this.dir, 'galleries')))
      .map((f) => VERSION_FILE.exec(f)?.[1])
      .filter((v): v is string => !!v)
      .sort(cmpSemver);
    const latest = versions.at(-1);
    if (latest) {
      this.current = JSON.parse(await readFile(this.galleryPath(latest), 'utf8')) as GalleryFile;
      return;
    }
    // First start: the shipped model's gallery is version one of the catalog's history.
    const shipped = this.opts.modelDir ? path.join(this.opts.modelDir, 'gallery.json') : null;
    if (shipped && existsSync(shipped)) {
      const g = JSON.parse(await readFile(shipped, 'utf8')) as GalleryFile;
      await this.writeGallery(g, { version: g.version, previousVersion: null, sku: null, shots: 0, by: 'model' });
    }
  }

  private galleryPath(version: string): string {
    if (!/^[0-9A-Za-z.+-]{1,64}$/.test(version)) throw new CatalogError(`bad gallery version "${version}"`, 'version');
    return path.join(this.dir, 'galleries', `${version}.json`);
  }

  private async writeGallery(g: GalleryFile, change: Omit<GalleryChange, 'at'>): Promise<void> {
    const file = this.galleryPath(g.version);
    await writeFile(`${file}.tmp`, `${JSON.stringify(g)}\n`);
    await rename(`${file}.tmp`, file);
    const entry = { ...change, at: new Date().toISOString() };
    await appendFile(path.join(this.dir, 'history.jsonl'), `${JSON.stringify(entry)}\n`);
    this.history.push(entry);
    this.current = g;
  }

  /** Whether enrolment can run here, and why not. */
  enrolment(): { available: boolean; reason?: string } {
    if (!this.opts.modelDir) return { available: false, reason: 'the cloud was started without a model folder' };
    if (!this.current) return { available: false, reason: `no gallery.json in ${this.opts.modelDir}` };
    return { available: true };
  }

  masterSkus(): SkuMaster[] {
    return [...this.opts.masterdata.current().skus.values()];
  }

  gallery(): GalleryFile | null {
    return this.current;
  }

  changes(): GalleryChange[] {
    return [...this.history].reverse();
  }

  async galleryVersion(version: string): Promise<GalleryFile | null> {
    try {
      return JSON.parse(await readFile(this.galleryPath(version), 'utf8')) as GalleryFile;
    } catch (err) {
      if (err instanceof CatalogError) throw err;
      return null;
    }
  }

  private refDir(sku: string): string {
    return path.join(this.dir, 'references', encodeURIComponent(sku));
  }

  async references(sku: string): Promise<ReferenceImage[]> {
    let names: string[];
    try {
      names = await readdir(this.refDir(sku));
    } catch {
      return [];
    }
    const metas = await Promise.all(
      names
        .filter((n) => n.endsWith('.json'))
        .map(async (n) => JSON.parse(await readFile(path.join(this.refDir(sku), n), 'utf8')) as ReferenceImage),
    );
    return metas.sort((a, b) => a.addedAt.localeCompare(b.addedAt) || a.id.localeCompare(b.id));
  }

  /** SKUs that have at least one reference image. */
  async skusWithReferences(): Promise<Map<string, ReferenceImage[]>> {
    const out = new Map<string, ReferenceImage[]>();
    for (const d of await readdir(path.join(this.dir, 'references'))) {
      const sku = decodeURIComponent(d);
      const refs = await this.references(sku);
      if (refs.length) out.set(sku, refs);
    }
    return out;
  }

  /** Path of a stored reference image (`thumb`: a JPEG at most 240 px), or null if unknown. */
  referenceFile(sku: string, id: string, thumb: boolean): string | null {
    if (!/^[0-9a-f]{16}$/.test(id)) return null;
    const file = path.join(this.refDir(sku), thumb ? `${id}.thumb.jpg` : `${id}.orig`);
    return existsSync(file) ? file : null;
  }

  /**
   * Stores reference images for a SKU and, with `enroll`, embeds them (with the SKU's earlier
   * references when `withExisting`) into a new gallery version. A SKU missing from master data needs
   * `master` to be added there. Nothing is stored unless every image decodes.
   */
  addReferences(
    sku: string,
    images: readonly UploadImage[],
    opts: { enroll: boolean; by: string; master?: Omit<SkuMaster, 'sku'> | undefined; withExisting?: boolean },
  ): Promise<AddReferencesResult> {
    const run = this.queue.then(() => this.addReferencesNow(sku, images, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async addReferencesNow(
    sku: string,
    images: readonly UploadImage[],
    opts: { enroll: boolean; by: string; master?: Omit<SkuMaster, 'sku'> | undefined; withExisting?: boolean },
  ): Promise<AddReferencesResult> {
    const md = this.opts.masterdata.current();
    const known = md.skus.get(sku);
    if (!known && !opts.master)
      throw new CatalogError(
        `SKU ${sku} is not in the master data; send "master": {brand, own, name, price, unitCost} to add it`,
        'master',
      );
    if (opts.enroll) {
      const why = this.enrolment();
      if (!why.available) throw new CatalogError(`enrolment is unavailable: ${why.reason}`, 'enroll', true);
    }
    // Decode everything first: a corrupt image must fail the request before anything is written.
    const decoded = await Promise.all(
      images.map(async (img, i) => {
        const where = `images.${i}${img.name ? ` (${img.name})` : ''}`;
        try {
          const meta = await sharp(img.data).metadata();
          const width = meta.autoOrient?.width ?? meta.width;
          const height = meta.autoOrient?.height ?? meta.height;
          if (!width || !height) throw new Error('no image size');
          let pipeline = sharp(img.data).rotate();
          if (img.box) {
            const [x, y, w, h] = img.box;
            const left = Math.max(0, Math.floor(x * width));
            const top = Math.max(0, Math.floor(y * height));
            pipeline = pipeline.extract({
              left,
              top,
              width: Math.max(1, Math.min(width - left, Math.round(w * width))),
              height: Math.max(1, Math.min(height - top, Math.round(h * height))),
            });
          }
          const thumb = await pipeline
            .resize(THUMB_PX, THUMB_PX, { fit: 'inside', withoutEnlargement: true })
            .flatten({ background: '#ffffff' })
            .jpeg({ quality: 85 })
            .toBuffer();
          return { ...img, width, height, thumb };
        } catch (err) {
          throw new CatalogError(`${where}: not a decodable JPEG/PNG/WebP image (${(err as Error).message})`, where);
        }
      }),
    );

    let enrolled: Awaited<ReturnType<typeof enrollIntoGallery>> | undefined;
    const existing = opts.enroll && opts.withExisting ? await this.references(sku) : [];
    if (opts.enroll) {
      const shots: EnrollShot[] = [
        ...(await Promise.all(
          existing.map(async (r) => ({
            image: await readFile(path.join(this.refDir(sku), `${r.id}.orig`)),
            ...(r.box ? { box: r.box } : {}),
            label: r.name ?? r.id,
          })),
        )),
        ...images.map((img) => ({ image: img.data, ...(img.box ? { box: img.box } : {}), label: img.name ?? '' })),
      ];
      try {
        enrolled = await enrollIntoGallery(this.opts.modelDir!, this.current!, sku, shots);
      } catch (err) {
        if (!(err instanceof EnrollError)) throw err;
        const i = err.shot === undefined ? undefined : err.shot - existing.length;
        throw new CatalogError(err.message, i === undefined ? 'images' : i >= 0 ? `images.${i}` : 'references');
      }
    }

    const at = new Date().toISOString();
    await mkdir(this.refDir(sku), { recursive: true });
    const refs: ReferenceImage[] = [];
    for (const d of decoded) {
      const id = createHash('sha256').update(d.data).digest('hex').slice(0, 16);
      const meta: ReferenceImage = {
        id,
        ...(d.box ? { box: d.box } : {}),
        ...(d.name ? { name: d.name } : {}),
        width: d.width,
        height: d.height,
        addedAt: at,
        addedBy: opts.by,
        enrolled: opts.enroll,
      };
      const base = path.join(this.refDir(sku), id);
      await writeFile(`${base}.orig`, d.data);
      await writeFile(`${base}.thumb.jpg`, d.thumb);
      await writeFile(`${base}.json.tmp`, JSON.stringify(meta));
      await rename(`${base}.json.tmp`, `${base}.json`);
      refs.push(meta);
    }
    if (!known && opts.master) {
      const data = md.data;
      this.opts.masterdata.import({ ...data, skus: [...data.skus, { sku, ...opts.master }] });
      this.opts.onMasterDataChanged?.();
    }
    if (!enrolled) return { sku, references: refs };
    // A re-enrolment from new images only supersedes the older references of that SKU.
    if (!opts.withExisting)
      for (const r of await this.references(sku))
        if (r.enrolled && !refs.some((x) => x.id === r.id)) {
          const f = path.join(this.refDir(sku), `${r.id}.json`);
          await writeFile(f, JSON.stringify({ ...r, enrolled: false }));
        }
    await this.writeGallery(enrolled.gallery, {
      version: enrolled.gallery.version,
      previousVersion: enrolled.previousVersion,
      sku,
      shots: enrolled.entry.shots ?? images.length,
      by: opts.by,
    });
    this.opts.logger.info(
      { sku, version: enrolled.gallery.version, shots: enrolled.entry.shots, nearest: enrolled.nearest[0] },
      'SKU enrolled into a new gallery version',
    );
    return {
      sku,
      references: refs,
      gallery: {
        name: enrolled.gallery.name,
        version: enrolled.gallery.version,
        previousVersion: enrolled.previousVersion,
      },
      nearest: enrolled.nearest,
    };
  }
}
