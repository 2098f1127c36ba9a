#!/usr/bin/env node
/**
 * Analytics truth check: runs the market simulator (loaded at run time from --sim, so the cloud
 * package has no build dependency on the simulators), feeds its observation stream to the analytics
 * engine and compares with the simulator's ground truth.
 *
 *   node cloud/dist/analytics/eval/main.js --sim simulators/dist/market/index.js [--outlets 50]
 *     [--weeks 4] [--seeds 20] [--json]
 *     [--recognizer edge-agent/dist/recognition/index.js] [--models models] [--rec-fixtures 4]
 *     [--rec-interval 240] [--rec-difficulty default] [--rec-seed 1] [--rec-cache FILE] [--no-rec]
 *
 * Recognition in the loop (salesMapeRecognitionInLoop): see recognition.ts.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Observation } from '@shelfsight/protocol';
import {
  recognitionInLoop,
  type RecognitionLoopResult,
  type RecognitionModule,
  type RenderingSim,
} from './recognition.js';
import {
  checkPromotions,
  checkSales,
  checkStockouts,
  engineFor,
  type PromoCheck,
  type TruthLike,
} from './truthcheck.js';

interface SimModule {
  runMarket: (cfg: { seed: number; outlets: number; weeks: number }) => {
    world: { master: unknown; config: { captureIntervalMin: number } };
    observations: unknown[];
    truth: TruthLike;
  };
}

const THRESHOLDS = {
  salesMape: 0.05,
  stockoutPrecision: 0.98,
  stockoutRecall: 0.98,
  medianDelayCaptures: 1,
  roiAbsErrorPct: 0.1,
  intervalCoverage: 0.85,
};

const main = async (): Promise<number> => {
  const { values } = parseArgs({
    options: {
      sim: { type: 'string', default: 'simulators/dist/market/index.js' },
      outlets: { type: 'string', default: '50' },
      weeks: { type: 'string', default: '4' },
      seeds: { type: 'string', default: '20' },
      resamples: { type: 'string', default: '1000' },
      json: { type: 'boolean', default: false },
      recognizer: { type: 'string', default: 'edge-agent/dist/recognition/index.js' },
      models: { type: 'string', default: 'models' },
      'rec-fixtures': { type: 'string', default: '4' },
      'rec-interval': { type: 'string', default: '240' },
      'rec-difficulty': { type: 'string', default: 'default' },
      'rec-seed': { type: 'string', default: '1' },
      'rec-cache': { type: 'string' },
      'no-rec': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const outlets = Number(values.outlets);
  const weeks = Number(values.weeks);
  const seeds = Number(values.seeds);
  const resamples = Number(values.resamples);
  for (const [k, v] of Object.entries({ outlets, weeks, seeds, resamples }))
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
  const sim = (await import(pathToFileURL(path.resolve(values.sim)).href)) as SimModule;
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const t0 = Date.now();

  let full: ReturnType<typeof checkSales> | null = null;
  let stock: ReturnType<typeof checkStockouts> | null = null;
  const promos: (PromoCheck & { seed: number })[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const run = sim.runMarket({ seed, outlets, weeks });
    if (seed === 1) {
      // The first seed's stream is validated against the protocol schema, as ingest would.
      const bad = run.observations.filter((o) => !Observation.safeParse(o).success).length;
      if (bad > 0) throw new Error(`${bad} simulated observations fail the protocol schema`);
    }
    const engine = engineFor(run.observations as Observation[], run.world.master);
    if (seed === 1) {
      full = checkSales(engine, run.truth);
      stock = checkStockouts(engine, run.truth, run.world.config.captureIntervalMin * 60_000);
    }
    for (const p of checkPromotions(engine, run.truth, resamples)) promos.push({ ...p, seed });
    log(
      `seed ${seed}: ${promos
        .filter((p) => p.seed === seed)
        .map(
          (p) =>
            `${p.promotionId} roi ${p.estimatedRoi.toFixed(3)} vs ${p.trueRoi.toFixed(3)} [${p.interval?.low.toFixed(3)}, ${p.interval?.high.toFixed(3)}]`,
        )
        .join('; ')} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  if (!full || !stock) throw new Error('no seed ran');

  let recLoop: RecognitionLoopResult | null = null;
  let recNote = 'skipped (--no-rec)';
  if (!values['no-rec']) {
    let recModule: RecognitionModule | null = null;
    try {
      recModule = (await import(pathToFileURL(path.resolve(values.recognizer)).href)) as RecognitionModule;
    } catch (err) {
      recNote = `recognizer not loadable from ${values.recognizer} (build edge-agent: npx tsc -b edge-agent): ${(err as Error).message}`;
    }
    if (recModule) {
      const difficulty = values['rec-difficulty'];
      if (difficulty !== 'easy' && difficulty !== 'default' && difficulty !== 'hard')
        throw new Error('--rec-difficulty must be easy, default or hard');
      recLoop = await recognitionInLoop(sim as unknown as RenderingSim, recModule, {
        seed: Number(values['rec-seed']),
        outlets,
        weeks,
        sampledFixtures: Number(values['rec-fixtures']),
        captureIntervalMin: Number(values['rec-interval']),
        difficulty,
        modelDir: path.resolve(values.models),
        log,
        ...(values['rec-cache'] ? { cacheFile: path.resolve(values['rec-cache']) } : {}),
      });
      recNote =
        `${recLoop.fixtures.length} branded coolers (renderable 4×9, ≤ 4 packs deep) × ${weeks} weeks, a capture ` +
        `every ${recLoop.captureIntervalMin} min, ${recLoop.counts.frames} frames rendered and recognised by ${recLoop.model}; ` +
        `same subset with exact counts: MAPE ${recLoop.salesPerfectCounts.mape.toFixed(3)}; ` +
        `drop estimator on the recognised counts: MAPE ${recLoop.byEstimator.drops.mape.toFixed(3)}`;
    }
  }
  const errs = promos.map((p) => p.roiAbsErrorPct);
  const mean = errs.reduce((a, b) => a + b, 0) / errs.length;
  const sorted = [...errs].sort((a, b) => a - b);
  const result = {
    salesMape: full.mape,
    salesWape: full.wape,
    salesCells: full.cells,
    salesMapeRecognitionInLoop: recLoop ? recLoop.sales.mape : null,
    /** Weekly sales summed over SKUs per sampled fixture (SKU confusion cancels out of it). */
    salesMapeRecognitionInLoopFixtureTotal: recLoop ? recLoop.sales.fixtureTotalMape : null,
    salesMapeRecognitionInLoopNote: recNote,
    recognitionInLoop: recLoop,
    stockout: {
      precision: stock.precision,
      recall: stock.recall,
      recallAll: stock.recallAll,
      medianDelayCaptures: stock.medianDelayCaptures,
      p95DelayCaptures: stock.p95DelayCaptures,
      trueStockouts: stock.trueStockouts,
      observableStockouts: stock.observableStockouts,
      detected: stock.detected,
    },
    promo: {
      roiAbsErrorPct: mean,
      roiAbsErrorPctMedian: sorted[Math.floor(sorted.length / 2)] ?? null,
      roiAbsErrorPctMax: sorted[sorted.length - 1] ?? null,
      withinTenPct: errs.filter((e) => e <= 0.1).length / errs.length,
      intervalCoverage: promos.filter((p) => p.covered).length / promos.length,
      intervalLevel: 0.9,
      seeds,
      promotionsPerSeed: promos.length / seeds,
      runs: promos,
    },
    outlets,
    weeks,
    thresholds: THRESHOLDS,
    elapsedS: (Date.now() - t0) / 1000,
  };
  const pass = {
    salesMape: result.salesMape <= THRESHOLDS.salesMape,
    stockoutPrecision: result.stockout.precision >= THRESHOLDS.stockoutPrecision,
    stockoutRecall: result.stockout.recall >= THRESHOLDS.stockoutRecall,
    medianDelay: result.stockout.medianDelayCaptures <= THRESHOLDS.medianDelayCaptures,
    roiError: result.promo.roiAbsErrorPct <= THRESHOLDS.roiAbsErrorPct,
    intervalCoverage: result.promo.intervalCoverage >= THRESHOLDS.intervalCoverage,
    salesMapeRecognitionInLoop:
      result.salesMapeRecognitionInLoop !== null && result.salesMapeRecognitionInLoop <= THRESHOLDS.salesMape,
  };
  if (values.json) console.log(JSON.stringify({ ...result, pass }, null, 2));
  else {
    console.log(`outlets ${outlets}, weeks ${weeks}, seeds ${seeds}`);
    console.log(
      `sales MAPE ${(result.salesMape * 100).toFixed(2)}% (WAPE ${(result.salesWape * 100).toFixed(2)}%, ${result.salesCells} outlet-SKU-weeks)`,
    );
    console.log(
      `stockouts precision ${(stock.precision * 100).toFixed(2)}% recall ${(stock.recall * 100).toFixed(2)}% ` +
        `(all ${(stock.recallAll * 100).toFixed(2)}%) median delay ${stock.medianDelayCaptures.toFixed(2)} captures`,
    );
    console.log(
      `promo ROI |error| mean ${(mean * 100).toFixed(2)}%, coverage of 90% interval ${(result.promo.intervalCoverage * 100).toFixed(1)}% over ${promos.length} promotion runs`,
    );
    if (recLoop)
      console.log(
        `recognition in the loop: sales MAPE ${(recLoop.sales.mape * 100).toFixed(1)}%, per-fixture weekly totals ` +
          `${(recLoop.sales.fixtureTotalMape * 100).toFixed(1)}% (drop estimator ${(recLoop.byEstimator.drops.mape * 100).toFixed(1)}%; ` +
          `exact counts on the same subset ${(recLoop.salesPerfectCounts.mape * 100).toFixed(1)}%), ` +
          `count exact ${(recLoop.counts.countExact * 100).toFixed(1)}%, count bias ${(recLoop.counts.countBias * 100).toFixed(1)}%`,
      );
    else console.log(`recognition in the loop: ${recNote}`);
    console.log(`pass: ${JSON.stringify(pass)}`);
  }
  return Object.values(pass).every(Boolean) ? 0 : 1;
};

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
