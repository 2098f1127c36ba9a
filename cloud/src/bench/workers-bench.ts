/**
 * `node cloud/dist/bench/workers-bench.js --json [--workers 1,2] [--observations N] [--devices D] [--sessions S]`
 *
 * Scale-out ingest (docs/decisions.md D16): Mosquitto + influxd started here, W ingest-worker
 * processes (the real CLI) on `$share/ingest/…/observations`, devices in forked load generators
 * publishing 24-SKU observations at QoS 1, 8 in flight each. Here a PUBACK comes from Mosquitto,
 * so throughput is measured to "stored": from the first publish until InfluxDB holds all N
 * (polled). Latency is publish → received by a worker (the stored receivedAt minus capturedAt,
 * which the load generator sets at publish time; one clock). CPU per observation is read from
 * /proc for each process, so the cost of each part can be projected onto more cores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { percentile, round1, startLoaders } from './loaders.js';
import { cpuMsOf, startInfluxdServer, startMosquittoServer } from './servers.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    workers: { type: 'string', default: '1,2' },
    observations: { type: 'string', default: '10000' },
    devices: { type: 'string', default: '50' },
    sessions: { type: 'string', default: '64' },
    loaders: { type: 'string', default: '1' },
    window: { type: 'string', default: '8' },
    /** Writes a V8 CPU profile of every worker into this directory (node --cpu-prof). */
    'profile-workers': { type: 'string' },
  },
});
const WORKERS = values.workers.split(',').map(Number);
const N = Number(values.observations);
const DEVICES = Number(values.devices);
const SESSIONS = Number(values.sessions);
const LOADERS = Number(values.loaders);
const WINDOW = Number(values.window);
for (const [k, v] of Object.entries({ observations: N, devices: DEVICES, sessions: SESSIONS, loaders: LOADERS }))
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive whole number`);
if (WORKERS.some((w) => !Number.isInteger(w) || w < 1)) throw new Error('--workers must be a list like 1,2');
const progress = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)}  ${msg}\n`);

const influxQuery = async (url: string, db: string, q: string) => {
  const res = await fetch(`${url}/query?${new URLSearchParams({ db, q, epoch: 'ms' })}`);
  const body = (await res.json()) as { results: { series?: { values: unknown[][] }[]; error?: string }[] };
  if (body.results[0]?.error) throw new Error(body.results[0].error);
  return body.results[0]?.series?.[0]?.values ?? [];
};

/** Each run has its own group: the sessions of an earlier run's workers persist in the broker (D16). */
const startWorker = (mqttUrl: string, influxUrl: string, db: string, group: string, id: string) =>
  new Promise<ChildProcess>((resolve, reject) => {
    const script = fileURLToPath(new URL('../ingest-worker.js', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        ...(values['profile-workers'] ? ['--cpu-prof', `--cpu-prof-dir=${values['profile-workers']}`] : []),
        script,
        ...['--mqtt-url', mqttUrl, '--worker-id', id, '--group', group, '--sessions', String(SESSIONS)],
        '--stats-every',
        '0',
        ...['--store', 'influx', '--influx-url', influxUrl, '--influx-db', db, '--log-level', 'info'],
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('"ingest worker started"')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker ${id} exited ${code}`)));
  });

const stopChild = (c: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (c.exitCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGTERM');
  });

const main = async () => {
  const load1 = loadavg()[0]!;
  progress('starting mosquitto and influxd');
  const broker = await startMosquittoServer(['max_queued_messages 1000000']);
  const influx = await startInfluxdServer();
  const loaders = startLoaders(LOADERS, WINDOW);
  const runs = [];
  try {
    for (const [r, w] of WORKERS.entries()) {
      const db = `bench_${r}_${w}`;
      const res = await fetch(`${influx.url}/query`, {
        method: 'POST',
        body: new URLSearchParams({ q: `CREATE DATABASE ${db}` }),
      });
      if (!res.ok) throw new Error(`CREATE DATABASE: ${res.status}`);
      const workers = await Promise.all(
        Array.from({ length: w }, (_, i) => startWorker(broker.url, influx.url, db, `bench${r}`, `w${i}`)),
      );
      progress(`${w} worker(s) × ${SESSIONS} sessions: ${N} observations from ${DEVICES} devices`);
      const pids = { workers: workers.map((c) => c.pid!), mosquitto: broker.pid, influxd: influx.pid };
      const cpu0 = {
        workers: await Promise.all(pids.workers.map(cpuMsOf)),
        mosquitto: await cpuMsOf(pids.mosquitto),
        influxd: await cpuMsOf(pids.influxd),
      };
      const per = Math.ceil(N / DEVICES);
      const total = per * DEVICES;
      const t0 = performance.now();
      const pumped = await loaders.pumpAll(
        broker.url,
        Array.from({ length: DEVICES }, (_, i) => `r${r}-dev-${i}`),
        per,
        'observation',
      );
      let stored = 0;
      const deadline = Date.now() + 300_000;
      while (Date.now() < deadline) {
        stored = Number((await influxQuery(influx.url, db, 'SELECT count("seq") FROM observations'))[0]?.[1] ?? 0);
        if (stored >= total) break;
        await new Promise((res2) => setTimeout(res2, 100));
      }
      const seconds = (performance.now() - t0) / 1000;
      const cpu1 = {
        workers: await Promise.all(pids.workers.map(cpuMsOf)),
        mosquitto: await cpuMsOf(pids.mosquitto),
        influxd: await cpuMsOf(pids.influxd),
      };
      const rows = await influxQuery(influx.url, db, 'SELECT "receivedAt" FROM observations');
      const lat = rows.map((row) => Number(row[1]) - Number(row[0]));
      await Promise.all(workers.map(stopChild));
      const perObs = (ms: number) => Math.round((ms / total) * 1000) / 1000;
      runs.push({
        workers: w,
        sessionsPerWorker: SESSIONS,
        observations: stored,
        storedPerSec: Math.round(stored / seconds),
        brokerAckedPerSec: Math.round(total / pumped.seconds),
        publishToReceivedMs: { p50: round1(percentile(lat, 50)), p99: round1(percentile(lat, 99)) },
        publishToBrokerAckMs: {
          p50: round1(percentile(pumped.latenciesMs, 50)),
          p99: round1(percentile(pumped.latenciesMs, 99)),
        },
        cpuMsPerObs: {
          workers: perObs(cpu1.workers.reduce((a, b) => a + b, 0) - cpu0.workers.reduce((a, b) => a + b, 0)),
          mosquitto: perObs(cpu1.mosquitto - cpu0.mosquitto),
          influxd: perObs(cpu1.influxd - cpu0.influxd),
        },
      });
      if (stored !== total) throw new Error(`stored ${stored} of ${total} observations within 300 s`);
    }
  } finally {
    await loaders.close();
    await broker.stop();
    await influx.stop();
  }
  const result = {
    runs,
    devices: DEVICES,
    window: WINDOW,
    skusPerObservation: 24,
    conditions: { loaders: LOADERS, loadavg1mAtStart: round1(load1), cpus: cpus().length },
  };
  if (values.json) console.log(JSON.stringify(result));
  else
    for (const r of runs)
      console.log(
        `${r.workers} worker(s): ${r.storedPerSec} obs/s stored, publish→received p50 ${r.publishToReceivedMs.p50} ms ` +
          `p99 ${r.publishToReceivedMs.p99} ms; CPU ms/obs workers ${r.cpuMsPerObs.workers}, ` +
          `mosquitto ${r.cpuMsPerObs.mosquitto}, influxd ${r.cpuMsPerObs.influxd}`,
      );
};

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
