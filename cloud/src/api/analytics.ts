import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { OutletId, SkuId } from '@shelfsight/protocol';
import type { AlertEngine, AnalyticsService } from '../analytics/service.js';
import type { AnalyticsEngine } from '../analytics/engine.js';
import { promotionBreakdown } from '../analytics/overview.js';
import { PromotionMaster } from '../masterdata/index.js';
import { BadRequestError, isoDate, parsePart } from './validation.js';

export interface AnalyticsApiDeps {
  service: AnalyticsService;
  alerts: AlertEngine;
}

const label = z.string().min(1).max(100);

/** Filters, pagination and format shared by every analytics endpoint. */
const common = {
  from: isoDate.optional(),
  to: isoDate.optional(),
  region: label.optional(),
  channel: label.optional(),
  outletId: OutletId.optional(),
  brand: label.optional(),
  sku: SkuId.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  format: z.enum(['json', 'csv']).optional(),
};

const afterFrom = (v: { from?: Date; to?: Date }) => !(v.from && v.to) || v.from < v.to;

const q = <T extends z.ZodRawShape>(extra: T) =>
  z.strictObject({ ...common, ...extra }).refine((v) => afterFrom(v as { from?: Date; to?: Date }), {
    path: ['to'],
    message: 'must be after from',
  });

type Common = z.output<z.ZodObject<typeof common>>;
type Row = Record<string, unknown>;

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export const toCsv = (rows: Row[]): string => {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  return [cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\r\n') + '\r\n';
};

const wantsCsv = (req: Request, format: 'json' | 'csv' | undefined) =>
  format === 'csv' || (format === undefined && (req.get('accept') ?? '').split(',')[0]?.trim() === 'text/csv');

/** Applies brand/SKU filters (where rows have them), paginates, and answers JSON or CSV. */
const send = (
  req: Request,
  res: Response,
  query: Common,
  engine: Pick<AnalyticsEngine, 'lookup'> | null,
  rows: Row[],
  name: string,
) => {
  const filtered = rows.filter((r) => {
    if (query.sku && typeof r.sku === 'string' && r.sku !== query.sku) return false;
    if (query.brand) {
      const brand =
        typeof r.brand === 'string' ? r.brand : typeof r.sku === 'string' && engine ? engine.lookup(r.sku).brand : null;
      if (brand !== null && brand !== query.brand) return false;
    }
    return true;
  });
  respond(req, res, query, filtered.slice(query.offset, query.offset + query.limit), filtered.length, name);
};

/** Answers one page (rows [offset, offset + limit) of `total` filtered rows) as JSON or CSV. */
const respond = (req: Request, res: Response, query: Common, page: Row[], total: number, name: string) => {
  if (wantsCsv(req, query.format)) {
    res.type('text/csv').attachment(`${name}.csv`).send(toCsv(page));
    return;
  }
  const next = query.offset + page.length;
  res.json({
    items: page,
    total,
    limit: query.limit,
    offset: query.offset,
    nextOffset: next < total ? next : null,
  });
};

/** Like parseQuery, but an unknown parameter is reported under its own name. */
const parseQ = <S extends z.ZodType>(schema: S, req: Request): z.infer<S> => {
  const r = schema.safeParse(req.query);
  if (r.success) return r.data;
  throw new BadRequestError(
    'invalid query',
    r.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((k) => ({ param: k, message: 'unknown query parameter' }))
        : [{ param: i.path.length ? i.path.join('.') : 'query', message: i.message }],
    ),
  );
};

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const r4 = (x: number | null) => (x === null ? null : Math.round(x * 10_000) / 10_000);

