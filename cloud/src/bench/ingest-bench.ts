/**
 * `npm run bench -- --json [--observations N] [--devices D] [--connections C]`
 *
 * 1. Baseline: a bare aedes broker and mqtt.js publisher in this process, 200-byte QoS 1 messages.
 * 2. Ingest: the real cloud (embedded broker, validation, DuckDB on disk) with D simulated devices
 *    publishing observations of 24 SKUs at QoS 1, 8 in flight each (as the agent's outbox does).
 *    A PUBACK means "stored" (see docs/decisions.md D5), so publish→PUBACK is publish→stored.
 * 3. Connections: C idle device connections held open; cloud RSS measured with them.
 * Prints one JSON object (with --json) and a short human summary otherwise.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { topics, type Observation } from '@shelfsight/protocol';
import { startCloud } from '../app.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    observations: { type: 'string', default: '20000' },
    devices: { type: 'string', default: '50' },
    connections: { type: 'string', default: '2000' },
  },
});
const N = Number(values.observations);
const DEVICES = Number(values.devices);
const CONNECTIONS = Number(values.connections);
for (const [k, v] of Object.entries({ observations: N, devices: DEVICES, connections: CONNECTIONS }))
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive whole number`);
const WINDOW = 8;
const progress = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)}  ${msg}\n`);

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

/** Publishes `count` messages from one client, `window` in flight; returns per-message latencies (ms). */
const pump = async (client: MqttClient, topic: string, count: number, body: (i: number) => string) => {
  const lat: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        await client.publishAsync(topic, body(i), { qos: 1 });
        lat.push(performance.now() - t0);
      }
    }),
  );
  return lat;
};

const baseline = async (): Promise<number> => {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients = await Promise.all(
    Array.from({ length: DEVICES }, (_, i) => mqtt.connectAsync(url, { clientId: `b${i}` })),
  );
  const payload = 'x'.repeat(200);
  const per = Math.ceil(N / DEVICES);
  const t0 = performance.now();
  await Promise.all(clients.map((c, i) => pump(c, `bench/${i}`, per, () => payload)));
  const rate = (per * DEVICES) / ((performance.now() - t0) / 1000);
  await Promise.all(clients.map((c) => c.endAsync()));
  await new Promise<void>((r) => aedes.close(() => r()));
  server.close();
  return rate;
};

const observation = (deviceId: string, seq: number): Observation => ({
  messageId: randomUUID(),
  deviceId,
  outletId: `o-${deviceId}`,
  fixtureId: `f-${deviceId}`,
  capturedAt: new Date().toISOString(),
  seq,
  model: { name: 'bench', version: '1' },
  image: { width: 1280, height: 960, qualityFlags: [] },
  skus: Array.from({ length: 24 }, (_, k) => ({ sku: `sku-${k}`, count: (seq + k) % 9, facings: (seq + k) % 3 })),
  emptyFacings: seq % 4,
  unknownProducts: 0,
  inferenceMs: 60,
});

const main = async () => {
  progress(`baseline: bare aedes + mqtt.js, ${N} × 200-byte QoS 1 messages from ${DEVICES} clients`);
  const baselineMsgPerSec = await baseline();

  const dir = mkdtempSync(path.join(tmpdir(), 'ingest-bench-'));
  const cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: dir, auth: 'off', logLevel: 'warn' });
  progress(`ingest: ${N} observations (24 SKUs each) from ${DEVICES} devices into DuckDB`);
  const devices = await Promise.all(
    Array.from({ length: DEVICES }, (_, i) => mqtt.connectAsync(cloud.mqttUrl, { clientId: `dev-${i}` })),
  );
  const per = Math.ceil(N / DEVICES);
  const t0 = performance.now();
  const lats = (
    await Promise.all(
      devices.map((c, i) =>
        pump(c, topics.observations(`dev-${i}`), per, (s) => JSON.stringify(observation(`dev-${i}`, s))),
      ),
    )
  ).flat();
  const seconds = (performance.now() - t0) / 1000;
  const stored = cloud.stats().accepted;
  await Promise.all(devices.map((c) => c.endAsync()));

  progress(`connections: holding ${CONNECTIONS} idle device connections`);
  const held: MqttClient[] = [];
  for (let i = 0; i < CONNECTIONS; i += 200)
    held.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(200, CONNECTIONS - i) }, (_, k) =>
          mqtt.connectAsync(cloud.mqttUrl, { clientId: `idle-${i + k}`, keepalive: 600, reconnectPeriod: 0 }),
        ),
      )),
    );
  await new Promise((r) => setTimeout(r, 1000));
  const connected = cloud.brokerStats().connectedClients;
  const rssMb = Math.round(process.memoryUsage().rss / 1048576);
  for (let i = 0; i < held.length; i += 500) await Promise.all(held.slice(i, i + 500).map((c) => c.endAsync()));
  await cloud.close();
  rmSync(dir, { recursive: true, force: true });

  const obsPerSec = Math.round(N / seconds);
  const result = {
    ingest: {
      observations: stored,
      obsPerSec,
      p50Ms: Math.round(percentile(lats, 50) * 10) / 10,
      p99Ms: Math.round(percentile(lats, 99) * 10) / 10,
      baselineMsgPerSec: Math.round(baselineMsgPerSec),
      ratio: Math.round((obsPerSec / baselineMsgPerSec) * 1000) / 1000,
      devices: DEVICES,
      skusPerObservation: 24,
    },
    // Measured separately or not yet: see docs/benchmarks.md.
    captureToBrowserMs: null,
    apiP95Ms: null,
    connections: { held: connected, rssMb, note: 'cloud and clients in one process; RSS includes the clients' },
  };
  if (stored !== N) throw new Error(`stored ${stored} of ${N} observations`);
  if (values.json) console.log(JSON.stringify(result));
  else
    console.log(
      `ingest ${obsPerSec} obs/s (p50 ${result.ingest.p50Ms} ms, p99 ${result.ingest.p99Ms} ms publish→stored), ` +
        `baseline ${result.ingest.baselineMsgPerSec} msg/s, ratio ${result.ingest.ratio}; ` +
        `${connected} connections held, RSS ${rssMb} MB`,
    );
};

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
