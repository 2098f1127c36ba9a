#!/usr/bin/env node
/**
 * `npm run fleet`: N virtual devices against a running cloud, for load and fault tests. Every
 * device is a real EdgeAgent (own MQTT session, credentials, durable outbox, status, commands);
 * only the camera and, in light mode, the recognition are simulated.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  EdgeAgent,
  createLogger,
  ensureCredentials,
  loadRecognizer,
  parseAgentConfig,
  type Recognition,
  type Recognizer,
} from '@shelfsight/edge-agent';
import { fileURLToPath } from 'node:url';
import { SimulatedCamera } from '../cameras/simulated-camera.js';
import { hashString } from '../util/rng.js';
import { USAGE, parseFleetOptions, type FleetOptions } from './options.js';
import { StockCamera, StockRecognizer } from './stock-recognizer.js';

const modelDir = fileURLToPath(new URL('../../../models', import.meta.url));
const say = (msg: string) => console.log(`${new Date().toISOString().slice(11, 19)}  ${msg}`);

/** One shared model for the full mode, taken in turn: a box has one model in memory, not N. */
class SharedRecognizer implements Recognizer {
  private turn: Promise<unknown> = Promise.resolve();
  constructor(private readonly inner: Recognizer) {}
  get model() {
    return this.inner.model;
  }
  get gallery() {
    return this.inner.gallery;
  }
  recognize(image: Buffer): Promise<Recognition> {
    const run = this.turn.then(() => this.inner.recognize(image));
    this.turn = run.catch(() => undefined);
    return run;
  }
  async close(): Promise<void> {}
}

const createClaim = async (o: FleetOptions, deviceId: string): Promise<string> => {
  const res = await fetch(new URL('api/v1/claims', `${o.cloud.replace(/\/$/, '')}/`), {
    method: 'POST',
    headers: { authorization: `Bearer ${o.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ deviceId, note: 'fleet simulator', ttlS: 3600 }),
  });
  if (!res.ok) throw new Error(`claim for ${deviceId}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { claimToken: string }).claimToken;
};

const mqttUrlOf = async (o: FleetOptions): Promise<string> => {
  const health = await fetch(new URL('api/v1/healthz', `${o.cloud.replace(/\/$/, '')}/`));
  if (!health.ok) throw new Error(`cloud at ${o.cloud} is not healthy: HTTP ${health.status}`);
  return o.mqtt ?? `mqtt://${new URL(o.cloud).hostname}:1883`;
};

const run = async (o: FleetOptions): Promise<number> => {
  const log = createLogger('warn', 'fleet');
  const mqttUrl = await mqttUrlOf(o);
  const shared = o.mode === 'full' ? new SharedRecognizer(await loadRecognizer({ modelDir })) : undefined;
  const agents: EdgeAgent[] = [];
  const pad = String(o.devices).length;
  let stopping = false;
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    if (o.durationS > 0) setTimeout(resolve, o.durationS * 1000).unref();
  });
  void stop.then(() => (stopping = true));

  say(
    `starting ${o.devices} ${o.mode} devices against ${o.cloud} (${o.connectPerSecond}/s, capture every ${o.intervalS} s)`,
  );
  const t0 = Date.now();
  for (let i = 0; i < o.devices && !stopping; i++) {
    const deviceId = `${o.prefix}-${String(i + 1).padStart(pad, '0')}`;
    const dataDir = path.join(path.resolve(o.dataDir), deviceId);
    await mkdir(dataDir, { recursive: true });
    const camera = new SimulatedCamera({ id: deviceId, seed: hashString(`${o.seed}|${deviceId}`), selfClockSpeed: 60 });
    let config = parseAgentConfig({
      deviceId,
      outletId: `outlet-${deviceId}`,
      fixtureId: `cooler-${deviceId}`,
      mqtt: { url: mqttUrl, keepaliveS: 120, reconnectPeriodMs: 5000 + (i % 50) * 100 },
      camera: { kind: 'http', url: 'http://fleet.invalid/unused' },
      capture: { intervalS: o.intervalS },
      modelDir,
      dataDir,
      statusIntervalS: Math.max(60, o.intervalS),
      logLevel: 'warn',
    });
    if (o.auth === 'required') {
      const hasCreds = await readFile(path.join(dataDir, 'credentials.json')).then(
        () => true,
        () => false,
      );
      if (!hasCreds) config = { ...config, provisioning: { url: o.cloud, claimToken: await createClaim(o, deviceId) } };
      config = await ensureCredentials(config, { log, maxAttempts: 3 });
    }
    const agent = new EdgeAgent({
      config,
      camera: o.mode === 'light' ? new StockCamera(camera) : camera,
      recognizer: shared ?? new StockRecognizer(camera.sim),
      log,
    });
    await agent.start();
    agents.push(agent);
    // Spread connections: a whole fleet reconnecting at once is a storm, not a test.
    const due = t0 + ((i + 1) / o.connectPerSecond) * 1000;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    if ((i + 1) % Math.max(1, Math.round(o.connectPerSecond * 5)) === 0) say(`${i + 1} devices started`);
  }
  say(`${agents.length} devices running; Ctrl-C stops`);
  const timer = setInterval(() => {
    const depth = agents.reduce((n, a) => n + a.outboxDepth, 0);
    say(
      `${agents.length} devices, ${depth} observations queued in outboxes, RSS ${Math.round(process.memoryUsage().rss / 1048576)} MB`,
    );
  }, 10_000);
  await stop;
  clearInterval(timer);
  say('stopping devices…');
  for (let i = 0; i < agents.length; i += 200) await Promise.all(agents.slice(i, i + 200).map((a) => a.stop()));
  say('stopped');
  return 0;
};

parseFleetOptions(process.argv.slice(2), process.env, (f) => readFile(f, 'utf8'))
  .then(run, (err: unknown) => {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  })
  .then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exit(1);
    },
  );
