/** What the offline recognition CLIs (eval, calibrate-floors) share: flag checks, simulated sets, exit codes. */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { ImageDecodeError, type Recognition, type RecognizeOptions, type Recognizer } from '../recognition/index.js';
import { loadCoco, type EvalImage } from './coco.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A bad flag or input path: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** A COCO set (see coco.ts); what is wrong with its annotations.json is said in one line. */
export const loadSet = (dir: string, maxOcclusion: number): Promise<EvalImage[]> =>
  loadCoco(dir, maxOcclusion).catch((err: Error) => {
    throw new UsageError(err.message);
  });

/** One image of a set through the recognizer; an image that is missing or cannot be decoded is named in one line. */
export async function recogniseFile(rec: Recognizer, path: string, opts?: RecognizeOptions): Promise<Recognition> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`${path}: ${e.code === 'ENOENT' ? 'no such file (annotations.json lists it)' : e.message}`);
  }
  try {
    return await rec.recognize(bytes, opts);
  } catch (err) {
    if (err instanceof ImageDecodeError) throw new UsageError(`${path}: ${err.message}`);
    throw err;
  }
}

export const wholeArg = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `--${name} must be a whole number` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { message: `--${name} must be >= ${min}` })
        .max(max, { message: `--${name} must be <= ${max}` }),
    );

export const fractionArg = (name: string) =>
  z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, { message: `--${name} must be a number from 0 to 1` })
    .transform(Number);

/** The flags, checked here (the CLI boundary) so that a typo fails with its name, not as NaN deep in a run. */
export function parseFlags<S extends z.ZodType>(
  options: NonNullable<ParseArgsConfig['options']>,
  schema: S,
): z.infer<S> {
  let raw: Record<string, unknown>;
  try {
    raw = parseArgs({ options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new UsageError(r.error.issues.map((i) => i.message).join('; '));
  return r.data;
}

/**
 * Has the simulator CLI write a dataset into `dir`, kept only if the current simulator code made it
 * (--reuse): a changed renderer or truth is never measured on an old set. Progress goes to stderr.
 */
export function simulateSet(dir: string, args: string[]): void {
  const r = spawnSync(
    process.execPath,
    [join(REPO, 'simulators/dist/cli.js'), 'dataset', '--out', dir, ...args, '--reuse'],
    {
      stdio: ['ignore', 2, 2],
    },
  );
  if (r.status !== 0) throw new Error(`simulator exited with ${r.status}`);
}

/** Runs a CLI's main: a UsageError is one line and exit code 2, anything else a stack and exit code 1. */
export function runCli(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`${name}: ${err.message}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  });
}