/** REST for every shelf metric under /api/v1/analytics, plus master data under /api/v1/masterdata. */
export const createAnalyticsRouter = ({ service, alerts }: AnalyticsApiDeps): Router => {
  const r = express.Router();
  /** Query filters plus the tenant scope the users middleware set (a brand manager's outlets). */
  const scope = (v: Common, res: Response) => ({
    ...(res.locals.tenant ? { outlets: res.locals.tenant.outlets, fixtures: res.locals.tenant.fixtures } : {}),
    ...(v.from ? { from: v.from } : {}),
    ...(v.to ? { to: v.to } : {}),
    ...(v.region ? { region: v.region } : {}),
    ...(v.channel ? { channel: v.channel } : {}),
    ...(v.outletId ? { outletId: v.outletId } : {}),
  });

  const FacingsQ = q({ by: z.enum(['sku', 'brand']).default('sku') });
  r.get('/analytics/facings', async (req, res) => {
    const v = parseQ(FacingsQ, req);
    const e = await service.window(scope(v, res));
    const rows = e.facings(v.by).map((x) => ({
      [v.by]: x.key,
      ...(v.by === 'sku' ? { brand: x.brand } : {}),
      own: x.own,
      facings: r4(x.facings),
      share: r4(x.share),
    }));
    send(req, res, v, e, rows, 'facings');
  });

  const NoExtra = q({});
  r.get('/analytics/share-of-shelf', async (req, res) => {
    const v = parseQ(NoExtra, req);
    const e = await service.window(scope(v, res));
    const rows = e.facings('brand');
    const own = rows.filter((x) => x.own).reduce((s, x) => s + x.share, 0);
    send(
      req,
      res,
      v,
      e,
      [
        ...rows.map((x) => ({ brand: x.brand, own: x.own, facings: r4(x.facings), share: r4(x.share) })),
        ...(rows.length
          ? [
              { brand: '(own total)', own: true, facings: null, share: r4(own) },
              { brand: '(competitors total)', own: false, facings: null, share: r4(1 - own) },
            ]
          : []),
      ],
      'share-of-shelf',
    );
  });

  r.get('/analytics/purity', async (req, res) => {
    const v = parseQ(NoExtra, req);
    const e = await service.window(scope(v, res));
    const rows = e.perFixture().map((x) => ({
      outletId: x.outletId,
      fixtureId: x.fixtureId,
      kind: x.kind,
      purity: r4(x.purity),
      captures: x.captures,
    }));
    send(req, res, v, e, rows, 'purity');
  });

  const AvailQ = q({ by: z.enum(['sku', 'outlet']).default('outlet') });
  r.get('/analytics/availability', async (req, res) => {
    const v = parseQ(AvailQ, req);
    const e = await service.window(scope(v, res));
    let rows: Row[];
    if (v.by === 'sku')
      rows = e.skuAvailability().map((x) => ({
        ...x,
        brand: e.lookup(x.sku).brand,
        availability: r4(x.availability),
      }));
    else {
      const byOutlet = new Map<string, number[]>();
      for (const x of e.perFixture()) {
        const a = x.availability;
        if (a !== null) byOutlet.set(x.outletId, [...(byOutlet.get(x.outletId) ?? []), a]);
      }
      rows = [...byOutlet.entries()].map(([outletId, xs]) => ({
        outletId,
        availability: r4(xs.reduce((p, c) => p + c, 0) / xs.length),
        fixtures: xs.length,
      }));
    }
    send(req, res, v, e, rows, 'availability');
  });

  r.get('/analytics/compliance', async (req, res) => {
    const v = parseQ(NoExtra, req);
    const e = await service.window(scope(v, res));
    const rows = e.perFixture().map((x) => ({
      outletId: x.outletId,
      fixtureId: x.fixtureId,
      plannedFacings: x.plannedFacings,
      compliance: r4(x.compliance),
      captures: x.captures,
    }));
    send(req, res, v, e, rows, 'compliance');
  });

  const StockQ = q({ state: z.enum(['open', 'closed', 'all']).default('all') });
  r.get('/analytics/stockouts', async (req, res) => {
    const v = parseQ(StockQ, req);
    const e = await service.window(scope(v, res));
    const rows = e
      .stockouts()
      .filter((x) => v.state === 'all' || (v.state === 'open') === (x.end === null))
      .map((x) => ({
        outletId: x.outletId,
        fixtureId: x.fixtureId,
        sku: x.sku,
        state: x.end === null ? 'open' : 'closed',
        start: iso(x.start),
        raisedAt: iso(x.raisedAt),
        end: iso(x.end),
        clearedAt: iso(x.clearedAt),
        durationHours: x.end === null ? null : r4((x.end - x.start) / 3_600_000),
      }));
    send(req, res, v, e, rows, 'stockouts');
  });

  r.get('/analytics/alerts', (req, res) => {
    const v = parseQ(StockQ, req);
    const outlets = service.outletFilter(scope(v, res));
    const tenant = res.locals.tenant;
    const rows = alerts
      .list()
      .filter((a) => (v.state === 'all' || a.state === v.state) && (!outlets || outlets.has(a.outletId)))
      .filter((a) => !tenant || tenant.fixtures.has(a.fixtureId))
      .filter((a) => (!v.from || a.raisedAt >= v.from.toISOString()) && (!v.to || a.raisedAt < v.to.toISOString()));
    send(req, res, v, null, rows as unknown as Row[], 'alerts');
  });

  const SalesQ = q({ period: z.enum(['day', 'week', 'total']).default('day') });
  r.get('/analytics/sales', async (req, res) => {
    const v = parseQ(SalesQ, req);
    const e = await service.window(scope(v, res));
    // Pre-aggregated per window and period; only the requested page becomes row objects.
    const { total, rows } = e.salesPage(v.period, { sku: v.sku, brand: v.brand }, v.offset, v.limit);
    const page = rows.map((x) => {
      const s = e.master.skus.get(x.sku);
      return { ...x, brand: e.lookup(x.sku).brand, units: r4(x.units), revenue: s ? r4(x.units * s.price) : null };
    });
    respond(req, res, v, page, total, 'sales');
  });

  const PromoQ = q({
    promotionId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be a promotion id')
      .optional(),
    level: z.coerce.number().gt(0).lt(1).default(0.9),
    resamples: z.coerce.number().int().min(100).max(5000).default(1000),
  });
  r.get('/analytics/promotions', async (req, res) => {
    const v = parseQ(PromoQ, req);
    const tenant = res.locals.tenant;
    const promos = [...service.masterdata.current().promotions.values()].filter(
      (p) => (!v.promotionId || p.promotionId === v.promotionId) && (!tenant || tenant.ownsPromotion(p)),
    );
    if (v.promotionId && promos.length === 0)
      throw new BadRequestError('invalid query', [
        { param: 'promotionId', message: `no promotion ${v.promotionId} in master data` },
      ]);
    // Promotion analysis needs the pre-period and the control outlets: never narrowed by time/outlet filters.
    const e = await service.engine({});
    const rows = promos
      .filter((p) => !v.sku || p.skus.includes(v.sku))
      .filter((p) => !v.outletId || p.outletIds.includes(v.outletId))
      .map((p) => {
        const x = e.promotion(p, { level: v.level, resamples: v.resamples });
        return { ...x, name: p.name, start: p.start, end: p.end, skus: p.skus, discountPct: p.discountPct };
      });
    send(req, res, { ...v, sku: undefined }, e, rows, 'promotions');
  });

  r.get('/analytics/outlet-scores', async (req, res) => {
    const v = parseQ(NoExtra, req);
    const e = await service.window(scope(v, res));
    const rows = e.outletScores().map((x) => {
      const o = e.master.outlets.get(x.outletId);
      return {
        outletId: x.outletId,
        region: o?.region ?? null,
        city: o?.city ?? null,
        channel: o?.channel ?? null,
        grade: x.grade,
        score: r4(x.score),
        availability: r4(x.availability),
        compliance: r4(x.compliance),
        purity: r4(x.purity),
        salesPerDay: r4(x.salesPerDay),
        salesIndex: r4(x.salesIndex),
      };
    });
    send(req, res, v, e, rows, 'outlet-scores');
  });

  const ReplQ = q({
    horizonHours: z.coerce
      .number()
      .min(1)
      .max(24 * 14)
      .default(48),
    lookbackDays: z.coerce.number().int().min(1).max(60).default(7),
    all: z.enum(['true', 'false']).default('false'),
  });
  r.get('/analytics/replenishment', async (req, res) => {
    const v = parseQ(ReplQ, req);
    const e = await service.engine(scope(v, res));
    const rows = e
      .replenishment({ horizonHours: v.horizonHours, lookbackDays: v.lookbackDays })
      .filter((x) => v.all === 'true' || x.suggest)
      .map((x) => ({ ...x, brand: e.lookup(x.sku).brand, ratePerHour: r4(x.ratePerHour) }));
    send(req, res, v, e, rows, 'replenishment');
  });

  const NoQuery = z.strictObject({});
  const OverviewQ = q({ top: z.coerce.number().int().min(1).max(100).default(10) });
  /**
   * KPI tiles, daily trends and the worst outlets/SKUs of one period in one call, plus the same KPIs
   * for the previous period of equal length (when from and to are given).
   */
  r.get('/analytics/overview', async (req, res) => {
    const v = parseQ(OverviewQ, req);
    // Cached per (window, scope, filter, top) until the scope's data change (AnalyticsService.overview).
    res.json(await service.overview(scope(v, res), { brand: v.brand, sku: v.sku }, v.top));
  });

  const PromoDetailQ = z.strictObject({
    level: z.coerce.number().gt(0).lt(1).default(0.9),
    resamples: z.coerce.number().int().min(100).max(5000).default(1000),
  });
  const promoId = z.object({
    promotionId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be a promotion id'),
  });
  /** One promotion: ROI with its interval (as /analytics/promotions), daily uplift vs baseline, per outlet. */
  r.get('/analytics/promotions/:promotionId', async (req, res) => {
    const { promotionId } = parsePart(promoId, req.params, 'path');
    const v = parseQ(PromoDetailQ, req);
    const p = service.masterdata.current().promotions.get(promotionId);
    const tenant = res.locals.tenant;
    if (!p || (tenant && !tenant.ownsPromotion(p)))
      return res
        .status(404)
        .json({ error: 'not found', details: [{ param: 'promotionId', message: `no promotion ${promotionId}` }] });
    const e = await service.engine({});
    const x = e.promotion(p, { level: v.level, resamples: v.resamples });
    const b = promotionBreakdown(e, p, x.controlTrend);
    res.json({
      ...p,
      // A brand sees its own outlets of the promotion only.
      outletIds: tenant ? p.outletIds.filter((o) => tenant.outlets.has(o)) : p.outletIds,
      result: x,
      daily: b.daily.map((d) => ({ ...d, actualUnits: r4(d.actualUnits), baselineUnits: r4(d.baselineUnits) })),
      perOutlet: b.perOutlet
        .filter((o) => !tenant || tenant.outlets.has(o.outletId))
        .map((o) => ({
          ...o,
          actualUnits: r4(o.actualUnits),
          baselineUnits: r4(o.baselineUnits),
          incrementalUnits: r4(o.incrementalUnits),
          incrementalRevenue: r4(o.incrementalRevenue),
        })),
    });
  });

  const alertAction = z.object({ id: z.string().min(1).max(400), action: z.enum(['acknowledge', 'resolve']) });
  /** Acknowledge or resolve a stockout alert; the change is pushed as socket.io `alert`. */
  r.post('/analytics/alerts/:id/:action', (req, res) => {
    const { id, action } = parsePart(alertAction, req.params, 'path');
    const a = alerts.get(id);
    const tenant = res.locals.tenant;
    if (!a || (tenant && !tenant.fixtures.has(a.fixtureId)))
      return res.status(404).json({ error: 'not found', details: [{ param: 'id', message: `no alert ${id}` }] });
    res.json(alerts.act(id, action, res.locals.principal?.username ?? 'anonymous'));
  });

  /** Promotions are master data: create, edit and delete one without re-importing the document. */
  const savePromotion = (next: PromotionMaster[]) => {
    const d = service.masterdata.current().data;
    service.masterdata.import({ ...d, promotions: next });
    service.invalidate();
  };
  r.post('/masterdata/promotions', express.json({ limit: '2mb' }), (req, res) => {
    parseQ(NoQuery, req);
    const p = parsePart(PromotionMaster, req.body ?? {}, 'body');
    const d = service.masterdata.current().data;
    if (d.promotions.some((x) => x.promotionId === p.promotionId))
      return res.status(409).json({
        error: 'promotion exists',
        details: [{ param: 'promotionId', message: `${p.promotionId} exists; PUT to edit it` }],
      });
    savePromotion([...d.promotions, p]);
    res.status(201).json(service.masterdata.current().promotions.get(p.promotionId));
  });
  r.put('/masterdata/promotions/:promotionId', express.json({ limit: '2mb' }), (req, res) => {
    const { promotionId } = parsePart(promoId, req.params, 'path');
    const p = parsePart(PromotionMaster, { ...(req.body ?? {}), promotionId }, 'body');
    const d = service.masterdata.current().data;
    if (!d.promotions.some((x) => x.promotionId === promotionId))
      return res
        .status(404)
        .json({ error: 'not found', details: [{ param: 'promotionId', message: `no promotion ${promotionId}` }] });
    savePromotion(d.promotions.map((x) => (x.promotionId === promotionId ? p : x)));
    res.json(service.masterdata.current().promotions.get(promotionId));
  });
  r.delete('/masterdata/promotions/:promotionId', (req, res) => {
    const { promotionId } = parsePart(promoId, req.params, 'path');
    const d = service.masterdata.current().data;
    if (!d.promotions.some((x) => x.promotionId === promotionId))
      return res
        .status(404)
        .json({ error: 'not found', details: [{ param: 'promotionId', message: `no promotion ${promotionId}` }] });
    savePromotion(d.promotions.filter((x) => x.promotionId !== promotionId));
    res.json({ ok: true });
  });

  r.get('/masterdata', (req, res) => {
    parseQ(NoQuery, req);
    const all = service.masterdata.current().data;
    const t = res.locals.tenant;
    // A brand: the shared SKU catalog, its outlets and fixtures, its promotions with its outlets only.
    const d = t
      ? {
          ...all,
          outlets: all.outlets.filter((o) => t.outlets.has(o.outletId)),
          fixtures: all.fixtures.filter((f) => t.fixtures.has(f.fixtureId)),
          promotions: all.promotions
            .filter((p) => t.ownsPromotion(p))
            .map((p) => ({ ...p, outletIds: p.outletIds.filter((o) => t.outlets.has(o)) })),
        }
      : all;
    res.json({
      counts: {
        skus: d.skus.length,
        outlets: d.outlets.length,
        fixtures: d.fixtures.length,
        promotions: d.promotions.length,
      },
      ...d,
    });
  });

  r.post('/masterdata/import', express.json({ limit: '20mb' }), (req, res) => {
    parseQ(NoQuery, req);
    const { MasterData } = service.masterdata.schema;
    const data = parsePart(MasterData, req.body ?? {}, 'body');
    const view = service.masterdata.import(data);
    const d = view.data;
    res.json({
      ok: true,
      counts: {
        skus: d.skus.length,
        outlets: d.outlets.length,
        fixtures: d.fixtures.length,
        promotions: d.promotions.length,
      },
    });
  });

  return r;
};
