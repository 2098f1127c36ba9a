import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { CommandName, DeviceId, FixtureId, OutletId, SkuId } from '@shelfsight/protocol';
import type { CommandService } from '../commands/index.js';
import type { IngestStatsSnapshot } from '../ingest/index.js';
import {
  InvalidCursorError,
  MAX_PAGE_SIZE,
  DEFAULT_PAGE_SIZE,
  type ObservationPage,
  type ObservationQuery,
  type TimeSeriesStore,
} from '../store/index.js';
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

/** Most stored observations one brand-scoped page reads before it answers with what it found. */
export const MAX_SCOPED_SCAN = 50_000;

/**
 * Cursors handed to brand managers are sealed (AES-256-GCM, a key per process): a store cursor
 * names the last observation read, which may be another brand's, and a sealed one can be neither
 * read nor forged. After a restart old sealed cursors are refused with a 400 like any bad cursor.
 */
const cursorSeal = () => {
  const key = randomBytes(32);
  return {
    seal: (inner: string): string => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(inner, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
    },
    open: (sealed: string): string => {
      try {
        const raw = Buffer.from(sealed, 'base64url');
        const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        d.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
      } catch {
        throw new InvalidCursorError();
      }
    },
  };
};

/**
 * A page of the brand's observations only: reads store pages and keeps the brand's fixtures' items
 * until `limit` are found, the data ends or MAX_SCOPED_SCAN items were read (then a shorter page
 * with a cursor to go on from).
 */
const scopedObservations = async (
  store: TimeSeriesStore,
  q: ObservationQuery & { limit: number },
  fixtures: ReadonlySet<string>,
): Promise<ObservationPage> => {
  const items: ObservationPage['items'] = [];
  let cursor = q.cursor;
  let scanned = 0;
  for (;;) {
    const page = await store.queryObservations({ ...q, limit: MAX_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
    for (let i = 0; i < page.items.length; i++) {
      const o = page.items[i]!;
      if (!fixtures.has(o.fixtureId)) continue;
      items.push(o);
      if (items.length < q.limit) continue;
      // Full: the next page starts right after this item (the store issues that cursor).
      if (i === page.items.length - 1) return { items, nextCursor: page.nextCursor };
      const upTo = await store.queryObservations({ ...q, limit: i + 1, ...(cursor ? { cursor } : {}) });
      return { items, nextCursor: upTo.nextCursor };
    }
    scanned += page.items.length;
    if (!page.nextCursor || scanned >= MAX_SCOPED_SCAN) return { items, nextCursor: page.nextCursor };
    cursor = page.nextCursor;
  }
};

const notFound = (res: Response, param: string, message: string) =>
  res.status(404).json({ error: 'not found', details: [{ param, message }] });

/**
 * REST under /api/v1. Every input goes through zod; handlers only ever see parsed values. A brand
 * manager's requests carry `res.locals.tenant` (set by the users middleware, which also answers
 * 404 for references to what is not the brand's): lists keep only the brand's items and targets
 * are checked again here.
 */
export const createApiRouter = (deps: ApiDeps): Router => {
  const r = express.Router();
  const sealed = cursorSeal();
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
    const t = res.locals.tenant;
    if (!t) return res.json(await deps.store.queryObservations(q));
    for (const [param, set] of [
      ['outletId', t.outlets],
      ['fixtureId', t.fixtures],
      ['deviceId', t.devices],
    ] as const) {
      const v = q[param];
      if (v !== undefined && !set.has(v)) return notFound(res, param, `no ${param.slice(0, -2)} ${v}`);
    }
    const page = await scopedObservations(
      deps.store,
      { ...q, ...(q.cursor ? { cursor: sealed.open(q.cursor) } : {}) },
      t.fixtures,
    );
    res.json({ items: page.items, nextCursor: page.nextCursor && sealed.seal(page.nextCursor) });
  });

  r.get('/fixtures', async (req, res) => {
    parseQuery(NoQuery, req);
    const t = res.locals.tenant;
    const items = await deps.store.latestPerFixture();
    res.json({ items: t ? items.filter((f) => t.fixtures.has(f.fixtureId)) : items });
  });

  r.get('/fixtures/:fixtureId/history', async (req, res) => {
    const fixtureId = parsePart(z.object({ fixtureId: FixtureId }), req.params, 'path').fixtureId;
    const q = parseQuery(HistoryQuery, req);
    const t = res.locals.tenant;
    if (t && !t.fixtures.has(fixtureId)) return notFound(res, 'fixtureId', `no fixture ${fixtureId}`);
    res.json({ fixtureId, series: await deps.store.skuHistory({ fixtureId, ...q }) });
  });

  r.get('/devices', async (req, res) => {
    parseQuery(NoQuery, req);
    const t = res.locals.tenant;
    const items = await deps.store.listDeviceStatus();
    res.json({ items: t ? items.filter((d) => t.devices.has(d.deviceId)) : items });
  });

  r.post('/devices/:deviceId/commands', async (req, res) => {
    const { deviceId } = parsePart(z.object({ deviceId: DeviceId }), req.params, 'path');
    const t = res.locals.tenant;
    if (t && !t.devices.has(deviceId)) return notFound(res, 'deviceId', `no device ${deviceId}`);
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
