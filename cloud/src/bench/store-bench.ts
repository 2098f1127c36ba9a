/**
 * Store benchmark: loads the same synthetic observations into DuckDB and into InfluxDB through the
 * TimeSeriesStore port and measures write throughput, a per-fixture SKU history, a cross-outlet
 * daily aggregation and memory. Each backend runs in its own child process so peak RSS is its own.
 *
 *   npx tsc -b cloud && node cloud/dist/bench/store-bench.js [--outlets 60] [--days 14] [--skus 24]
 *       [--inflight 256] [--queries 40] [--influxd /usr/bin/influxd]
 *
 * `--backend duckdb|influx` runs one; `--duck-load bulk` fills DuckDB by SQL (query timings at scale only).
 * Prints one JSON document. InfluxDB is a throwaway influxd (temp dirs, random ports) started here.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Observation } from '@shelfsight/protocol';
import { DuckDbStore } from '../store/duckdb/index.js';
import { InfluxHttp } from '../store/influx/http.js';
import { InfluxStore } from '../store/influx/index.js';
import type { TimeSeriesStore } from '../store/port.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string' },
    outlets: { type: 'string', default: '60' },
    days: { type: 'string', default: '14' },
    skus: { type: 'string', default: '24' },
    inflight: { type: 'string', default: '256' },
    queries: { type: 'string', default: '40' },
    influxd: { type: 'string', default: '/usr/bin/influxd' },
    /** `bulk`: fill DuckDB with SQL instead of the port (same shape, random counts) to time queries at scales the unbatched port would take minutes to load. */
    'duck-load': { type: 'string', default: 'port' },
  },
});
const OUTLETS = Number(args.outlets);
const DAYS = Number(args.days);
const SKUS = Number(args.skus);
const INFLIGHT = Number(args.inflight);
const QUERIES = Number(args.queries);
const START = Date.UTC(2024, 4, 1);
const HOUR = 3_600_000;

/** Deterministic pseudo-random so both backends get identical data. */
const rng = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

/** One cooler per outlet, hourly captures, each SKU present with a count that drifts (stockouts included). */
function* observations(): Generator<Observation> {
  const rand = rng(42);
  for (let h = 0; h < DAYS * 24; h++)
    for (let o = 0; o < OUTLETS; o++) {
      const skus = [];
      for (let s = 0; s < SKUS; s++) {
        const count = Math.floor(rand() * 8);
        if (count > 0) skus.push({ sku: `sku-${String(s).padStart(3, '0')}`, count, facings: Math.min(count, 3) });
      }
      yield {
        messageId: randomUUID(),
        deviceId: `dev-${o}`,
        outletId: `outlet-${String(o).padStart(4, '0')}`,
        fixtureId: `cooler-${o}`,
        capturedAt: new Date(START + h * HOUR + o * 1000).toISOString(),
        seq: h,
        model: { name: 'shelf-yolo', version: '1.0.0' },
        image: { width: 640, height: 480, brightness: 0.5, qualityFlags: [] },
        skus,
        emptyFacings: Math.floor(rand() * 3),
        unknownProducts: 0,
        inferenceMs: 45,
      } as Observation;
    }
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
};

