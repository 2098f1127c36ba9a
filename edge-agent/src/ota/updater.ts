import { access } from 'node:fs/promises';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { OtaAnnouncement, OtaStateName } from '@shelfsight/protocol';
import type { Logger } from 'pino';
import type { Recognizer } from '../recognition/types.js';
import { downloadFile } from './download.js';
import type { ModelStore } from './store.js';
import { verifyAnnouncement } from './verify.js';
import { withTimeout } from '../util/time.js';
import { loadModelConfig, modelFileNames } from '../recognition/config.js';

/**
 * Files every model folder holds; a `model` update lacking one is refused. Its model.json may name
 * more (the column counter): those must come too (see modelFileNames).
 */
export const MODEL_FILES = ['model.json', 'detector.onnx', 'embedder.onnx', 'gallery.json'] as const;
const SELF_TEST_TIMEOUT_MS = 30_000;

export interface OtaHost {
  store: ModelStore;
  trustedKeys: KeyObject[];
  log: Logger;
  /** The recognizer in use and the folder it was loaded from. */
  active(): { recognizer: Recognizer; dir: string };
  load(dir: string): Promise<Recognizer>;
  /** Makes `recognizer` the one captures use; the caller closes the old one. */
  swap(recognizer: Recognizer, dir: string): void;
  /** A stored frame the current model handled well, for the self-test; undefined if none yet. */
  referenceFrame(): Promise<Buffer | undefined>;
  report(state: OtaStateName, detail?: { error?: string; running?: string }): Promise<void>;
}

const products = (r: Awaited<ReturnType<Recognizer['recognize']>>) => r.skus.reduce((n, s) => n + s.count, 0);

/**
 * Runs the new model on the reference frame. It must not fail, and must not go blind where the
 * model in use sees products — the cheapest check that catches a broken or mismatched model.
 */
const selfTest = async (candidate: Recognizer, current: Recognizer, frame: Buffer | undefined): Promise<string> => {
  if (!frame) return 'no reference frame yet: load check only';
  const [next, before] = [
    await withTimeout(candidate.recognize(frame), SELF_TEST_TIMEOUT_MS, 'self-test'),
    await current.recognize(frame),
  ];
  if (products(before) > 0 && products(next) === 0)
    throw new Error(`self-test: new model sees 0 products where the current one sees ${products(before)}`);
  return `self-test ok: ${products(next)} products (current model: ${products(before)})`;
};

/**
 * Installs one announced update: verify the signature, download and hash-check every file,
 * stage a complete folder, switch atomically, self-test, and switch back if the test fails.
 * Resolves with the final state; never throws.
 */
export const applyUpdate = async (ann: OtaAnnouncement, host: OtaHost): Promise<'UPDATED' | 'FAILED'> => {
  const { manifest } = ann;
  const log = host.log.child({ ota: `${manifest.kind}@${manifest.version}` });
  const fail = async (error: string, running: string) => {
    log.error({ error }, 'update failed');
    await host.report('FAILED', { error, running });
    return 'FAILED' as const;
  };
  const { recognizer: current, dir: currentDir } = host.active();
  const runningVersion = manifest.kind === 'model' ? current.model.version : current.gallery.version;

  try {
    verifyAnnouncement(ann, host.trustedKeys);
  } catch (err) {
    return fail((err as Error).message, runningVersion);
  }
  const names = manifest.files.map((f) => f.path);
  if (new Set(names).size !== names.length) return fail('manifest lists a file twice', runningVersion);
  const required = manifest.kind === 'model' ? MODEL_FILES : (['gallery.json'] as const);
  const missing = required.filter((f) => !names.includes(f));
  if (missing.length) return fail(`manifest lacks ${missing.join(', ')}`, runningVersion);

  await host.report('DOWNLOADING');
  // A gallery update keeps the running nets: start from a copy of the current folder's model files.
  let keep: string[] = [];
  if (manifest.kind === 'gallery') {
    try {
      const running = await loadModelConfig(currentDir);
      keep = modelFileNames(running).filter((f) => f !== running.gallery.file);
    } catch (err) {
      return fail(`current model folder unreadable: ${(err as Error).message}`, runningVersion);
    }
  }
  const staged = await host.store.stage(
    manifest.version,
    manifest.kind === 'gallery' ? { from: currentDir, files: keep } : undefined,
  );
  try {
    for (const file of manifest.files) await downloadFile(file, staged);
  } catch (err) {
    return fail((err as Error).message, runningVersion);
  }
  await host.report('DOWNLOADED');
  try {
    for (const f of MODEL_FILES) await access(path.join(staged, f));
    for (const f of modelFileNames(await loadModelConfig(staged))) await access(path.join(staged, f));
  } catch (err) {
    return fail(`staged folder incomplete: ${(err as Error).message}`, runningVersion);
  }
  await host.report('VERIFIED');

  await host.report('UPDATING');
  const previous = await host.store.activate(staged);
  let candidate: Recognizer | undefined;
  try {
    candidate = await host.load(staged);
    const note = await selfTest(candidate, current, await host.referenceFrame());
    log.info({ note }, 'self-test passed');
  } catch (err) {
    await candidate?.close().catch(() => undefined);
    // Roll back: the link goes back to what ran before (or away, if the shipped folder was in use).
    if (previous) await host.store.activate(previous);
    else await host.store.clear();
    return fail(`rolled back: ${(err as Error).message}`, runningVersion);
  }
  host.swap(candidate, staged);
  await current.close().catch(() => undefined);
  await host.store.prune([staged, previous]);
  const running = manifest.kind === 'model' ? candidate.model.version : candidate.gallery.version;
  await host.report('UPDATED', { running });
  log.info({ running }, 'update installed');
  return 'UPDATED';
};
