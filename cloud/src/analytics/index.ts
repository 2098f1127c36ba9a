import type { Router } from 'express';
import type { Logger } from 'pino';
import { createAnalyticsRouter } from '../api/analytics.js';
import type { Ingest } from '../ingest/index.js';
import { MasterDataRegistry } from '../masterdata/index.js';
import type { TimeSeriesStore } from '../store/index.js';
import { AlertEngine, AnalyticsService } from './service.js';

export { AnalyticsEngine } from './engine.js';
export { AnalyticsCube, CubeWindow, cubeOverview } from './cube.js';
export { AnalyticsService, AlertEngine, type StockoutAlert } from './service.js';
export { toSeries } from './load.js';

export interface RunningAnalytics {
  router: Router;
  service: AnalyticsService;
  alerts: AlertEngine;
  masterdata: MasterDataRegistry;
  /** Stops background rollup work; call before the store closes. */
  close(): void;
}

/** Wires master data, the live stockout alert engine (on ingest) and the analytics REST router. */
export const startAnalytics = (opts: {
  dataDir: string;
  store: TimeSeriesStore;
  ingest: Pick<Ingest, 'on'>;
  logger: Logger;
}): RunningAnalytics => {
  const masterdata = MasterDataRegistry.open(opts.dataDir);
  const alerts = new AlertEngine(opts.dataDir, masterdata);
  const service = new AnalyticsService(opts.store, masterdata);
  // Rollups: load the history now (in the background) and keep them current from ingest.
  const started = Date.now();
  // Then the dashboard's default overviews, so the first navigation is a cache hit; after new data
  // they are re-warmed in the background (at most every PREWARM_INTERVAL_MS).
  let closed = false;
  // Background work still running at shutdown fails on the closed store: not an error then.
  const failed = (what: string) => (err: unknown) =>
    closed ? opts.logger.debug({ err }, `${what} stopped by shutdown`) : opts.logger.error({ err }, what);
  const prewarmFailed = failed('analytics overview prewarm failed');
  service.cube
    .warm()
    .then(async () => {
      const warmMs = Date.now() - started;
      await service.prewarm().catch(prewarmFailed);
      service.cube.onWarmed = () => service.schedulePrewarm(prewarmFailed);
      opts.logger.info(
        { ms: Date.now() - started, warmMs, captures: service.cube.captures },
        'analytics rollups ready',
      );
    })
    .catch(failed('analytics rollup load failed'));
  opts.ingest.on('observation', (summary) => {
    service.invalidate();
    service.cube.add(summary);
    try {
      alerts.onObservation(summary);
    } catch (err) {
      opts.logger.error({ err }, 'alert evaluation failed');
    }
  });
  return {
    router: createAnalyticsRouter({ service, alerts }),
    service,
    alerts,
    masterdata,
    close: () => {
      closed = true;
      service.cube.onWarmed = null;
      service.stopPrewarm();
    },
  };
};
