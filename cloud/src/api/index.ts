import express, { type Router } from 'express';
import { z } from 'zod';
import { CommandName, DeviceId, FixtureId, OutletId, SkuId } from '@shelfsight/protocol';
import type { CommandService } from '../commands/index.js';
import type { IngestStatsSnapshot } from '../ingest/index.js';
import { MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, type TimeSeriesStore } from '../store/index.js';
import { isoDate, parsePart, parseQuery } from './validation.js';

export { errorHandler, notFound } from './errors.js';

export interface ApiDeps {
  store: TimeSeriesStore;
  commands: CommandService;
  stats: () => IngestStatsSnapshot;
  health: () => Record<string, unknown>;
}

const ObservationsQuery = z
  .strictObject({
    deviceId: DeviceId.optional(),
    outletId: OutletId.optional(),
    fixtureId: FixtureId.optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
    cursor: z.string().min(1).max(500).optional(),
  })
  .refine((q) => !(q.from && q.to) || q.from < q.to, { path: ['to'], message: 'must be after from' });

const HistoryQuery = z
  .strictObject({ sku: SkuId.optional(), from: isoDate.optional(), to: isoDate.optional() })
  .refine((q) => !(q.from && q.to) || q.from < q.to, { path: ['to'], message: 'must be after from' });

const NoQuery = z.strictObject({});

const CommandBody = z.strictObject({
  name: CommandName,
  args: z.record(z.string(), z.unknown()).optional(),
});

/** REST under /api/v1. Every input goes through zod; handlers only ever see parsed values. */
export const createApiRouter = (deps: ApiDeps): Router => {
  const r = express.Router();
  // Small bodies here; the master-data import has its own 20 MB parser in the analytics router.
  const json = express.json({ limit: '64kb' });
  r.use((req, res, next) => (req.path === '/masterdata/import' ? next() : json(req, res, next)));

  r.get('/healthz', (req, res) => {
    parseQuery(NoQuery, req);
    res.json({ ok: true, ...deps.health() });
  });

  r.get('/ingest/stats', (req, res) => {
    parseQuery(NoQuery, req);
    res.json(deps.stats());
  });

  r.get('/observations', async (req, res) => {
    const q = parseQuery(ObservationsQuery, req);
    res.json(await deps.store.queryObservations(q));
  });

  r.get('/fixtures', async (req, res) => {
    parseQuery(NoQuery, req);
    res.json({ items: await deps.store.latestPerFixture() });
  });

  r.get('/fixtures/:fixtureId/history', async (req, res) => {
    const fixtureId = parsePart(z.object({ fixtureId: FixtureId }), req.params, 'path').fixtureId;
    const q = parseQuery(HistoryQuery, req);
    res.json({ fixtureId, series: await deps.store.skuHistory({ fixtureId, ...q }) });
  });

  r.get('/devices', async (req, res) => {
    parseQuery(NoQuery, req);
    res.json({ items: await deps.store.listDeviceStatus() });
  });

  r.post('/devices/:deviceId/commands', async (req, res) => {
    const { deviceId } = parsePart(z.object({ deviceId: DeviceId }), req.params, 'path');
    const body = parsePart(CommandBody, req.body ?? {}, 'body');
    const outcome = await deps.commands.send(deviceId, body.name, body.args);
    if (outcome.ok) res.json({ command: outcome.command, reply: outcome.reply });
    else
      res.status(504).json({
        error: 'device did not reply in time',
        details: [{ param: 'deviceId', message: `no reply from ${deviceId} before ${outcome.command.expiresAt}` }],
        command: outcome.command,
      });
  });

  return r;
};
