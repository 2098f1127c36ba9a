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
import { pino } from 'pino';
import type { CaptureLike } from '../load.js';
import { AnalyticsEngine } from '../engine.js';
import { DEFAULT_SALES_OPTIONS } from '../sales.js';
import { checkSales, engineFor, type SalesCheck, type TruthLike } from './truthcheck.js';

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
  /** Weekly sales per outlet-SKU against truth, recognised counts, default restock threshold (1 unit). */
  sales: SalesCheck & { estimatedUnits: number; trueUnits: number };
  /** The same with restockMinUnits = 3 (the setting metrics.md suggests for noisy recognition). */
  salesRestock3: SalesCheck & { estimatedUnits: number; trueUnits: number };
  /** The same subset and captures with the simulator's exact counts (what recognition adds to this). */
  salesPerfectCounts: SalesCheck;
  renderMsMean: number;
  inferenceMsMean: number;
  elapsedS: number;
}

const totals = (engine: AnalyticsEngine, truth: TruthLike) => ({
  estimatedUnits: engine.sales('total').reduce((s, r) => s + r.units, 0),
  trueUnits: truth.sales.reduce((s, r) => s + r.units, 0),
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
  // The recognizer logs through pino; keep stdout for the eval's JSON.
  const recognizer = await rec.loadRecognizer({
    modelDir: opts.modelDir,
    logger: pino({ level: 'warn' }, pino.destination(2)),
  });
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
  const snaps = run.snapshots;
  // Two-stage pipeline: render frame i+1 while frame i is being recognised.
  const render = (i: number) => {
    const s = snaps[i]!;
    const t = Date.now();
    return sim
      .renderMarketCapture(fixtures.get(s.fixtureId)!, s, opts.seed * 1_000_003 + i, opts.difficulty)
      .then((r) => ((renderMs += Date.now() - t), r));
  };
  let next = snaps.length ? render(0) : null;
  for (let i = 0; i < snaps.length; i++) {
    const frame = await next!;
    next = i + 1 < snaps.length ? render(i + 1) : null;
    const s = snaps[i]!;
    const r = await recognizer.recognize(frame.jpeg);
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
      if (t === p) acc.exact++;
      if (Math.abs(t - p) <= 1) acc.withinOne++;
      acc.absErr += Math.abs(t - p);
      acc.predUnits += p;
      acc.trueUnits += t;
      if (t > 0) acc.truePres++;
      if (p > 0) acc.predPres++;
      if (t > 0 && p > 0) acc.tp++;
    }
    if (obs === undefined) log(`recognition loop: no observation for ${s.fixtureId} at ${s.capturedAt}`);
    if ((i + 1) % 50 === 0 || i + 1 === snaps.length)
      log(`recognition loop: ${i + 1}/${snaps.length} frames (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  await recognizer.close();

  const truth: TruthLike = { ...run.truth, sales: run.truth.sales.filter((x) => sample.has(x.fixtureId)) };
  const master = run.world.master;
  const recEngine = engineFor(recognised, master);
  const rec3 = new AnalyticsEngine(recEngine.series, recEngine.master, {
    sales: { ...DEFAULT_SALES_OPTIONS, restockMinUnits: 3 },
  });
  const perfect = engineFor(
    run.observations.filter((o) => sample.has(o.fixtureId)),
    master,
  );
  const n = Math.max(1, snaps.length);
  return {
    fixtures: ids,
    captureIntervalMin: opts.captureIntervalMin,
    weeks: opts.weeks,
    model: `${recognizer.model.name}@${recognizer.model.version}`,
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
    sales: { ...checkSales(recEngine, truth), ...totals(recEngine, truth) },
    salesRestock3: { ...checkSales(rec3, truth), ...totals(rec3, truth) },
    salesPerfectCounts: checkSales(perfect, truth),
    renderMsMean: renderMs / n,
    inferenceMsMean: inferMs / n,
    elapsedS: (Date.now() - t0) / 1000,
  };
};
