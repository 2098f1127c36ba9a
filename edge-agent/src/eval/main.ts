/**
 * Offline evaluation of the recognition pipeline, run exactly as the agent runs it (`npm run eval`).
 *
 *   npm run eval -- [--json] [--dataset DIR] [--count N] [--seed S] [--difficulty easy|default|hard|mixed]
 *                   [--fixture upright|chest|shelf|mixed] [--models DIR] [--threads N] [--limit N]
 *                   [--score-threshold T] [--unknown-threshold T] [--cache-dir DIR]
 *
 * Without --dataset it generates a held-out set with the simulator CLI (upright fixture unless
 * --fixture says otherwise), using seeds never used for training (training uses seed 101), into
 * --cache-dir (models/training/.cache/), and makes it again when the simulator's code changed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { loadRecognizer, type RecognitionStages } from '../recognition/index.js';
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
import { computeMetrics, percentile, type FrameResult } from './metrics.js';
import { formatReport, targetVerdicts } from './report.js';
import { intervals } from './uncertainty.js';
import { pino } from 'pino';

const EVAL_SEED = 9001;

const EVAL_OPTIONS = {
  json: { type: 'boolean', default: false },
  dataset: { type: 'string' },
  count: { type: 'string', default: '100' },
  seed: { type: 'string', default: String(EVAL_SEED) },
  difficulty: { type: 'string', default: 'default' },
  // The simulator's own default is now `mixed`; the held-out reference set stays upright.
  fixture: { type: 'string', default: 'upright' },
  models: { type: 'string', default: join(REPO, 'models') },
  threads: { type: 'string', default: '1' },
  limit: { type: 'string' },
  'score-threshold': { type: 'string' },
  'unknown-threshold': { type: 'string' },
  'cache-dir': { type: 'string', default: join(REPO, 'models/training/.cache') },
} as const;

/** The flags, checked here (the CLI boundary) so that a typo fails with its name, not as NaN deep in a run. */
const EvalArgs = z.strictObject({
  json: z.boolean(),
  dataset: z.string().min(1).optional(),
  count: wholeArg('count', 1, 100_000),
  seed: wholeArg('seed', 0, 2 ** 32 - 1),
  difficulty: z.enum(['easy', 'default', 'hard', 'mixed'], {
    message: '--difficulty must be easy, default, hard or mixed',
  }),
  fixture: z.enum(['upright', 'chest', 'shelf', 'mixed'], {
    message: '--fixture must be upright, chest, shelf or mixed',
  }),
  models: z.string().min(1),
  threads: wholeArg('threads', 1, 64),
  limit: wholeArg('limit', 1, 1_000_000).optional(),
  'score-threshold': fractionArg('score-threshold').optional(),
  'unknown-threshold': fractionArg('unknown-threshold').optional(),
  'cache-dir': z.string().min(1, { message: '--cache-dir must name a folder' }),
});

