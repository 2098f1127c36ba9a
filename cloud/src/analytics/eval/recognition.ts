/**
 * Recognition in the loop: a sampled subset of the market's branded coolers is rendered at every
 * capture with the simulator's renderer, the real edge recognition pipeline (detector + embedder +
 * gallery + layout) turns each frame into counts, and those counts go through the same analytics
 * as the perfect-count stream. Weekly sales are then compared with the simulator's true sales, next
 * to the same subset fed with perfect counts, so what recognition adds to the error is visible.
 *
 * The simulator and the recognizer are loaded at run time (paths from the eval CLI), so the cloud
 * package has no build dependency on either.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import type { CaptureLike } from '../load.js';
import { AnalyticsEngine } from '../engine.js';
import { DEFAULT_SALES_OPTIONS, type SalesOptions } from '../sales.js';
import { checkSales, checkSalesTotals, engineFor, type SalesCheck, type TruthLike } from './truthcheck.js';

interface Snapshot {
  fixtureId: string;
  capturedAt: string;
  positions: { row: number; column: number; sku: string; foreign: boolean; units: number }[];
}
interface FixtureLike {
  fixtureId: string;
  outletId: string;
  kind: 'branded-cooler' | 'shelf';
  positions: { row: number; column: number; sku: string; depth: number }[];
}

/** What the eval needs from `simulators/dist/market/index.js`. */
export interface RenderingSim {
  runMarket: (cfg: {
    seed: number;
    outlets: number;
    weeks: number;
    captureIntervalMin: number;
    renderableCoolers: boolean;
    snapshotFixtures: string[];
    promotions: boolean;
  }) => {
    world: { master: { fixtures: FixtureLike[] } };
    observations: CaptureLike[];
    truth: TruthLike;
    snapshots: Snapshot[];
  };
  renderMarketCapture: (
    fixture: FixtureLike,
    snap: Snapshot,
    seed: number,
    difficulty?: 'easy' | 'default' | 'hard',
  ) => Promise<{ jpeg: Buffer }>;
}

/** What the eval needs from `edge-agent/dist/recognition/index.js`. */
export interface RecognitionModule {
  loadRecognizer: (opts: { modelDir: string; logger?: unknown }) => Promise<{
    readonly model: { name: string; version: string };
    recognize(image: Buffer): Promise<{
      skus: { sku: string; count: number; facings: number }[];
      emptyFacings: number;
      unknownProducts: number;
      inferenceMs: number;
    }>;
    close(): Promise<void>;
  }>;
}

export interface RecognitionLoopOptions {
  seed: number;
  /** Market size the sample is drawn from, and how many of its branded coolers are rendered. */
  outlets: number;
  sampledFixtures: number;
  weeks: number;
  captureIntervalMin: number;
  difficulty: 'easy' | 'default' | 'hard';
  modelDir: string;
  log?: (msg: string) => void;
  /**
   * JSON file of recognised frames: reused when it was written for the same seed, market, sample,
   * interval, difficulty and model files (sha256), else (re)written. Rendering + recognition is
   * most of the loop's time; the analytics can then be iterated on without it.
   */
  cacheFile?: string;
}

interface CachedFrame {
  fixtureId: string;
  capturedAt: string;
  skus: { sku: string; count: number; facings: number }[];
  emptyFacings: number;
  unknownProducts: number;
  inferenceMs: number;
  renderMs: number;
}

export interface CountAccuracy {
  frames: number;
  /** (frame, SKU) pairs over SKUs present in truth or prediction. */
  pairs: number;
  /** Share of those pairs whose recognised count equals the true units. */
  countExact: number;
  /** Share within ±1 unit. */
  countWithinOne: number;
  /** Mean |recognised − true| per pair. */
  countMae: number;
  /** Σ recognised ÷ Σ true units − 1, catalog SKUs only (negative = undercount). */
  countBias: number;
  /** Share of true (frame, SKU) presences the recognizer reported with count > 0. */
  skuPresenceRecall: number;
  /** Share of recognised (frame, SKU) presences that are really there. */
  skuPresencePrecision: number;
}

