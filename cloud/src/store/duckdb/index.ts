import {
  BIGINT,
  DOUBLE,
  DuckDBInstance,
  INTEGER,
  LIST,
  VARCHAR,
  listValue,
  type DuckDBConnection,
  type DuckDBPreparedStatement,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { DeviceStatus, ModelRef, Observation } from '@shelfsight/protocol';
import { decodeCursor, encodeCursor } from '../cursor.js';
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
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';

export interface DuckDbStoreOptions {
  /** A file path, or ':memory:' (tests). */
  path: string;
  /** DuckDB worker threads; the cloud shares small edge-class boxes, so keep it low. */
  threads?: number;
}

/** Bounds one history response; older points beyond it are dropped (newest kept). */
export const MAX_HISTORY_OBSERVATIONS = 5000;

type Row = Record<string, unknown>;

interface PendingWrite {
  obs: Observation;
  receivedAt: Date;
  resolve: (r: { inserted: boolean }) => void;
  reject: (err: Error) => void;
}

/** RFC 3339 (any offset, up to µs) → µs since the epoch; Date.parse alone would drop the µs. */
const isoToMicros = (iso: string): bigint => {
  const m = /\.(\d+)/.exec(iso);
  const frac = m ? m[1]! : '';
  const ms = Date.parse(m ? iso.replace(/\.\d+/, `.${frac.slice(0, 3).padEnd(3, '0')}`) : iso);
  return BigInt(ms) * 1000n + BigInt(frac.slice(3, 6).padEnd(3, '0'));
};

/**
 * One observation of a batch as the JSON document the bulk INSERTs read (short keys: the document
 * is built and parsed once per batch). Absent optional fields become NULL. Times are µs since the epoch.
 */
interface BatchRow {
  m: string;
  d: string;
  o: string;
  f: string;
  t: number;
  r: number;
  q: number;
  mn: string;
  mv: string;
  gn: string | undefined;
  gv: string | undefined;
  w: number;
  h: number;
  b: number | undefined;
  s: number | undefined;
  qf: string[];
  e: number;
  u: number;
  i: number;
  det: string | undefined;
  k: Observation['skus'];
}
const BATCH_JSON = `from_json($1::VARCHAR, '[{"m":"VARCHAR","d":"VARCHAR","o":"VARCHAR","f":"VARCHAR","t":"BIGINT","r":"BIGINT","q":"BIGINT","mn":"VARCHAR","mv":"VARCHAR","gn":"VARCHAR","gv":"VARCHAR","w":"INTEGER","h":"INTEGER","b":"DOUBLE","s":"DOUBLE","qf":["VARCHAR"],"e":"INTEGER","u":"INTEGER","i":"DOUBLE","det":"VARCHAR","k":[{"sku":"VARCHAR","count":"INTEGER","facings":"INTEGER"}]}]')`;
const INSERT_OBSERVATIONS_FROM_JSON = `INSERT INTO observations (message_id, device_id, outlet_id, fixture_id,
    captured_at, received_at, seq, model_name, model_version, gallery_name, gallery_version, image_width,
    image_height, brightness, sharpness, quality_flags, empty_facings, unknown_products, inference_ms, detections)
  SELECT o.m, o.d, o.o, o.f, make_timestamp(o.t)::TIMESTAMPTZ, make_timestamp(o.r)::TIMESTAMPTZ, o.q, o.mn, o.mv, o.gn, o.gv,
    o.w, o.h, o.b, o.s, o.qf, o.e, o.u, o.i, o.det
  FROM (SELECT unnest(${BATCH_JSON}) AS o)`;
/** Extra keys of a SKU (meanConfidence) are ignored by from_json, as the table has no column for them. */
const INSERT_SKUS_FROM_JSON = `INSERT INTO sku_counts (message_id, captured_at, outlet_id, fixture_id, device_id, sku, count, facings)
  SELECT b.o.m, make_timestamp(b.o.t)::TIMESTAMPTZ, b.o.o, b.o.f, b.o.d, unnest(b.o.k, recursive := true)
  FROM (SELECT unnest(${BATCH_JSON}) AS o) b`;

/** Observations per transaction at most; bounds the time one COMMIT holds readers back. */
const MAX_BATCH = 500;

/**
 * Embedded single-writer adapter. Every statement runs through one promise queue on one
 * connection: DuckDB allows a single writer per file anyway, and the queue makes each write's
 * transaction atomic with respect to reads without any locking games.
 */
export class DuckDbStore implements TimeSeriesStore {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private pending: PendingWrite[] = [];
  private flushQueued = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly stmts: Statements,
  ) {}

  static async open(opts: DuckDbStoreOptions): Promise<DuckDbStore> {
    const instance = await DuckDBInstance.create(opts.path, { threads: String(opts.threads ?? 2) });
    const conn = await instance.connect();
    // Timestamps are compared and printed in UTC regardless of the host's zone.
    await conn.run(`SET TimeZone = 'UTC'`);
    for (const sql of SCHEMA_SQL) await conn.run(sql);
    const meta = (await conn.runAndReadAll('SELECT version FROM schema_meta')).getRowObjectsJS();
    if (meta.length === 0) await conn.run(`INSERT INTO schema_meta VALUES (${SCHEMA_VERSION})`);
    else if (Number(meta[0]?.version) !== SCHEMA_VERSION)
      throw new Error(`store schema version ${String(meta[0]?.version)} is not ${SCHEMA_VERSION}; migrate first`);
    return new DuckDbStore(instance, conn, await prepareStatements(conn));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Group commit: writes that arrive while a transaction is being written join the next one, so
   * a burst of N observations costs one COMMIT instead of N. Each caller still resolves only
   * after the transaction holding its observation committed.
   */
  writeObservation(obs: Observation, receivedAt: Date): Promise<{ inserted: boolean }> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ obs, receivedAt, resolve, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        void this.serial(() => this.flushPending());
      }
    });
  }

  private async flushPending(): Promise<void> {
    this.flushQueued = false;
    const batch = this.pending.splice(0, MAX_BATCH);
    if (this.pending.length > 0) {
      this.flushQueued = true;
      void this.serial(() => this.flushPending());
    }
    if (batch.length === 0) return;
    try {
      const results = await this.transaction(() => this.appendBatch(batch));
      batch.forEach((w, i) => w.resolve({ inserted: results[i]! }));
    } catch {
      // One bad write must not fail its neighbours: retry each alone and report individually.
      for (const w of batch) {
        try {
          w.resolve({ inserted: await this.transaction(() => this.insertOne(w.obs, w.receivedAt)) });
        } catch (err) {
          w.reject(err instanceof Error ? err : new Error(String(err)));
        }
      }
    }
  }

  private async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const out = await fn();
      await this.conn.run('COMMIT');
      return out;
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /**
   * Bulk path: one duplicate check for the batch, then DuckDB appenders (an order of magnitude
   * faster than row-by-row INSERTs). Safe without ON CONFLICT because this is the only writer and
   * runs inside the serial queue and a transaction.
   */
  private async appendBatch(batch: PendingWrite[]): Promise<boolean[]> {
    const ids = batch.map((w) => w.obs.messageId);
    const existing = new Set(
      (
        await this.conn.runAndReadAll(
          'SELECT message_id FROM observations WHERE message_id IN (SELECT unnest($1::VARCHAR[]))',
          [listValue(ids)],
          [LIST(VARCHAR)],
        )
      )
        .getRows()
        .map((r) => String(r[0])),
    );
    const fresh = batch.map((w) => {
      if (existing.has(w.obs.messageId)) return false;
      existing.add(w.obs.messageId); // a redelivery inside the same batch is a duplicate too
      return true;
    });
    if (!fresh.includes(true)) return fresh;
    // The batch goes in as one JSON document that DuckDB unnests on its own thread. Appending it
    // cell by cell (~220 synchronous native calls per 24-SKU observation, plus a synchronous
    // flush) cost more event-loop time than validating the payload.
    const rows: BatchRow[] = [];
    batch.forEach((w, i) => {
      if (!fresh[i]) return;
      const { obs } = w;
      rows.push({
        m: obs.messageId,
        d: obs.deviceId,
        o: obs.outletId,
        f: obs.fixtureId,
        t: Number(isoToMicros(obs.capturedAt)),
        r: w.receivedAt.getTime() * 1000,
        q: obs.seq,
        mn: obs.model.name,
        mv: obs.model.version,
        gn: obs.gallery?.name,
        gv: obs.gallery?.version,
        w: obs.image.width,
        h: obs.image.height,
        b: obs.image.brightness,
        s: obs.image.sharpness,
        qf: obs.image.qualityFlags,
        e: obs.emptyFacings,
        u: obs.unknownProducts,
        i: obs.inferenceMs,
        det: obs.detections ? JSON.stringify(obs.detections) : undefined,
        k: obs.skus,
      });
    });
    const doc = JSON.stringify(rows);
    await this.conn.run(INSERT_OBSERVATIONS_FROM_JSON, [doc], [VARCHAR]);
    await this.conn.run(INSERT_SKUS_FROM_JSON, [doc], [VARCHAR]);
    return fresh;
  }

  /** Inserts one observation and its SKU rows; false when the message id was already stored. */
  private async insertOne(obs: Observation, receivedAt: Date): Promise<boolean> {
    const s = this.stmts.insertObservation;
    s.bind(
      [
        obs.messageId,
        obs.deviceId,
        obs.outletId,
        obs.fixtureId,
        obs.capturedAt,
        receivedAt.toISOString(),
        obs.seq,
        obs.model.name,
        obs.model.version,
        obs.gallery?.name ?? null,
        obs.gallery?.version ?? null,
        obs.image.width,
        obs.image.height,
        obs.image.brightness ?? null,
        obs.image.sharpness ?? null,
        listValue(obs.image.qualityFlags),
        obs.emptyFacings,
        obs.unknownProducts,
        obs.inferenceMs,
        obs.detections ? JSON.stringify(obs.detections) : null,
      ],
      INSERT_OBSERVATION_TYPES,
    );
    const inserted = (await s.runAndReadAll()).currentRowCount > 0;
    if (inserted && obs.skus.length > 0) {
      const k = this.stmts.insertSkus;
      k.bind(
        [
          obs.messageId,
          obs.capturedAt,
          obs.outletId,
          obs.fixtureId,
          obs.deviceId,
          listValue(obs.skus.map((x) => x.sku)),
          listValue(obs.skus.map((x) => x.count)),
          listValue(obs.skus.map((x) => x.facings)),
        ],
        [VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, LIST(VARCHAR), LIST(INTEGER), LIST(INTEGER)],
      );
      await k.run();
    }
    return inserted;
  }

  async queryObservations(q: ObservationQuery): Promise<ObservationPage> {
    const limit = Math.min(Math.max(q.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const cursor = q.cursor === undefined ? null : decodeCursor(q.cursor);
    return this.serial(async () => {
      const rows = await this.select(
        `SELECT ${OBS_COLUMNS} FROM observations
         WHERE ($device IS NULL OR device_id = $device)
           AND ($outlet IS NULL OR outlet_id = $outlet)
           AND ($fixture IS NULL OR fixture_id = $fixture)
           AND ($from IS NULL OR captured_at >= $from::TIMESTAMPTZ)
           AND ($to IS NULL OR captured_at < $to::TIMESTAMPTZ)
           AND ($cur_us IS NULL OR epoch_us(captured_at) < $cur_us
                OR (epoch_us(captured_at) = $cur_us AND message_id < $cur_id))
         ORDER BY captured_at DESC, message_id DESC
         LIMIT $limit`,
        {
          device: q.deviceId ?? null,
          outlet: q.outletId ?? null,
          fixture: q.fixtureId ?? null,
          from: q.from?.toISOString() ?? null,
          to: q.to?.toISOString() ?? null,
          cur_us: cursor?.us ?? null,
          cur_id: cursor?.id ?? null,
          limit: limit + 1,
        },
        {
          device: VARCHAR,
          outlet: VARCHAR,
          fixture: VARCHAR,
          from: VARCHAR,
          to: VARCHAR,
          cur_us: BIGINT,
          cur_id: VARCHAR,
          limit: BIGINT,
        },
      );
      const page = rows.slice(0, limit);
      const skus = await this.skusFor(page.map((r) => String(r.message_id)));
      const items = page.map((r) => toStored(r, skus.get(String(r.message_id)) ?? []));
      const last = page[page.length - 1];
      const nextCursor =
        rows.length > limit && last
          ? encodeCursor({ us: BigInt(String(last.cap_us)), id: String(last.message_id) })
          : null;
      return { items, nextCursor };
    });
  }

  latestPerFixture(): Promise<FixtureSummary[]> {
    return this.serial(async () => {
      const rows = await this.select(
        `SELECT ${OBS_COLUMNS} FROM observations
         QUALIFY row_number() OVER (PARTITION BY fixture_id ORDER BY captured_at DESC, message_id DESC) = 1
         ORDER BY outlet_id, fixture_id`,
      );
      const skus = await this.skusFor(rows.map((r) => String(r.message_id)));
      return rows.map((r) => toSummary(r, skus.get(String(r.message_id)) ?? []));
    });
  }

  skuHistory(q: SkuHistoryQuery): Promise<SkuSeries[]> {
    return this.serial(async () => {
      const rows = await this.select(
        `WITH obs AS (
           SELECT message_id, captured_at FROM observations
           WHERE fixture_id = $fixture
             AND ($from IS NULL OR captured_at >= $from::TIMESTAMPTZ)
             AND ($to IS NULL OR captured_at < $to::TIMESTAMPTZ)
           ORDER BY captured_at DESC LIMIT ${MAX_HISTORY_OBSERVATIONS}
         ),
         skus AS (
           SELECT $sku AS sku WHERE $sku IS NOT NULL
           UNION
           SELECT DISTINCT c.sku FROM sku_counts c JOIN obs o USING (message_id) WHERE $sku IS NULL
         )
         SELECT s.sku, epoch_ms(o.captured_at) AS cap_ms,
                coalesce(c.count, 0) AS count, coalesce(c.facings, 0) AS facings
         FROM obs o CROSS JOIN skus s
         LEFT JOIN sku_counts c ON c.message_id = o.message_id AND c.sku = s.sku
         ORDER BY s.sku, o.captured_at, o.message_id`,
        {
          fixture: q.fixtureId,
          sku: q.sku ?? null,
          from: q.from?.toISOString() ?? null,
          to: q.to?.toISOString() ?? null,
        },
        { fixture: VARCHAR, sku: VARCHAR, from: VARCHAR, to: VARCHAR },
      );
      const series = new Map<string, SkuSeries>();
      for (const r of rows) {
        const sku = String(r.sku);
        let s = series.get(sku);
        if (!s) series.set(sku, (s = { sku, points: [] }));
        s.points.push({ capturedAt: msToIso(r.cap_ms), count: Number(r.count), facings: Number(r.facings) });
      }
      return [...series.values()];
    });
  }

  async scanCounts(q: CountScanQuery): Promise<CountScanPage> {
    const limit = Math.min(Math.max(q.limit ?? DEFAULT_SCAN_PAGE_SIZE, 1), MAX_SCAN_PAGE_SIZE);
    const cursor = q.cursor === undefined ? null : decodeCursor(q.cursor);
    return this.serial(async () => {
      // The page is cut from observations first; its SKU rows are then joined within the page's
      // time range, so each page reads only its own slice of sku_counts (zone maps on captured_at).
      const rows = await this.select(
        `WITH page AS (
           SELECT message_id, outlet_id, fixture_id, captured_at, epoch_us(captured_at) AS cap_us,
                  empty_facings, unknown_products
           FROM observations
           WHERE ($from IS NULL OR captured_at >= $from::TIMESTAMPTZ)
             AND ($to IS NULL OR captured_at < $to::TIMESTAMPTZ)
             AND ($recv IS NULL OR received_at >= $recv::TIMESTAMPTZ)
             AND ($cur_us IS NULL OR (captured_at >= $cur_floor::TIMESTAMPTZ AND (epoch_us(captured_at) > $cur_us
                  OR (epoch_us(captured_at) = $cur_us AND message_id > $cur_id))))
           ORDER BY captured_at, message_id
           LIMIT $limit
         ),
         counts AS (
           SELECT c.message_id, c.sku, c.count, c.facings FROM sku_counts c
           WHERE c.captured_at >= (SELECT min(captured_at) FROM page)
             AND c.captured_at <= (SELECT max(captured_at) FROM page)
         )
         SELECT p.message_id, p.outlet_id, p.fixture_id, p.cap_us, p.empty_facings, p.unknown_products,
                list(c.sku ORDER BY c.sku) FILTER (WHERE c.sku IS NOT NULL) AS skus,
                list(c.count ORDER BY c.sku) FILTER (WHERE c.sku IS NOT NULL) AS counts,
                list(c.facings ORDER BY c.sku) FILTER (WHERE c.sku IS NOT NULL) AS facings
         FROM page p LEFT JOIN counts c ON c.message_id = p.message_id
         GROUP BY p.message_id, p.outlet_id, p.fixture_id, p.cap_us, p.empty_facings, p.unknown_products
         ORDER BY p.cap_us, p.message_id`,
        {
          from: q.from?.toISOString() ?? null,
          to: q.to?.toISOString() ?? null,
          recv: q.receivedFrom?.toISOString() ?? null,
          cur_us: cursor?.us ?? null,
          cur_floor: cursor ? new Date(Number(cursor.us / 1000n) - 1).toISOString() : null,
          cur_id: cursor?.id ?? null,
          limit: limit + 1,
        },
        {
          from: VARCHAR,
          to: VARCHAR,
          recv: VARCHAR,
          cur_us: BIGINT,
          cur_floor: VARCHAR,
          cur_id: VARCHAR,
          limit: BIGINT,
        },
      );
      const page = rows.slice(0, limit);
      const items = page.map((r) => {
        const skus = (r.skus as string[] | null) ?? [];
        const counts = (r.counts as number[] | null) ?? [];
        const facings = (r.facings as number[] | null) ?? [];
        return {
          messageId: String(r.message_id),
          outletId: String(r.outlet_id),
          fixtureId: String(r.fixture_id),
          capturedAt: new Date(Number(BigInt(String(r.cap_us)) / 1000n)).toISOString(),
          skus: skus.map((sku, i) => ({ sku, count: Number(counts[i]), facings: Number(facings[i]) })),
          emptyFacings: Number(r.empty_facings),
          unknownProducts: Number(r.unknown_products),
        };
      });
      const last = page[page.length - 1];
      const nextCursor =
        rows.length > limit && last
          ? encodeCursor({ us: BigInt(String(last.cap_us)), id: String(last.message_id) })
          : null;
      return { items, nextCursor };
    });
  }

  upsertDeviceStatus(status: DeviceStatus, receivedAt: Date): Promise<DeviceStatusRecord> {
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
    return this.serial(async () => {
      const s = this.stmts.upsertStatus;
      s.bind(
        [
          record.deviceId,
          record.state,
          record.at,
          record.receivedAt,
          record.agentVersion,
          jsonOrNull(record.model),
          jsonOrNull(record.gallery),
          jsonOrNull(record.health),
        ],
        [VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR],
      );
      await s.run();
      return record;
    });
  }

  listDeviceStatus(): Promise<DeviceStatusRecord[]> {
    return this.serial(async () => {
      const rows = await this.select(
        `SELECT device_id, state, epoch_ms(reported_at) AS at_ms, epoch_ms(received_at) AS rec_ms,
                agent_version, model, gallery, health
         FROM device_status ORDER BY device_id`,
      );
      return rows.map((r) => ({
        deviceId: String(r.device_id),
        state: r.state === 'online' ? 'online' : 'offline',
        at: r.at_ms === null ? null : msToIso(r.at_ms),
        receivedAt: msToIso(r.rec_ms),
        agentVersion: r.agent_version === null ? null : String(r.agent_version),
        model: parseJson(r.model) as ModelRef | null,
        gallery: parseJson(r.gallery) as ModelRef | null,
        health: parseJson(r.health) as DeviceStatusRecord['health'],
      }));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Let queued writes finish: an observation that was acked must be in the file.
    await this.serial(async () => undefined);
    this.closed = true;
    for (const s of Object.values(this.stmts)) s.destroySync();
    this.conn.closeSync();
    this.instance.closeSync();
  }

  private async select(
    sql: string,
    values?: Record<string, DuckDBValue>,
    types?: Record<string, DuckDBType>,
  ): Promise<Row[]> {
    const reader = await this.conn.runAndReadAll(sql, values, types);
    return reader.getRowObjectsJS() as Row[];
  }

  private async skusFor(messageIds: string[]): Promise<Map<string, SkuTally[]>> {
    const out = new Map<string, SkuTally[]>();
    if (messageIds.length === 0) return out;
    const rows = await this.select(
      `SELECT message_id, sku, count, facings FROM sku_counts
       WHERE list_contains($ids, message_id) ORDER BY message_id, sku`,
      { ids: listValue(messageIds) },
      { ids: LIST(VARCHAR) },
    );
    for (const r of rows) {
      const id = String(r.message_id);
      const list = out.get(id) ?? [];
      list.push({ sku: String(r.sku), count: Number(r.count), facings: Number(r.facings) });
      out.set(id, list);
    }
    return out;
  }
}

interface Statements {
  insertObservation: DuckDBPreparedStatement;
  insertSkus: DuckDBPreparedStatement;
  upsertStatus: DuckDBPreparedStatement;
}

const INSERT_OBSERVATION_TYPES: DuckDBType[] = [
  VARCHAR,
  VARCHAR,
  VARCHAR,
  VARCHAR,
  VARCHAR,
  VARCHAR,
  BIGINT,
  VARCHAR,
  VARCHAR,
  VARCHAR,
  VARCHAR,
  INTEGER,
  INTEGER,
  DOUBLE,
  DOUBLE,
  LIST(VARCHAR),
  INTEGER,
  INTEGER,
  DOUBLE,
  VARCHAR,
];

const prepareStatements = async (conn: DuckDBConnection): Promise<Statements> => ({
  // ON CONFLICT DO NOTHING + RETURNING tells us in one round trip whether this id was new.
  insertObservation: await conn.prepare(
    `INSERT INTO observations VALUES
       ($1, $2, $3, $4, $5::TIMESTAMPTZ, $6::TIMESTAMPTZ, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
     ON CONFLICT DO NOTHING RETURNING message_id`,
  ),
  insertSkus: await conn.prepare(
    `INSERT INTO sku_counts
     SELECT $1, $2::TIMESTAMPTZ, $3, $4, $5, unnest($6), unnest($7), unnest($8)`,
  ),
  upsertStatus: await conn.prepare(
    `INSERT INTO device_status VALUES ($1, $2, $3::TIMESTAMPTZ, $4::TIMESTAMPTZ, $5, $6, $7, $8)
     ON CONFLICT (device_id) DO UPDATE SET
       state = excluded.state, reported_at = excluded.reported_at, received_at = excluded.received_at,
       agent_version = excluded.agent_version, model = excluded.model,
       gallery = excluded.gallery, health = excluded.health`,
  ),
});

const OBS_COLUMNS = `message_id, device_id, outlet_id, fixture_id,
  epoch_us(captured_at) AS cap_us, epoch_ms(captured_at) AS cap_ms, epoch_ms(received_at) AS rec_ms,
  seq, model_name, model_version, gallery_name, gallery_version, image_width, image_height,
  brightness, sharpness, quality_flags, empty_facings, unknown_products, inference_ms, detections`;

const msToIso = (v: unknown): string => new Date(Number(v)).toISOString();
const jsonOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
const parseJson = (v: unknown): unknown => (v === null || v === undefined ? null : JSON.parse(String(v)));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const toSummary = (r: Row, skus: SkuTally[]): FixtureSummary => ({
  messageId: String(r.message_id),
  outletId: String(r.outlet_id),
  fixtureId: String(r.fixture_id),
  deviceId: String(r.device_id),
  capturedAt: msToIso(r.cap_ms),
  receivedAt: msToIso(r.rec_ms),
  skus,
  emptyFacings: Number(r.empty_facings),
  unknownProducts: Number(r.unknown_products),
  model: { name: String(r.model_name), version: String(r.model_version) },
  qualityFlags: (r.quality_flags as FixtureSummary['qualityFlags'] | null) ?? [],
});

const toStored = (r: Row, skus: SkuTally[]): StoredObservation => ({
  ...toSummary(r, skus),
  seq: Number(r.seq),
  gallery: r.gallery_name === null ? null : { name: String(r.gallery_name), version: String(r.gallery_version) },
  image: {
    width: Number(r.image_width),
    height: Number(r.image_height),
    brightness: numOrNull(r.brightness),
    sharpness: numOrNull(r.sharpness),
  },
  inferenceMs: Number(r.inference_ms),
  detections: parseJson(r.detections) as StoredObservation['detections'],
});
