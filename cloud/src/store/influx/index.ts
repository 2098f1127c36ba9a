import { Point } from '@influxdata/influxdb-client';
import type { DeviceStatus, Observation } from '@shelfsight/protocol';
import { decodeCursor, encodeCursor, type ObservationCursor } from '../cursor.js';
import {
  DEFAULT_PAGE_SIZE,
  DEFAULT_SCAN_PAGE_SIZE,
  MAX_PAGE_SIZE,
  MAX_SCAN_PAGE_SIZE,
  type CountScanPage,
  type CountScanQuery,
  type DeviceStatusRecord,
  type FixtureSummary,
  type ObservationPage,
  type ObservationQuery,
  type SkuHistoryQuery,
  type SkuSeries,
  type SkuTally,
  type StoredObservation,
  type TimeSeriesStore,
} from '../port.js';
import { InfluxHttp, quoteIdent, type InfluxHttpOptions, type Row } from './http.js';

export { InfluxQueryError } from './http.js';

/**
 * Schema (see docs/decisions-store.md):
 *
 *   observations,deviceId=…,outletId=…,fixtureId=…  messageId="…",slot=0i,seq=…i,receivedAt=<ms>i,
 *       modelName,modelVersion,[galleryName,galleryVersion],imageWidth,imageHeight,[brightness,sharpness],
 *       qualityFlags=<json>,emptyFacings,unknownProducts,inferenceMs,[detections=<json>],skus=<json>  <t>
 *   sku_counts,deviceId=…,outletId=…,fixtureId=…,sku=…  count=…i,facings=…i,slot=…i  <t>
 *   device_status,deviceId=…  state="online",record=<json>  <receivedAt>
 *
 * Tags are the bounded dimensions (devices ≈ fixtures ≈ outlets × a few, SKUs ≈ catalogue size);
 * messageId is a field, never a tag: a fresh UUID per capture would make every point its own series
 * and the series index grow without bound. `t` = capturedAt in ms × 10⁶ + `slot` ns: InfluxDB keys a
 * point by measurement + tag set + time, so two different observations of one fixture in the same
 * millisecond get distinct slots instead of silently overwriting each other.
 */
export const MEASUREMENTS = { observations: 'observations', skuCounts: 'sku_counts', status: 'device_status' } as const;

export interface InfluxStoreOptions extends InfluxHttpOptions {
  /** `CREATE DATABASE` on open (1.x; idempotent). Off for 2.x/3.x, where buckets are provisioned. */
  createDatabase?: boolean;
  /** Observations coalesced into one write while the previous one is in flight. */
  maxBatchObservations?: number;
  /** messageIds remembered in process, so redeliveries skip the lookup query. */
  recentIds?: number;
}

/** Bounds one history response; older points beyond it are dropped (newest kept). Same as DuckDB. */
export const MAX_HISTORY_OBSERVATIONS = 5000;
const MAX_SLOT = 999_999;
/** Statements per lookup request, to keep the URL-encoded body modest. */
const LOOKUP_STATEMENTS = 250;

interface PendingWrite {
  obs: Observation;
  receivedAt: Date;
  resolve: (r: { inserted: boolean }) => void;
  reject: (err: unknown) => void;
}

/**
 * InfluxDB adapter. Writes are group-committed: the first write goes out at once, writes that arrive
 * meanwhile are queued and sent together as one batch (one lookup request + one line-protocol POST),
 * so throughput grows with load while a lone write still costs two round trips. Every write resolves
 * only after InfluxDB answered 204, because ingest acknowledges the MQTT message on that.
 *
 * Idempotency by messageId: a redelivered observation has the same fixture and capture time, so the
 * batch first reads the messageIds already stored for each (fixtureId, capture millisecond) — a
 * single-series, 1 ms range scan — and skips the ones present; the others get the next free slot.
 * One writer per database is assumed (as with DuckDB): two cloud processes writing the same id at
 * the same instant could both insert it.
 */
