/**
 * `npm run bench -- --json [--observations N] [--devices D] [--connections C] [--loaders L]`
 *
 * The MQTT clients run in L child processes (`load-client.ts`), never on the event loop being
 * measured; this process holds only the broker (and, in step 2, the cloud).
 * 1. Baseline: a bare aedes broker here, D clients publishing 200-byte QoS 1 messages, W in flight each.
 * 2. Ingest: the real cloud here (embedded broker, validation, DuckDB on disk, auth off) with D
 *    devices publishing observations of 24 SKUs at QoS 1, W in flight each (as the agent's outbox
 *    does). A PUBACK means "stored" (docs/decisions.md D5), so publish→PUBACK is publish→stored.
 * 3. Connections: C idle device connections held open; the cloud process's RSS is read before and with them.
 * 4. With `--browser-rounds R` (R > 0): capture → browser latency from dashboard/bench/capture-to-browser-bench.ts
 *    (headless Chromium; run in a child vitest process, as it needs the dashboard build), R stockouts.
 * Prints one JSON object (with --json) and a short human summary otherwise. `--connections 0` skips step 3.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import { startCloud } from '../app.js';
import { percentile, round1, startLoaders } from './loaders.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    observations: { type: 'string', default: '20000' },
    devices: { type: 'string', default: '50' },
    connections: { type: 'string', default: '2000' },
    loaders: { type: 'string', default: '1' },
    window: { type: 'string', default: '8' },
    'browser-rounds': { type: 'string', default: '0' },
  },
});
const BROWSER_ROUNDS = Number(values['browser-rounds']);
if (!Number.isInteger(BROWSER_ROUNDS) || BROWSER_ROUNDS < 0) throw new Error('--browser-rounds must be a whole number');
const N = Number(values.observations);
const DEVICES = Number(values.devices);
const CONNECTIONS = Number(values.connections);
const LOADERS = Number(values.loaders);
const WINDOW = Number(values.window);
for (const [k, v] of Object.entries({ observations: N, devices: DEVICES, loaders: LOADERS, window: WINDOW }))
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive whole number`);
if (!Number.isInteger(CONNECTIONS) || CONNECTIONS < 0) throw new Error('--connections must be a whole number');
const mb = (bytes: number) => Math.round(bytes / 1048576);
const progress = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)}  ${msg}\n`);

/**
 * CPU time this process spent (all its threads: event loop, DuckDB, libuv) and the event loop's
 * utilisation, per message, from now until the returned function is called. On a shared box
 * throughput swings with the neighbours' load; CPU per message much less.
 */
const meter = () => {
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  return (messages: number) => {
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    return {
      cpuMsPerMsg: Math.round(((cpu.user + cpu.system) / 1000 / messages) * 1000) / 1000,
      loopMsPerMsg: Math.round((elu.active / messages) * 1000) / 1000,
      loopUtilisation: Math.round(elu.utilization * 100) / 100,
    };
  };
};

const baseline = async (loaders: ReturnType<typeof startLoaders>) => {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const per = Math.ceil(N / DEVICES);
  const cost = meter();
  const { seconds } = await loaders.pumpAll(
    url,
    Array.from({ length: DEVICES }, (_, i) => `b${i}`),
    per,
    'raw',
  );
  const used = cost(per * DEVICES);
  await new Promise<void>((r) => aedes.close(() => r()));
  server.close();
  return { msgPerSec: (per * DEVICES) / seconds, ...used };
};