async function main(): Promise<void> {
  const values = parseFlags(EVAL_OPTIONS, EvalArgs);
  // In --json mode stdout must hold exactly one JSON object, so progress goes to stderr.
  const log = pino({ name: 'eval', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  let dir = values.dataset;
  if (!dir) {
    const fx = values.fixture === 'upright' ? '' : `${values.fixture}-`;
    dir = join(values['cache-dir'], `eval-${fx}${values.difficulty}-s${values.seed}-n${values.count}`);
    simulateSet(dir, [
      ...['--count', String(values.count), '--seed', String(values.seed)],
      ...['--difficulty', values.difficulty, '--fixture', values.fixture],
    ]);
  }
  // A wrong --models folder is the user's mistake: one line naming it, not a stack trace.
  const modelError = (err: unknown) => new UsageError(`--models ${values.models}: ${(err as Error).message}`);
  const modelJson = (await readFile(join(values.models, 'model.json'), 'utf8')
    .then((t) => JSON.parse(t) as unknown)
    .catch((err: unknown) => {
      throw modelError(err);
    })) as { detector: { maxOcclusion?: number } };
  let images = await loadSet(dir, modelJson.detector.maxOcclusion ?? 1);
  if (values.limit) images = images.slice(0, values.limit);
  const rec = await loadRecognizer({
    modelDir: values.models,
    intraOpNumThreads: values.threads,
    logger: log,
    // Overrides for threshold sweeps; the defaults come from model.json.
    ...(values['score-threshold'] !== undefined ? { scoreThreshold: values['score-threshold'] } : {}),
    ...(values['unknown-threshold'] !== undefined ? { unknownThreshold: values['unknown-threshold'] } : {}),
  }).catch((err: unknown) => {
    throw modelError(err);
  });
  // One warm-up frame: the first run pays for lazy allocations, which the device pays only at boot.
  if (images[0]) await recogniseFile(rec, images[0].path);
  const frames: FrameResult[] = [];
  const latency: number[] = [];
  const stages: RecognitionStages[] = [];
  const groups = { byFixture: new Map<string, Group>(), byDifficulty: new Map<string, Group>() };
  for (const [i, im] of images.entries()) {
    // A chest cooler's camera is configured as looking down, as an agent watching one would be.
    const r = await recogniseFile(rec, im.path, { view: im.fixture === 'chest' ? 'top' : 'front' });
    latency.push(r.inferenceMs);
    stages.push(r.stagesMs);
    const frame = { truth: im.truth, pred: r.detections };
    frames.push(frame);
    for (const [map, key] of [
      [groups.byFixture, im.fixture],
      [groups.byDifficulty, im.difficulty],
    ] as const) {
      const g = map.get(key) ?? { frames: [], latency: [] };
      g.frames.push(frame);
      g.latency.push(r.inferenceMs);
      map.set(key, g);
    }
    if ((i + 1) % 25 === 0) log.info({ done: i + 1, of: images.length }, 'evaluating');
  }
  await rec.close();
  const galleryFile = JSON.parse(await readFile(join(values.models, 'gallery.json'), 'utf8')) as {
    entries: { sku: string; heldOut?: boolean }[];
  };
  const heldOut = new Set(galleryFile.entries.filter((e) => e.heldOut).map((e) => e.sku));
  const m = computeMetrics(frames, heldOut);
  const ci95 = intervals(frames, heldOut);
  // The same metrics per fixture and per difficulty (simulator sets record both per image).
  const breakdown = (map: Map<string, Group>) =>
    Object.fromEntries(
      [...map.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, g]) => [
          k,
          {
            images: g.frames.length,
            ...computeMetrics(g.frames, heldOut),
            ci95: intervals(g.frames, heldOut),
            latencyMs: { p50: percentile(g.latency, 50), p95: percentile(g.latency, 95), mean: mean(g.latency) },
          },
        ]),
    );
  const out = {
    model: rec.model,
    gallery: rec.gallery,
    dataset: dir,
    images: images.length,
    ...m,
    ci95,
    targets: targetVerdicts([...groups.byDifficulty.keys()], ci95),
    latencyMs: { p50: percentile(latency, 50), p95: percentile(latency, 95), mean: mean(latency) },
    // Where the time goes: per stage, its median and mean over the frames (the means add up to latency's).
    stagesMs: Object.fromEntries(
      (['decode', 'detect', 'count', 'identify'] as const).map((k) => {
        const xs = stages.map((st) => st[k]);
        return [k, { p50: percentile(xs, 50), mean: mean(xs) }];
      }),
    ) as Record<keyof RecognitionStages, { p50: number; mean: number }>,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    byFixture: breakdown(groups.byFixture),
    byDifficulty: breakdown(groups.byDifficulty),
  };
  if (values.json) process.stdout.write(JSON.stringify(out) + '\n');
  else console.log(formatReport(out));
}

interface Group {
  frames: FrameResult[];
  latency: number[];
}

function mean(xs: number[]): number {
  return xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100 : 0;
}

runCli('eval', main);
