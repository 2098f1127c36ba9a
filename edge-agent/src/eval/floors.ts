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
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { loadRecognizer } from '../recognition/index.js';
import { nextGalleryVersion } from '../recognition/enroll.js';
import type { GalleryFile } from '../recognition/gallery.js';
import {
  fractionArg,
  loadSet,
  parseFlags,
  recogniseFile,
  REPO,
  runCli,
  simulateSet,
  UsageError,
  wholeArg,
} from './cli.js';
import { matchFrame } from './metrics.js';
import { floorsFrom } from './similarity-floors.js';

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

const Args = z.strictObject({
  dataset: z.string().min(1).optional(),
  count: wholeArg('count', 1, Number.MAX_SAFE_INTEGER),
  seed: wholeArg('seed', 0, Number.MAX_SAFE_INTEGER),
  models: z.string().min(1),
  quantile: fractionArg('quantile'),
  slack: fractionArg('slack'),
  'min-samples': wholeArg('min-samples', 1, Number.MAX_SAFE_INTEGER),
  write: z.boolean(),
  'cache-dir': z.string().min(1),
});

async function main(): Promise<void> {
  const a = parseFlags(OPTIONS, Args);
  const log = pino({ name: 'calibrate-floors', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  let dir = a.dataset;
  if (!dir) {
    dir = join(a['cache-dir'], `calib-mixed-s${a.seed}-n${a.count}`);
    simulateSet(dir, [
      '--count',
      String(a.count),
      '--seed',
      String(a.seed),
      '--difficulty',
      'mixed',
      '--fixture',
      'mixed',
    ]);
  }
  const galleryPath = join(a.models, 'gallery.json');
  const gallery = JSON.parse(
    await readFile(galleryPath, 'utf8').catch((err: Error) => {
      throw new UsageError(`--models ${a.models}: ${err.message}`);
    }),
  ) as GalleryFile;
  const images = await loadSet(dir, 0.9);
  const rec = await loadRecognizer({ modelDir: a.models, logger: log });
  const samples = new Map<string, number[]>();
  const t0 = performance.now();
  for (const [i, im] of images.entries()) {
    const r = await recogniseFile(rec, im.path, {
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

runCli('calibrate-floors', main);