const main = async () => {
  const load1 = loadavg()[0]!;
  const loaders = startLoaders(LOADERS, WINDOW);
  try {
    progress(`baseline: bare aedes, ${N} × 200-byte QoS 1 messages from ${DEVICES} clients in ${LOADERS} process(es)`);
    const base = await baseline(loaders);
    const baselineMsgPerSec = base.msgPerSec;

    const dir = mkdtempSync(path.join(tmpdir(), 'ingest-bench-'));
    const cloud = await startCloud(
      { httpPort: 0, mqttPort: 0, dataDir: dir, auth: 'off', logLevel: 'warn' },
      { print: () => undefined },
    );
    progress(`ingest: ${N} observations (24 SKUs each) from ${DEVICES} devices into DuckDB`);
    const per = Math.ceil(N / DEVICES);
    const cost = meter();
    const { latenciesMs, seconds } = await loaders.pumpAll(
      cloud.mqttUrl,
      Array.from({ length: DEVICES }, (_, i) => `dev-${i}`),
      per,
      'observation',
    );
    const sent = per * DEVICES;
    const used = cost(sent);
    const stored = cloud.stats().accepted;

    let connections: {
      held: number;
      connectSeconds: number;
      rssMb: number;
      rssBeforeMb: number;
      kbPerConnection: number;
    } | null = null;
    if (CONNECTIONS > 0) {
      progress(`connections: holding ${CONNECTIONS} idle device connections from ${LOADERS} process(es)`);
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      const ids = Array.from({ length: CONNECTIONS }, (_, i) => `idle-${i}`);
      const parts = loaders.split(ids);
      const c0 = performance.now();
      await Promise.all(
        loaders.children.map((c, l) => loaders.ask(c, { cmd: 'hold', url: cloud.mqttUrl, ids: parts[l]!, batch: 200 })),
      );
      const connectSeconds = round1((performance.now() - c0) / 1000);
      await new Promise((r) => setTimeout(r, 2000));
      const held = cloud.brokerStats().connectedClients;
      const rss = process.memoryUsage().rss;
      connections = {
        held,
        connectSeconds,
        rssBeforeMb: mb(rssBefore),
        rssMb: mb(rss),
        kbPerConnection: Math.round((rss - rssBefore) / 1024 / Math.max(1, held)),
      };
      await Promise.all(loaders.children.map((c) => loaders.ask(c, { cmd: 'release' })));
    }
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });

    const captureToBrowserMs = BROWSER_ROUNDS > 0 ? await captureToBrowser(BROWSER_ROUNDS) : null;
    const obsPerSec = Math.round(sent / seconds);
    const result = {
      ingest: {
        observations: stored,
        obsPerSec,
        p50Ms: round1(percentile(latenciesMs, 50)),
        p99Ms: round1(percentile(latenciesMs, 99)),
        baselineMsgPerSec: Math.round(baselineMsgPerSec),
        ratio: Math.round((obsPerSec / baselineMsgPerSec) * 1000) / 1000,
        ...used,
        baseline: {
          cpuMsPerMsg: base.cpuMsPerMsg,
          loopMsPerMsg: base.loopMsPerMsg,
          loopUtilisation: base.loopUtilisation,
        },
        devices: DEVICES,
        window: WINDOW,
        skusPerObservation: 24,
      },
      // apiP95Ms: dashboard/bench/overview-bench.ts (minutes of bulk loading); see docs/benchmarks.md.
      captureToBrowserMs,
      apiP95Ms: null,
      connections: connections && {
        ...connections,
        note: 'RSS of the cloud process only; clients run in child processes',
      },
      conditions: { loaders: LOADERS, loadavg1mAtStart: round1(load1), cpus: (await import('node:os')).cpus().length },
    };
    if (stored !== sent) throw new Error(`stored ${stored} of ${sent} observations`);
    if (values.json) console.log(JSON.stringify(result));
    else
      console.log(
        `ingest ${obsPerSec} obs/s (p50 ${result.ingest.p50Ms} ms, p99 ${result.ingest.p99Ms} ms publish→stored), ` +
          `baseline ${result.ingest.baselineMsgPerSec} msg/s, ratio ${result.ingest.ratio}; ` +
          `cloud CPU ${used.cpuMsPerMsg} ms/obs (event loop ${used.loopMsPerMsg}), bare broker ${base.cpuMsPerMsg} ms/msg` +
          (connections ? `; ${connections.held} connections held, cloud RSS ${connections.rssMb} MB` : ''),
      );
  } finally {
    await loaders.close();
  }
};

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);

/** Runs the capture → browser bench in a child vitest process and returns its latency figures. */
async function captureToBrowser(rounds: number): Promise<{ p50: number; p95: number; max: number; rounds: number }> {
  progress(`capture → browser: ${rounds} stockouts shown in headless Chromium`);
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      path.join(root, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--config',
      'dashboard/bench/vitest.bench.config.ts',
      'capture-to-browser',
    ],
    { cwd: root, env: { ...process.env, BENCH_ROUNDS: String(rounds) }, maxBuffer: 16 * 1024 * 1024 },
  );
  const line = stdout.split('\n').find((l) => l.includes('"captureToBrowserMs"'));
  if (!line) throw new Error('capture → browser bench printed no result');
  const r = JSON.parse(line.slice(line.indexOf('{'))) as {
    rounds: number;
    captureToBrowserMs: { p50: number; p95: number; max: number };
  };
  return { ...r.captureToBrowserMs, rounds: r.rounds };
}
