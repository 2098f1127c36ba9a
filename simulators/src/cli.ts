#!/usr/bin/env node
/**
 * shelfsight-sim: dataset export, catalog export and virtual HTTP cameras.
 * Usage errors exit with code 2, runtime failures with 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { startVirtualCameras } from './cameras/index.js';
import { exportCatalog } from './dataset/catalogExport.js';
import { currentDataset, exportDataset, type DatasetProgress } from './dataset/export.js';
import { log } from './util/log.js';

const USAGE = `usage:
  sim dataset --out DIR --count N --seed S [--difficulty easy|default|hard|mixed] [--fixture mixed|upright|chest|shelf] [--extra-brands N] [--reuse]
      --fixture defaults to mixed (50 % upright, 25 % chest, 25 % shelf, drawn per image);
      --difficulty defaults to default; mixed = 25 % easy, 50 % default, 25 % hard;
      --extra-brands N stocks the scenes with N invented brands (syn... SKUs, not in the catalog) to train an embedder on;
      --reuse keeps DIR when it already holds this set made by the current simulator code
  sim catalog --out DIR
  sim serve [--port 8090] [--host 127.0.0.1] [--cameras 4] [--seed 1] [--speed 60] [--sales-per-hour 40]`;

class UsageError extends Error {}

const intArg = (name: string, min: number, max: number) =>
  z
    .string({ message: `--${name} is required` })
    .regex(/^\d+$/, { message: `--${name} must be a whole number` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { message: `--${name} must be >= ${min}` })
        .max(max, { message: `--${name} must be <= ${max}` }),
    );

const numArg = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, { message: `--${name} must be a number` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { message: `--${name} must be >= ${min}` })
        .max(max, { message: `--${name} must be <= ${max}` }),
    );

const DatasetArgs = z.strictObject({
  out: z.string({ message: '--out DIR is required' }).min(1),
  count: intArg('count', 1, 1_000_000),
  seed: intArg('seed', 0, 2 ** 32 - 1),
  difficulty: z
    .enum(['easy', 'default', 'hard', 'mixed'], { message: '--difficulty must be easy, default, hard or mixed' })
    .default('default'),
  fixture: z
    .enum(['mixed', 'upright', 'shelf', 'chest'], { message: '--fixture must be mixed, upright, shelf or chest' })
    .default('mixed'),
  'extra-brands': intArg('extra-brands', 0, 999).default(0),
  reuse: z.boolean().default(false),
});

const CatalogArgs = z.strictObject({ out: z.string({ message: '--out DIR is required' }).min(1) });

const ServeArgs = z.strictObject({
  port: intArg('port', 0, 65535).default(8090),
  host: z.string().min(1).default('127.0.0.1'),
  cameras: intArg('cameras', 1, 64).default(4),
  seed: intArg('seed', 0, 2 ** 32 - 1).default(1),
  speed: numArg('speed', 0, 100_000).default(60),
  'sales-per-hour': numArg('sales-per-hour', 0, 100_000).default(40),
});

function parse<T extends z.ZodType>(schema: T, args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const r = schema.safeParse(values);
  if (!r.success) throw new UsageError(r.error.issues.map((i) => i.message).join('; '));
  return r.data as z.infer<T>;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'dataset': {
      const a = parse(DatasetArgs, rest, {
        out: { type: 'string' },
        count: { type: 'string' },
        seed: { type: 'string' },
        difficulty: { type: 'string' },
        fixture: { type: 'string' },
        'extra-brands': { type: 'string' },
        reuse: { type: 'boolean' },
      });
      const opts = { ...a, extraBrands: a['extra-brands'] };
      if (a.reuse && (await currentDataset(opts))) {
        log.info({ out: a.out }, `${a.out} already holds this set, made by the current simulator code: kept`);
        return 0;
      }
      const t0 = performance.now();
      const coco = await exportDataset({
        ...opts,
        onProgress: (p: DatasetProgress) => {
          const per = Object.entries(p.byFixture)
            .map(([f, v]) => `${f} ${v.imagesPerCoreS.toFixed(1)}`)
            .join(', ');
          log.info(
            {
              done: p.done,
              total: p.total,
              imagesPerS: p.imagesPerS,
              imagesPerCoreS: p.imagesPerCoreS,
              byFixture: p.byFixture,
            },
            `${p.done}/${p.total} images, ${p.imagesPerS.toFixed(1)} images/s wall, ${p.imagesPerCoreS.toFixed(1)} images/s per core (${per})`,
          );
        },
      });
      const s = (performance.now() - t0) / 1000;
      log.info(
        { out: a.out, images: coco.images.length, annotations: coco.annotations.length },
        `wrote ${coco.images.length} images and ${coco.annotations.length} annotations to ${a.out} in ${s.toFixed(1)} s (${(coco.images.length / s).toFixed(1)} images/s)`,
      );
      return 0;
    }
    case 'catalog': {
      const a = parse(CatalogArgs, rest, { out: { type: 'string' } });
      const { skus } = await exportCatalog(a.out);
      log.info({ out: a.out, skus }, `wrote catalog.json and ${skus} pack images to ${a.out}`);
      return 0;
    }
    case 'serve': {
      const a = parse(ServeArgs, rest, {
        port: { type: 'string' },
        host: { type: 'string' },
        cameras: { type: 'string' },
        seed: { type: 'string' },
        speed: { type: 'string' },
        'sales-per-hour': { type: 'string' },
      });
      const server = await startVirtualCameras({
        port: a.port,
        host: a.host,
        cameras: a.cameras,
        seed: a.seed,
        speed: a.speed,
        salesPerHour: a['sales-per-hour'],
      });
      log.info(
        { url: server.url, cameras: server.cameras.length },
        `serving ${server.cameras.length} cameras at ${server.url}/cameras`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      log.info('shutting down');
      await server.close();
      return 0;
    }
    case undefined:
    case '-h':
    case '--help':
      console.error(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n${USAGE}`);
      process.exit(2);
    }
    log.error({ err }, 'failed');
    process.exit(1);
  },
);