const timeQueries = async (fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p95: number }> => {
  await fn(0); // warm-up
  const ms: number[] = [];
  for (let i = 1; i <= QUERIES; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  return { p50: percentile(ms, 50), p95: percentile(ms, 95) };
};

const load = async (store: TimeSeriesStore): Promise<{ observations: number; skuRows: number; seconds: number }> => {
  const t = performance.now();
  let n = 0;
  let skuRows = 0;
  const inflight = new Set<Promise<unknown>>();
  for (const obs of observations()) {
    n++;
    skuRows += obs.skus.length;
    const p: Promise<unknown> = store.writeObservation(obs, new Date()).then(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= INFLIGHT) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  return { observations: n, skuRows, seconds: (performance.now() - t) / 1000 };
};

const historyQuery = (store: TimeSeriesStore) => (i: number) =>
  store.skuHistory({
    fixtureId: `cooler-${(i * 7) % OUTLETS}`,
    from: new Date(START + (DAYS - 7) * 24 * HOUR),
    to: new Date(START + DAYS * 24 * HOUR),
  });

const rssMb = (pid: number | 'self'): { rss: number; peak: number } => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
};

const du = (path: string): number =>
  Math.round(Number(execFileSync('du', ['-sk', path]).toString().split('\t')[0]) / 1024);

async function benchDuckDb() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-duck-'));
  try {
    const path = join(dir, 'bench.duckdb');
    let store = await DuckDbStore.open({ path });
    let loaded: Awaited<ReturnType<typeof load>>;
    if (args['duck-load'] === 'bulk') {
      await store.close();
      loaded = await bulkLoadDuckDb(path);
      store = await DuckDbStore.open({ path });
    } else loaded = await load(store);
    const history = await timeQueries(historyQuery(store));
    await store.close();
    // The daily aggregation is analytics, not a port method: run it on the same file.
    const inst = await DuckDBInstance.create(path, { threads: '2' });
    const conn = await inst.connect();
    const daily = await timeQueries(() =>
      conn.runAndReadAll(
        `SELECT date_trunc('day', captured_at) AS day, sku, sum(facings) AS facings, avg(count) AS avg_count
         FROM sku_counts GROUP BY 1, 2`,
      ),
    );
    conn.closeSync();
    inst.closeSync();
    return { loaded, history, daily, fileMb: Math.round(statSync(path).size / 1048576), rssMb: rssMb('self') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Not the ingest path: bulk SQL with the same outlets/hours/SKUs, for query timings at larger scales. */
async function bulkLoadDuckDb(path: string): Promise<Awaited<ReturnType<typeof load>>> {
  const inst = await DuckDBInstance.create(path, { threads: '2' });
  const conn = await inst.connect();
  const t = performance.now();
  await conn.run(`SET TimeZone = 'UTC'`);
  await conn.run(
    `INSERT INTO observations
     SELECT gen_random_uuid()::VARCHAR, 'dev-' || o, 'outlet-' || lpad(o::VARCHAR, 4, '0'), 'cooler-' || o,
            TIMESTAMPTZ '${new Date(START).toISOString()}' + to_hours(h) + to_seconds(o), now(), h,
            'shelf-yolo', '1.0.0', NULL, NULL, 640, 480, 0.5, NULL, []::VARCHAR[], 0, 0, 45, NULL
     FROM range(${DAYS * 24}) a(h), range(${OUTLETS}) b(o)`,
  );
  await conn.run(
    `INSERT INTO sku_counts
     SELECT message_id, captured_at, outlet_id, fixture_id, device_id, sku, c, least(c, 3) FROM (
       SELECT o.*, 'sku-' || lpad(s::VARCHAR, 3, '0') AS sku, floor(random() * 8)::INTEGER AS c
       FROM observations o, range(${SKUS}) k(s)) WHERE c > 0`,
  );
  const rows = (await conn.runAndReadAll('SELECT count(*) AS n FROM sku_counts')).getRowObjectsJS();
  const seconds = (performance.now() - t) / 1000;
  conn.closeSync();
  inst.closeSync();
  return { observations: OUTLETS * DAYS * 24, skuRows: Number(rows[0]?.n), seconds };
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

async function benchInflux() {
  const root = mkdtempSync(join(tmpdir(), 'bench-influxd-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  await writeFile(
    join(root, 'influxdb.conf'),
    `reporting-disabled = true\nbind-address = "127.0.0.1:${rpcPort}"\n[meta]\n  dir = "${root}/meta"\n` +
      `[data]\n  dir = "${root}/data"\n  wal-dir = "${root}/wal"\n  query-log-enabled = false\n` +
      `[monitor]\n  store-enabled = false\n[http]\n  bind-address = "127.0.0.1:${httpPort}"\n  log-enabled = false\n` +
      `  max-row-limit = 0\n[logging]\n  level = "warn"\n[continuous_queries]\n  enabled = false\n`,
  );
  const child: ChildProcess = spawn(args.influxd!, ['run', '-config', join(root, 'influxdb.conf')], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${httpPort}`;
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/ping`).then(
        (r) => r.status === 204,
        () => false,
      );
      if (ok) break;
      if (i > 200) throw new Error('influxd did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const store = await InfluxStore.open({ url, database: 'bench', createDatabase: true });
    const loaded = await load(store);
    const history = await timeQueries(historyQuery(store));
    await store.close();
    const http = new InfluxHttp({ url, database: 'bench' });
    const daily = await timeQueries(() =>
      http.query(
        `SELECT SUM("facings") AS "facings", MEAN("count") AS "avg_count" FROM "sku_counts"
         WHERE time >= $a AND time < $b GROUP BY time(1d), "sku"`,
        { a: new Date(START).toISOString(), b: new Date(START + DAYS * 24 * HOUR).toISOString() },
      ),
    );
    await http.close();
    return { loaded, history, daily, dataMb: du(root), rssMb: rssMb('self'), influxdRssMb: rssMb(child.pid!) };
  } finally {
    child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}

const summarise = (r: Awaited<ReturnType<typeof benchDuckDb>> | Awaited<ReturnType<typeof benchInflux>>) => ({
  ...r,
  writeObsPerS: Math.round(r.loaded.observations / r.loaded.seconds),
  writeSkuRowsPerS: Math.round(r.loaded.skuRows / r.loaded.seconds),
});

if (args.backend === 'duckdb') console.log(JSON.stringify(summarise(await benchDuckDb())));
else if (args.backend === 'influx') console.log(JSON.stringify(summarise(await benchInflux())));
else {
  const self = fileURLToPath(import.meta.url);
  const passthrough = process.argv.slice(2);
  const runChild = (backend: string) =>
    JSON.parse(
      execFileSync(process.execPath, [self, '--backend', backend, ...passthrough], { encoding: 'utf8' }),
    ) as unknown;
  const result = {
    setup: {
      outlets: OUTLETS,
      days: DAYS,
      skusPerCatalogue: SKUS,
      observations: OUTLETS * DAYS * 24,
      inflightWrites: INFLIGHT,
      queryRuns: QUERIES,
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      influxd: execFileSync(args.influxd!, ['version'], { encoding: 'utf8' }).trim(),
    },
    duckdb: runChild('duckdb'),
    influx: runChild('influx'),
  };
  console.log(JSON.stringify(result, null, 2));
}
