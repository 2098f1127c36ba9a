/**
 * Calibrates each gallery SKU's similarity floor (GalleryEntry.minSimilarity) on simulator captures
 * of known SKUs (`npm run calibrate-floors`):
 *
 *   npm run calibrate-floors -- [--dataset DIR] [--count N] [--seed S] [--models DIR] [--quantile Q]
 *                               [--slack D] [--min-samples N] [--write] [--cache-dir DIR]
 *
 * Every front pack whose nearest gallery SKU is its true SKU gives one similarity; a SKU's floor is
 * the Q-quantile of its similarities minus D, kept only where at least N packs were seen. Foreign
 * packs play no part: the floor says how closely the SKU's own packs match, so that a look-alike
 * matching it less closely is reported unknown. Without --dataset a calibration set is generated
 * (seed 7001: never used for training, tuning or evaluation). --write stores the floors in the
 * models' gallery.json and gives it the next gallery version; without it they are only printed.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { z } from 'zod';
import { loadRecognizer } from '../recognition/index.js';
import { nextGalleryVersion } from '../recognition/enroll.js';
import type { GalleryFile } from '../recognition/gallery.js';
import { loadCoco } from './coco.js';
import { matchFrame } from './metrics.js';
import { floorsFrom } from './similarity-floors.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

class UsageError extends Error {}

const OPTIONS = {
  dataset: { type: 'string' },
  count: { type: 'string', default: '200' },
  seed: { type: 'string', default: '7001' },
  models: { type: 'string', default: join(REPO, 'models') },
  quantile: { type: 'string', default: '0.05' },
  slack: { type: 'string', default: '0.15' },
  'min-samples': { type: 'string', default: '10' },
  write: { type: 'boolean', default: false },
  'cache-dir': { type: 'string', default: join(REPO, 'models/training/.cache') },
} as const;

const whole = (name: string, min: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `--${name} must be a whole number` })
    .transform(Number)
    .pipe(z.number().min(min, { message: `--${name} must be >= ${min}` }));
const fraction = (name: string) =>
  z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, { message: `--${name} must be a number from 0 to 1` })
    .transform(Number);

const Args = z.strictObject({
  dataset: z.string().min(1).optional(),
  count: whole('count', 1),
  seed: whole('seed', 0),
  models: z.string().min(1),
  quantile: fraction('quantile'),
  slack: fraction('slack'),
  'min-samples': whole('min-samples', 1),
  write: z.boolean(),
  'cache-dir': z.string().min(1),
});

async function main(): Promise<void> {
  let raw: Record<string, unknown>;
  try {
    raw = parseArgs({ options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const parsed = Args.safeParse(raw);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('; '));
  const a = parsed.data;
  const log = pino({ name: 'calibrate-floors', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  let dir = a.dataset;
  if (!dir) {
    dir = join(a['cache-dir'], `calib-mixed-s${a.seed}-n${a.count}`);
    const args = ['dataset', '--out', dir, '--count', String(a.count), '--seed', String(a.seed)];
    args.push('--difficulty', 'mixed', '--fixture', 'mixed', '--reuse');
    const r = spawnSync(process.execPath, [join(REPO, 'simulators/dist/cli.js'), ...args], { stdio: ['ignore', 2, 2] });
    if (r.status !== 0) throw new Error(`simulator exited with ${r.status}`);
  }
  const galleryPath = join(a.models, 'gallery.json');
  const gallery = JSON.parse(
    await readFile(galleryPath, 'utf8').catch((err: Error) => {
      throw new UsageError(`--models ${a.models}: ${err.message}`);
    }),
  ) as GalleryFile;
  const images = await loadCoco(dir, 0.9).catch((err: Error) => {
    throw new UsageError(`--dataset ${dir}: ${err.message}`);
  });
  const rec = await loadRecognizer({ modelDir: a.models, logger: log });
  const samples = new Map<string, number[]>();
  const t0 = performance.now();
  for (const [i, im] of images.entries()) {
    const r = await rec.recognize(await readFile(im.path), {
      view: im.fixture === 'chest' ? 'top' : 'front',
      // Nearest SKU and similarity before any threshold: floors already in the gallery change nothing here.
      identities: true,
    });
    const m = matchFrame({ truth: im.truth, pred: r.detections });
    r.detections.forEach((d, p) => {
      const t = im.truth[m[p]!];
      const id = r.identities?.[p];
      if (!t || !id || !d.facing || t.facing === false || id.sku !== t.name) return;
      const list = samples.get(t.name) ?? [];
      list.push(id.similarity);
      samples.set(t.name, list);
    });
    if ((i + 1) % 50 === 0 || i + 1 === images.length)
      log.info(
        { done: i + 1, total: images.length },
        `${i + 1}/${images.length} frames (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
  }
  await rec.close();
  const floors = floorsFrom(samples, { quantile: a.quantile, slack: a.slack, minSamples: a['min-samples'] });
  const rows = gallery.entries.map((e) => ({
    sku: e.sku,
    packs: samples.get(e.sku)?.length ?? 0,
    floor: floors.get(e.sku)?.floor ?? null,
  }));
  process.stdout.write(
    `${JSON.stringify({ dataset: dir, quantile: a.quantile, slack: a.slack, skus: rows }, null, 2)}\n`,
  );
  if (a.write) {
    const next: GalleryFile = {
      ...gallery,
      version: nextGalleryVersion(gallery.version),
      entries: gallery.entries.map(({ minSimilarity: _, ...e }) => {
        const f = floors.get(e.sku);
        return f ? { ...e, minSimilarity: f.floor } : e;
      }),
    };
    await writeFile(galleryPath, `${JSON.stringify(next)}\n`);
    log.info({ gallery: galleryPath, version: next.version, floors: floors.size }, 'floors written');
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`calibrate-floors: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`calibrate-floors: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