export interface RecognitionLoopResult {
  fixtures: string[];
  captureIntervalMin: number;
  weeks: number;
  model: string;
  counts: CountAccuracy;
  /** Weekly sales per outlet-SKU against truth from recognised counts, default estimator (`levels`). */
  sales: LoopSales;
  /**
   * The same recognised counts through other estimators: `drops` (count decreases, restock = any
   * rise of 1 unit: the estimator before the stock-level model), `dropsRestock3` (rises < 3 units
   * are noise), `levelsNoUndercountCorrection` (`levels` without stretching readings onto capacity).
   */
  byEstimator: { drops: LoopSales; dropsRestock3: LoopSales; levelsNoUndercountCorrection: LoopSales };
  /** The same subset and captures with the simulator's exact counts (what recognition adds to this). */
  salesPerfectCounts: LoopSales;
  salesPerfectCountsDrops: LoopSales;
  /**
   * Where the error comes from. Count level, per (frame, SKU) with e = recognised − true units:
   * mean e (bias), variance of the per-(fixture, SKU) mean e (systematic per SKU: undercounting
   * that differs by pack, look-alike confusion) and the variance around it (frame-to-frame noise);
   * per frame, the fixture total's mean and sd of e (SKU confusion cancels in the total, undercount
   * does not). Sales level: weekly MAPE of two synthetic count streams built from the true counts,
   * `biasOnly` = E[recognised | true units] (this run's mean recognised count per true count) and
   * `noiseOnly` = true + (recognised − that mean), through `drops` and `levels`.
   */
  errorSources: {
    countErrorMean: number;
    countErrorVarBetweenFixtureSku: number;
    countErrorVarWithin: number;
    fixtureTotalErrorMean: number;
    fixtureTotalErrorSd: number;
    meanRecognisedByTrueUnits: number[];
    biasOnly: { drops: number; levels: number };
    noiseOnly: { drops: number; levels: number };
  };
  renderMsMean: number;
  inferenceMsMean: number;
  elapsedS: number;
}

/** Weekly outlet-SKU check, totals, per-fixture weekly totals and persistent error share. */
export type LoopSales = SalesCheck & {
  estimatedUnits: number;
  trueUnits: number;
  fixtureTotalMape: number;
  persistentShare: number;
};

const loopSales = (engine: AnalyticsEngine, truth: TruthLike): LoopSales => ({
  ...checkSales(engine, truth),
  estimatedUnits: engine.sales('total').reduce((s, r) => s + r.units, 0),
  trueUnits: truth.sales.reduce((s, r) => s + r.units, 0),
  ...checkSalesTotals(engine, truth),
});