export class InfluxStore implements TimeSeriesStore {
  private pending: PendingWrite[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;
  private readonly recent = new Map<string, true>();
  private readonly maxBatch: number;
  private readonly maxRecent: number;

  private constructor(
    private readonly http: InfluxHttp,
    opts: InfluxStoreOptions,
  ) {
    this.maxBatch = opts.maxBatchObservations ?? 1000;
    this.maxRecent = opts.recentIds ?? 100_000;
  }

  static async open(opts: InfluxStoreOptions): Promise<InfluxStore> {
    const db = quoteIdent(opts.database);
    if (opts.retentionPolicy !== undefined) quoteIdent(opts.retentionPolicy);
    const http = new InfluxHttp(opts);
    if (opts.createDatabase) await http.command(`CREATE DATABASE ${db}`);
    // Fails fast on a wrong URL, database or token instead of on the first observation.
    await http.query(`SHOW MEASUREMENTS LIMIT 1`);
    return new InfluxStore(http, opts);
  }

  writeObservation(obs: Observation, receivedAt: Date): Promise<{ inserted: boolean }> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ obs, receivedAt, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = (async () => {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        try {
          const results = await this.commit(batch);
          batch.forEach((p, i) => p.resolve({ inserted: results[i]! }));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    })().finally(() => {
      this.draining = null;
      // A write queued between the loop's last check and here must not be stranded.
      if (this.pending.length > 0) this.kick();
    });
  }

  private async commit(batch: PendingWrite[]): Promise<boolean[]> {
    const inserted = batch.map(() => false);
    const firstInBatch = new Set<string>();
    const candidates: number[] = [];
    batch.forEach((p, i) => {
      const id = p.obs.messageId;
      if (this.recent.has(id) || firstInBatch.has(id)) return;
      firstInBatch.add(id);
      candidates.push(i);
    });
    // (fixtureId, capture ms) → messageIds and slots already stored there.
    const keyOf = (p: PendingWrite) => `${Date.parse(p.obs.capturedAt)}|${p.obs.fixtureId}`;
    const keys = [...new Set(candidates.map((i) => keyOf(batch[i]!)))];
    const taken = new Map<string, { ids: Set<string>; slots: Set<number> }>();
    for (let k = 0; k < keys.length; k += LOOKUP_STATEMENTS) {
      const chunk = keys.slice(k, k + LOOKUP_STATEMENTS);
      const params: Record<string, string> = {};
      const statements = chunk.map((key, j) => {
        const [ms, fixture] = splitKey(key);
        params[`f${j}`] = fixture;
        params[`a${j}`] = new Date(ms).toISOString();
        params[`b${j}`] = new Date(ms + 1).toISOString();
        return `SELECT "messageId", "slot" FROM "observations" WHERE "fixtureId" = $f${j} AND time >= $a${j} AND time < $b${j}`;
      });
      const results = await this.http.query(statements.join('; '), params);
      chunk.forEach((key, j) => {
        const t = { ids: new Set<string>(), slots: new Set<number>() };
        for (const r of results[j] ?? []) {
          t.ids.add(String(r.messageId));
          t.slots.add(Number(r.slot));
        }
        taken.set(key, t);
      });
    }
    const lines: string[] = [];
    const written: string[] = [];
    for (const i of candidates) {
      const p = batch[i]!;
      const t = taken.get(keyOf(p))!;
      if (t.ids.has(p.obs.messageId)) {
        this.remember(p.obs.messageId);
        continue;
      }
      let slot = 0;
      while (t.slots.has(slot)) slot++;
      if (slot > MAX_SLOT) throw new Error(`more than ${MAX_SLOT + 1} observations of one fixture in one millisecond`);
      t.ids.add(p.obs.messageId);
      t.slots.add(slot);
      lines.push(...toLines(p.obs, p.receivedAt, slot));
      written.push(p.obs.messageId);
      inserted[i] = true;
    }
    if (lines.length > 0) await this.http.write(lines);
    for (const id of written) this.remember(id);
    return inserted;
  }

  private remember(id: string): void {
    this.recent.delete(id);
    this.recent.set(id, true);
    if (this.recent.size > this.maxRecent) this.recent.delete(this.recent.keys().next().value!);
  }

  async queryObservations(q: ObservationQuery): Promise<ObservationPage> {
    const limit = Math.min(Math.max(q.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const cursor = q.cursor === undefined ? null : decodeCursor(q.cursor);
    const conds: string[] = [];
    const params: Record<string, string> = {};
    const bind = (cond: string, name: string, value: string | undefined) => {
      if (value === undefined) return;
      conds.push(cond);
      params[name] = value;
    };
    bind(`"deviceId" = $device`, 'device', q.deviceId);
    bind(`"outletId" = $outlet`, 'outlet', q.outletId);
    bind(`"fixtureId" = $fixture`, 'fixture', q.fixtureId);
    bind(`time >= $from`, 'from', q.from?.toISOString());
    bind(`time < $to`, 'to', q.to?.toISOString());
    const where = (extra: string[]) => {
      const all = [...conds, ...extra];
      return all.length ? `WHERE ${all.join(' AND ')}` : '';
    };
    const select = `SELECT * FROM "observations"`;
    // Order is (capturedAt DESC, messageId DESC) like every adapter.
    const { page, nextCursor } = await this.keysetPage(select, where, params, cursor, limit, 'newest');
    return { items: page.map(toStored), nextCursor };
  }

  async latestPerFixture(): Promise<FixtureSummary[]> {
    // A few rows per fixture so a same-millisecond tie is broken by messageId like elsewhere.
    const [rows] = await this.http.query(
      `SELECT * FROM "observations" GROUP BY "fixtureId" ORDER BY time DESC LIMIT 4`,
    );
    const best = new Map<string, Row>();
    for (const r of rows!) {
      const cur = best.get(String(r.fixtureId));
      if (!cur || newestFirst(r, cur) < 0) best.set(String(r.fixtureId), r);
    }
    return [...best.values()]
      .map(toSummary)
      .sort((a, b) => cmp(a.outletId, b.outletId) || cmp(a.fixtureId, b.fixtureId));
  }

  async skuHistory(q: SkuHistoryQuery): Promise<SkuSeries[]> {
    const params: Record<string, string> = { fixture: q.fixtureId };
    const conds = [`"fixtureId" = $fixture`];
    if (q.from) {
      conds.push('time >= $from');
      params.from = q.from.toISOString();
    }
    if (q.to) {
      conds.push('time < $to');
      params.to = q.to.toISOString();
    }
    const skuCond = q.sku === undefined ? [] : [`"sku" = $sku`];
    if (q.sku !== undefined) params.sku = q.sku;
    const [obsRows, countRows] = await this.http.query(
      `SELECT "messageId", "slot" FROM "observations" WHERE ${conds.join(' AND ')} ORDER BY time DESC LIMIT ${MAX_HISTORY_OBSERVATIONS}; ` +
        `SELECT "count", "facings", "slot" FROM "sku_counts" WHERE ${[...conds, ...skuCond].join(' AND ')} GROUP BY "sku"`,
      params,
    );
    const obs = obsRows!
      .map((r) => ({ ms: Number(r.time), slot: Number(r.slot), id: String(r.messageId) }))
      .sort((a, b) => a.ms - b.ms || cmp(a.id, b.id));
    if (obs.length === 0) return [];
    const counts = new Map<string, Map<string, { count: number; facings: number }>>();
    for (const r of countRows!) {
      const sku = String(r.sku);
      let m = counts.get(sku);
      if (!m) counts.set(sku, (m = new Map()));
      m.set(`${Number(r.time)}|${Number(r.slot)}`, { count: Number(r.count), facings: Number(r.facings) });
    }
    const kept = new Set(obs.map((o) => `${o.ms}|${o.slot}`));
    const skus =
      q.sku !== undefined
        ? [q.sku]
        : [...counts.entries()].filter(([, m]) => [...m.keys()].some((k) => kept.has(k))).map(([s]) => s);
    return skus.sort(cmp).map((sku) => {
      const m = counts.get(sku);
      return {
        sku,
        points: obs.map((o) => {
          const c = m?.get(`${o.ms}|${o.slot}`);
          return { capturedAt: new Date(o.ms).toISOString(), count: c?.count ?? 0, facings: c?.facings ?? 0 };
        }),
      };
    });
  }

  async scanCounts(q: CountScanQuery): Promise<CountScanPage> {
    const limit = Math.min(Math.max(q.limit ?? DEFAULT_SCAN_PAGE_SIZE, 1), MAX_SCAN_PAGE_SIZE);
    const cursor = q.cursor === undefined ? null : decodeCursor(q.cursor);
    const conds: string[] = [];
    const params: Record<string, string | number> = {};
    if (q.from) {
      conds.push('time >= $from');
      params.from = q.from.toISOString();
    }
    if (q.to) {
      conds.push('time < $to');
      params.to = q.to.toISOString();
    }
    if (q.receivedFrom) {
      // A field, not the time index: this reads the whole range (the cube asks with a narrow one).
      conds.push('"receivedAt" >= $recv');
      params.recv = q.receivedFrom.getTime();
    }
    const where = (extra: string[]) => {
      const all = [...conds, ...extra];
      return all.length ? `WHERE ${all.join(' AND ')}` : '';
    };
    const select = `SELECT "messageId", "outletId", "fixtureId", "skus", "emptyFacings", "unknownProducts" FROM "observations"`;
    // Oldest first by (capturedAt, messageId), queryObservations mirrored.
    const { page, nextCursor } = await this.keysetPage(select, where, params, cursor, limit, 'oldest');
    return {
      items: page.map((r) => ({
        messageId: String(r.messageId),
        outletId: String(r.outletId),
        fixtureId: String(r.fixtureId),
        capturedAt: new Date(Number(r.time)).toISOString(),
        skus: JSON.parse(String(r.skus)) as SkuTally[],
        emptyFacings: Number(r.emptyFacings),
        unknownProducts: Number(r.unknownProducts),
      })),
      nextCursor,
    };
  }

  /**
   * One page of `select` in (capturedAt, messageId) order, newest or oldest first, after `cursor`.
   * InfluxDB sorts by time only, so the cursor's millisecond and a millisecond cut by LIMIT are
   * read whole and the messageId tie-break happens here.
   */
  private async keysetPage(
    select: string,
    where: (extra: string[]) => string,
    params: Record<string, string | number>,
    cursor: ObservationCursor | null,
    limit: number,
    order: 'newest' | 'oldest',
  ): Promise<{ page: Row[]; nextCursor: string | null }> {
    const newest = order === 'newest';
    const by = `ORDER BY time ${newest ? 'DESC' : 'ASC'} LIMIT ${limit + 1}`;
    let rows: Row[] = [];
    let beyond: Row[];
    if (cursor) {
      const cMs = Number(cursor.us / 1000n);
      params.curA = new Date(cMs).toISOString();
      params.curB = new Date(cMs + 1).toISOString();
      const [group, rest] = await this.http.query(
        `${select} ${where(['time >= $curA', 'time < $curB'])}; ` +
          `${select} ${where([newest ? 'time < $curA' : 'time >= $curB'])} ${by}`,
        params,
      );
      rows = group!.filter((r) => (newest ? String(r.messageId) < cursor.id : String(r.messageId) > cursor.id));
      beyond = rest!;
    } else {
      [beyond] = (await this.http.query(`${select} ${where([])} ${by}`, params)) as [Row[]];
    }
    if (beyond.length > limit) {
      const edgeMs = Number(beyond[beyond.length - 1]!.time);
      params.edgeA = new Date(edgeMs).toISOString();
      params.edgeB = new Date(edgeMs + 1).toISOString();
      const [edge] = await this.http.query(`${select} ${where(['time >= $edgeA', 'time < $edgeB'])}`, params);
      beyond = [...beyond.filter((r) => Number(r.time) !== edgeMs), ...edge!];
    }
    rows = [...rows, ...beyond].sort(newest ? newestFirst : (a, b) => newestFirst(b, a));
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      page,
      nextCursor:
        rows.length > limit && last
          ? encodeCursor({ us: BigInt(Number(last.time)) * 1000n, id: String(last.messageId) })
          : null,
    };
  }

  async upsertDeviceStatus(status: DeviceStatus, receivedAt: Date): Promise<DeviceStatusRecord> {
    const record: DeviceStatusRecord = {
      deviceId: status.deviceId,
      state: status.state,
      at: status.at === undefined ? null : new Date(status.at).toISOString(),
      receivedAt: receivedAt.toISOString(),
      agentVersion: status.agentVersion ?? null,
      model: status.model ?? null,
      gallery: status.gallery ?? null,
      health: status.health ?? null,
    };
    if (this.closed) throw new Error('store is closed');
    // One point per report at receivedAt (a status history for free); the list reads LAST per device.
    const line = new Point(MEASUREMENTS.status)
      .tag('deviceId', record.deviceId)
      .stringField('state', record.state)
      .stringField('record', JSON.stringify(record))
      .timestamp(msToNs(receivedAt.getTime()))
      .toLineProtocol();
    await this.http.write([line!]);
    return record;
  }

  async listDeviceStatus(): Promise<DeviceStatusRecord[]> {
    const [rows] = await this.http.query(`SELECT LAST("record") AS "record" FROM "device_status" GROUP BY "deviceId"`);
    return rows!
      .map((r) => JSON.parse(String(r.record)) as DeviceStatusRecord)
      .sort((a, b) => cmp(a.deviceId, b.deviceId));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Acked writes must be in InfluxDB: let queued batches finish first.
    while (this.draining) await this.draining;
    await this.http.close();
  }
}

const msToNs = (ms: number, slot = 0): string => (BigInt(ms) * 1_000_000n + BigInt(slot)).toString();

const splitKey = (key: string): [number, string] => {
  const bar = key.indexOf('|');
  return [Number(key.slice(0, bar)), key.slice(bar + 1)];
};

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** (capturedAt DESC, messageId DESC): negative when `a` comes first. */
const newestFirst = (a: Row, b: Row): number =>
  Number(b.time) - Number(a.time) || cmp(String(b.messageId), String(a.messageId));

export const toLines = (obs: Observation, receivedAt: Date, slot: number): string[] => {
  const ms = Date.parse(obs.capturedAt);
  const t = msToNs(ms, slot);
  const tags = (p: Point) =>
    p.tag('deviceId', obs.deviceId).tag('outletId', obs.outletId).tag('fixtureId', obs.fixtureId).timestamp(t);
  const skus: SkuTally[] = obs.skus
    .map(({ sku, count, facings }) => ({ sku, count, facings }))
    .sort((a, b) => cmp(a.sku, b.sku));
  const o = tags(new Point(MEASUREMENTS.observations))
    .stringField('messageId', obs.messageId)
    .intField('slot', slot)
    .intField('seq', obs.seq)
    .intField('receivedAt', receivedAt.getTime())
    .stringField('modelName', obs.model.name)
    .stringField('modelVersion', obs.model.version)
    .intField('imageWidth', obs.image.width)
    .intField('imageHeight', obs.image.height)
    .stringField('qualityFlags', JSON.stringify(obs.image.qualityFlags))
    .intField('emptyFacings', obs.emptyFacings)
    .intField('unknownProducts', obs.unknownProducts)
    .floatField('inferenceMs', obs.inferenceMs)
    .stringField('skus', JSON.stringify(skus));
  if (obs.gallery) o.stringField('galleryName', obs.gallery.name).stringField('galleryVersion', obs.gallery.version);
  if (obs.image.brightness !== undefined) o.floatField('brightness', obs.image.brightness);
  if (obs.image.sharpness !== undefined) o.floatField('sharpness', obs.image.sharpness);
  if (obs.detections) o.stringField('detections', JSON.stringify(obs.detections));
  const lines = [o.toLineProtocol()!];
  for (const s of skus)
    lines.push(
      tags(new Point(MEASUREMENTS.skuCounts))
        .tag('sku', s.sku)
        .intField('count', s.count)
        .intField('facings', s.facings)
        .intField('slot', slot)
        .toLineProtocol()!,
    );
  return lines;
};

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const toSummary = (r: Row): FixtureSummary => ({
  messageId: String(r.messageId),
  outletId: String(r.outletId),
  fixtureId: String(r.fixtureId),
  deviceId: String(r.deviceId),
  capturedAt: new Date(Number(r.time)).toISOString(),
  receivedAt: new Date(Number(r.receivedAt)).toISOString(),
  skus: JSON.parse(String(r.skus)) as SkuTally[],
  emptyFacings: Number(r.emptyFacings),
  unknownProducts: Number(r.unknownProducts),
  model: { name: String(r.modelName), version: String(r.modelVersion) },
  qualityFlags: JSON.parse(String(r.qualityFlags)) as FixtureSummary['qualityFlags'],
});

const toStored = (r: Row): StoredObservation => ({
  ...toSummary(r),
  seq: Number(r.seq),
  gallery:
    r.galleryName === null || r.galleryName === undefined
      ? null
      : { name: String(r.galleryName), version: String(r.galleryVersion) },
  image: {
    width: Number(r.imageWidth),
    height: Number(r.imageHeight),
    brightness: numOrNull(r.brightness),
    sharpness: numOrNull(r.sharpness),
  },
  inferenceMs: Number(r.inferenceMs),
  detections:
    r.detections === null || r.detections === undefined
      ? null
      : (JSON.parse(String(r.detections)) as StoredObservation['detections']),
});
