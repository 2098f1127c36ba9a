import { HttpError, InfluxDB, canRetryHttpCall, setLogger, type WriteApi } from '@influxdata/influxdb-client';

// The client logs every failed attempt to the console itself. Here a failure is either retried by
// `InfluxHttp.retrying` or surfaces as a rejected store call (ingest logs it and withholds the PUBACK),
// so its own console lines would only be noise outside the cloud's pino log. (Process-wide setting.)
setLogger({ error: () => undefined, warn: () => undefined });

/**
 * HTTP plumbing for the InfluxDB adapter, all through @influxdata/influxdb-client's transport:
 *
 * - Writes go through the client's WriteApi (line protocol, gzip above 1 kB, 204 check). The client
 *   only knows the v2 path `/api/v2/write`, which InfluxDB 1.6 (Debian's package) does not have, so in
 *   `v1` mode a thin transport wrapper rewrites that one path to `/write?db=&rp=&precision=`. The
 *   WriteApi's own retry buffer is switched off (`maxRetries: 0`): it is in memory only and its
 *   `flush()` rejects before retries finish, while the store must resolve a write only once InfluxDB
 *   has it (ingest acks the MQTT message after that). `InfluxHttp.write` retries itself instead.
 * - Reads are InfluxQL over `/query` (1.x natively, 2.x via its v1 compatibility API, 3.x) with
 *   `params` JSON for bound parameters and `epoch=ms`, so times come back as integers that fit a double.
 */
export interface InfluxHttpOptions {
  url: string;
  database: string;
  retentionPolicy?: string;
  /** Sent as `Authorization: Token …` (2.x/3.x tokens; 1.8+ also accepts `user:password`). */
  token?: string;
  /** Set both to write through `/api/v2/write` (2.x, 3.x); otherwise writes use the v1 `/write`. */
  org?: string;
  bucket?: string;
  timeoutMs?: number;
  maxRetries?: number;
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/** Lines per HTTP write; InfluxDB's docs recommend 5–10k. */
export const WRITE_CHUNK_LINES = 10_000;

export type Row = Record<string, unknown>;

interface QueryResponse {
  results?: { statement_id?: number; error?: string; series?: Series[] }[];
  error?: string;
}
interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export class InfluxQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InfluxQueryError';
  }
}

export class InfluxHttp {
  private readonly influx: InfluxDB;
  private readonly writeApi: WriteApi;
  private readonly queryPath: string;
  private readonly maxRetries: number;
  private readonly minDelay: number;
  private readonly maxDelay: number;

  constructor(private readonly opts: InfluxHttpOptions) {
    const base = new InfluxDB({
      url: opts.url,
      ...(opts.token ? { token: opts.token } : {}),
      timeout: opts.timeoutMs ?? 10_000,
    });
    const v2 = opts.org !== undefined && opts.bucket !== undefined;
    const v1WritePath =
      `/write?db=${encodeURIComponent(opts.database)}&precision=ns` +
      (opts.retentionPolicy ? `&rp=${encodeURIComponent(opts.retentionPolicy)}` : '');
    const inner = base.transport;
    this.influx = v2
      ? base
      : new InfluxDB({
          url: opts.url,
          transport: {
            send: (path, body, options, callbacks) =>
              inner.send(path.startsWith('/api/v2/write') ? v1WritePath : path, body, options, callbacks),
            request: (path, body, options, started) => inner.request(path, body, options, started),
            iterate: (path, body, options) => inner.iterate(path, body, options),
            chunkCombiner: inner.chunkCombiner,
          },
        });
    this.writeApi = this.influx.getWriteApi(opts.org ?? '', opts.bucket ?? opts.database, 'ns', {
      batchSize: WRITE_CHUNK_LINES + 1,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: 1,
    });
    this.queryPath =
      `/query?db=${encodeURIComponent(opts.database)}&epoch=ms` +
      (opts.retentionPolicy ? `&rp=${encodeURIComponent(opts.retentionPolicy)}` : '');
    this.maxRetries = opts.maxRetries ?? 4;
    this.minDelay = opts.minRetryDelayMs ?? 200;
    this.maxDelay = opts.maxRetryDelayMs ?? 5_000;
  }

  /** Writes line protocol (ns timestamps) in chunks; retries 429/5xx/network errors with backoff. */
  async write(lines: string[]): Promise<void> {
    for (let i = 0; i < lines.length; i += WRITE_CHUNK_LINES) {
      const chunk = lines.slice(i, i + WRITE_CHUNK_LINES);
      await this.retrying(async () => {
        this.writeApi.writeRecords(chunk);
        await this.writeApi.flush();
      });
    }
  }

  /**
   * Runs InfluxQL statements (`;`-separated) with bound `$name` parameters and returns the rows of
   * each statement; series tags are merged into their rows. Reads retry like writes (they are safe).
   */
  async query(q: string, params: Record<string, string | number> = {}): Promise<Row[][]> {
    const body = new URLSearchParams({ q, params: JSON.stringify(params) }).toString();
    const res = (await this.retrying(() =>
      this.influx.transport.request(this.queryPath, body, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      }),
    )) as QueryResponse;
    if (res.error) throw new InfluxQueryError(res.error);
    return (res.results ?? []).map((r) => {
      if (r.error) throw new InfluxQueryError(r.error);
      return (r.series ?? []).flatMap((s) =>
        s.values.map((v) => {
          const row: Row = { ...s.tags };
          s.columns.forEach((c, i) => (row[c] = v[i]));
          return row;
        }),
      );
    });
  }

  /** Statements without results (CREATE DATABASE); errors still throw. */
  async command(q: string): Promise<void> {
    await this.query(q);
  }

  close(): Promise<void> {
    return this.writeApi.close();
  }

  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt >= this.maxRetries || !canRetryHttpCall(err)) throw err;
        const retryAfterS = err instanceof HttpError ? err.retryAfter() : 0;
        const backoff = Math.min(this.minDelay * 2 ** attempt, this.maxDelay);
        const delay = retryAfterS > 0 ? retryAfterS * 1000 : backoff / 2 + Math.random() * (backoff / 2);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

/** InfluxQL identifier quoting, for the few names that cannot be bound (database, measurement). */
export const quoteIdent = (name: string): string => {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name))
    throw new Error(`invalid InfluxDB identifier ${JSON.stringify(name)}: use letters, digits, _ . -`);
  return `"${name}"`;
};