export const recognitionInLoop = async (
  sim: RenderingSim,
  rec: RecognitionModule,
  opts: RecognitionLoopOptions,
): Promise<RecognitionLoopResult> => {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  // Evenly spaced outlets; their branded coolers (the fixture kind the models are trained for).
  const step = Math.max(1, Math.floor(opts.outlets / opts.sampledFixtures));
  const ids = Array.from(
    { length: Math.min(opts.sampledFixtures, opts.outlets) },
    (_, i) => `o${String(i * step + 1).padStart(3, '0')}-c1`,
  );
  const run = sim.runMarket({
    seed: opts.seed,
    outlets: opts.outlets,
    weeks: opts.weeks,
    captureIntervalMin: opts.captureIntervalMin,
    renderableCoolers: true,
    snapshotFixtures: ids,
    promotions: false,
  });
  const fixtures = new Map(run.world.master.fixtures.map((f) => [f.fixtureId, f]));
  const sample = new Set(ids);
  const byMessage = new Map<string, CaptureLike>();
  for (const o of run.observations) if (sample.has(o.fixtureId)) byMessage.set(`${o.fixtureId}|${o.capturedAt}`, o);
  const snaps = run.snapshots;
  // model.json and every file a section of it names (the nets, the gallery): a change to any re-runs the loop.
  const modelJson = readFileSync(path.join(opts.modelDir, 'model.json'));
  const sections = Object.values(JSON.parse(modelJson.toString('utf8')) as Record<string, unknown>);
  const named = sections.flatMap((v) =>
    v && typeof v === 'object' && typeof (v as { file?: unknown }).file === 'string'
      ? [(v as { file: string }).file]
      : [],
  );
  const modelHash = createHash('sha256').update(modelJson);
  for (const f of named) modelHash.update(readFileSync(path.join(opts.modelDir, f)));
  const cacheKey = JSON.stringify({
    seed: opts.seed,
    outlets: opts.outlets,
    weeks: opts.weeks,
    captureIntervalMin: opts.captureIntervalMin,
    difficulty: opts.difficulty,
    fixtures: ids,
    models: modelHash.digest('hex'),
  });
  let frames: CachedFrame[] | null = null;
  let model = '';
  if (opts.cacheFile) {
    try {
      const c = JSON.parse(readFileSync(opts.cacheFile, 'utf8')) as {
        key: string;
        model: string;
        frames: CachedFrame[];
      };
      if (c.key === cacheKey && c.frames.length === snaps.length) {
        frames = c.frames;
        model = c.model;
        log(`recognition loop: ${frames.length} recognised frames from ${opts.cacheFile}`);
      }
    } catch {
      // No usable cache: recognise.
    }
  }
  if (!frames) {
    // The recognizer logs through pino; keep stdout for the eval's JSON.
    const recognizer = await rec.loadRecognizer({
      modelDir: opts.modelDir,
      logger: pino({ level: 'warn' }, pino.destination(2)),
    });
    model = `${recognizer.model.name}@${recognizer.model.version}`;
    const out: CachedFrame[] = [];
    // Two-stage pipeline: render frame i+1 while frame i is being recognised.
    const render = (i: number) => {
      const s = snaps[i]!;
      const t = Date.now();
      return sim
        .renderMarketCapture(fixtures.get(s.fixtureId)!, s, opts.seed * 1_000_003 + i, opts.difficulty)
        .then((r) => ({ ...r, ms: Date.now() - t }));
    };
    let next = snaps.length ? render(0) : null;
    for (let i = 0; i < snaps.length; i++) {
      const frame = await next!;
      next = i + 1 < snaps.length ? render(i + 1) : null;
      const s = snaps[i]!;
      const r = await recognizer.recognize(frame.jpeg);
      out.push({
        fixtureId: s.fixtureId,
        capturedAt: s.capturedAt,
        skus: r.skus.map((k) => ({ sku: k.sku, count: k.count, facings: k.facings })),
        emptyFacings: r.emptyFacings,
        unknownProducts: r.unknownProducts,
        inferenceMs: r.inferenceMs,
        renderMs: frame.ms,
      });
      if ((i + 1) % 50 === 0 || i + 1 === snaps.length)
        log(`recognition loop: ${i + 1}/${snaps.length} frames (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    await recognizer.close();
    frames = out;
    if (opts.cacheFile) {
      mkdirSync(path.dirname(opts.cacheFile), { recursive: true });
      writeFileSync(opts.cacheFile, JSON.stringify({ key: cacheKey, model, frames }));
    }
  }

  const recognised: CaptureLike[] = [];
  let renderMs = 0;
  let inferMs = 0;
  const acc = {
    pairs: 0,
    exact: 0,
    withinOne: 0,
    absErr: 0,
    predUnits: 0,
    trueUnits: 0,
    tp: 0,
    truePres: 0,
    predPres: 0,
  };
  // (frame index, fixture, SKU, true units, recognised units) for the error decomposition.
  const pairs: { i: number; key: string; t: number; p: number }[] = [];
  for (let i = 0; i < snaps.length; i++) {
    const s = snaps[i]!;
    const r = frames[i]!;
    renderMs += r.renderMs;
    inferMs += r.inferenceMs;
    const obs = byMessage.get(`${s.fixtureId}|${s.capturedAt}`);
    recognised.push({
      outletId: fixtures.get(s.fixtureId)!.outletId,
      fixtureId: s.fixtureId,
      capturedAt: s.capturedAt,
      skus: r.skus,
      emptyFacings: r.emptyFacings,
      unknownProducts: r.unknownProducts,
    });
    // Count accuracy against the physical truth of the frame (every unit is drawn: renderable coolers).
    const truthCounts = new Map<string, number>();
    for (const p of s.positions)
      if (!p.foreign && p.units > 0) truthCounts.set(p.sku, (truthCounts.get(p.sku) ?? 0) + p.units);
    const pred = new Map<string, number>();
    for (const k of r.skus) pred.set(k.sku, (pred.get(k.sku) ?? 0) + k.count);
    for (const sku of new Set([...truthCounts.keys(), ...pred.keys()])) {
      const t = truthCounts.get(sku) ?? 0;
      const p = pred.get(sku) ?? 0;
      acc.pairs++;
      pairs.push({ i, key: `${s.fixtureId}|${sku}`, t, p });
      if (t === p) acc.exact++;
      if (Math.abs(t - p) <= 1) acc.withinOne++;
      acc.absErr += Math.abs(t - p);
      acc.predUnits += p;
      acc.trueUnits += t;
      if (t > 0) acc.truePres++;
      if (p > 0) acc.predPres++;
      if (t > 0 && p > 0) acc.tp++;
    }
    // Planned SKUs neither there nor recognised: (0, 0) pairs for the decomposition's E[recognised | 0].
    for (const p of fixtures.get(s.fixtureId)!.positions)
      if (
        !truthCounts.has(p.sku) &&
        !pred.has(p.sku) &&
        !pairs.some((q) => q.i === i && q.key === `${s.fixtureId}|${p.sku}`)
      )
        pairs.push({ i, key: `${s.fixtureId}|${p.sku}`, t: 0, p: 0 });
    if (obs === undefined) log(`recognition loop: no observation for ${s.fixtureId} at ${s.capturedAt}`);
  }

  const truth: TruthLike = { ...run.truth, sales: run.truth.sales.filter((x) => sample.has(x.fixtureId)) };
  const master = run.world.master;
  const recEngine = engineFor(recognised, master);
  const withSales = (e: AnalyticsEngine, sales: Partial<SalesOptions>) =>
    new AnalyticsEngine(e.series, e.master, { sales: { ...DEFAULT_SALES_OPTIONS, ...sales } });
  const perfect = engineFor(
    run.observations.filter((o) => sample.has(o.fixtureId)),
    master,
  );

  // Error decomposition (see RecognitionLoopResult.errorSources).
  const byTrue: [number, number][] = [];
  for (const q of pairs) {
    const x = (byTrue[q.t] ??= [0, 0]);
    x[0] += q.p;
    x[1]++;
  }
  const h = (t: number) => (byTrue[t]?.[1] ? byTrue[t][0] / byTrue[t][1] : t);
  const errs = pairs.map((q) => q.p - q.t);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const byKey = new Map<string, number[]>();
  for (const q of pairs) byKey.set(q.key, [...(byKey.get(q.key) ?? []), q.p - q.t]);
  const keyMean = new Map([...byKey].map(([k, v]) => [k, mean(v)]));
  const e0 = mean(errs);
  const frameErr = new Map<number, number>();
  for (const q of pairs) frameErr.set(q.i, (frameErr.get(q.i) ?? 0) + q.p - q.t);
  const fe = [...frameErr.values()];
  const synthetic = (count: (t: number, p: number) => number): CaptureLike[] =>
    recognised.map((c, i) => ({
      ...c,
      skus: pairs
        .filter((q) => q.i === i)
        .map((q) => {
          const v = Math.max(0, count(q.t, q.p));
          return { sku: q.key.slice(q.key.indexOf('|') + 1), count: v, facings: Math.min(v, 3) };
        }),
    }));
  const mapeOf = (obs: CaptureLike[], sales: Partial<SalesOptions>) =>
    checkSales(withSales(engineFor(obs, master), sales), truth).mape;
  const biasOnly = synthetic((t) => h(t));
  const noiseOnly = synthetic((t, p) => t + p - h(t));
  const errorSources = {
    countErrorMean: e0,
    countErrorVarBetweenFixtureSku: mean(pairs.map((q) => (keyMean.get(q.key)! - e0) ** 2)),
    countErrorVarWithin: mean(pairs.map((q) => (q.p - q.t - keyMean.get(q.key)!) ** 2)),
    fixtureTotalErrorMean: mean(fe),
    fixtureTotalErrorSd: Math.sqrt(mean(fe.map((x) => (x - mean(fe)) ** 2))),
    meanRecognisedByTrueUnits: byTrue.map((_, t) => h(t)),
    biasOnly: { drops: mapeOf(biasOnly, { method: 'drops' }), levels: mapeOf(biasOnly, {}) },
    noiseOnly: { drops: mapeOf(noiseOnly, { method: 'drops' }), levels: mapeOf(noiseOnly, {}) },
  };
  const n = Math.max(1, snaps.length);
  return {
    fixtures: ids,
    captureIntervalMin: opts.captureIntervalMin,
    weeks: opts.weeks,
    model,
    counts: {
      frames: snaps.length,
      pairs: acc.pairs,
      countExact: acc.exact / Math.max(1, acc.pairs),
      countWithinOne: acc.withinOne / Math.max(1, acc.pairs),
      countMae: acc.absErr / Math.max(1, acc.pairs),
      countBias: acc.trueUnits ? acc.predUnits / acc.trueUnits - 1 : 0,
      skuPresenceRecall: acc.tp / Math.max(1, acc.truePres),
      skuPresencePrecision: acc.tp / Math.max(1, acc.predPres),
    },
    sales: loopSales(recEngine, truth),
    byEstimator: {
      drops: loopSales(withSales(recEngine, { method: 'drops' }), truth),
      dropsRestock3: loopSales(withSales(recEngine, { method: 'drops', restockMinUnits: 3 }), truth),
      levelsNoUndercountCorrection: loopSales(withSales(recEngine, { fullShare: 0 }), truth),
    },
    salesPerfectCounts: loopSales(perfect, truth),
    salesPerfectCountsDrops: loopSales(withSales(perfect, { method: 'drops' }), truth),
    errorSources,
    renderMsMean: renderMs / n,
    inferenceMsMean: inferMs / n,
    elapsedS: (Date.now() - t0) / 1000,
  };
};
