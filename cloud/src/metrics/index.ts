import express, { type Router } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BrokerStats } from '../broker/index.js';
import type { Ingest } from '../ingest/index.js';
import type { DeviceStatusRecord, TimeSeriesStore } from '../store/index.js';

export interface CloudMetrics {
  registry: Registry;
  router: Router;
  /** The store with its writes timed; hand this one to ingest. */
  instrument(store: TimeSeriesStore): TimeSeriesStore;
  /** Starts reading ingest counters and the live device-status stream. */
  watch(ingest: Ingest): void;
}

/**
 * Prometheus metrics (`GET /metrics`). Device figures are aggregated (sum, max, count) rather
 * than labelled per device: a fleet of 10,000 would otherwise put 10,000 series on every scrape.
 */
export const createMetrics = (deps: { broker: () => BrokerStats }): CloudMetrics => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'shelfsight_cloud_' });
  let ingest: Ingest | undefined;
  const empty = { accepted: 0, duplicates: 0, storeErrors: 0, rejected: {} as Record<string, number> };
  const snapshot = () => ingest?.statsSnapshot() ?? empty;

  new Counter({
    name: 'shelfsight_ingest_observations_total',
    help: 'Observations ingested, by outcome (stored, or a redelivered duplicate).',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const s = snapshot();
      this.reset();
      this.inc({ outcome: 'stored' }, s.accepted);
      this.inc({ outcome: 'duplicate' }, s.duplicates);
    },
  });
  new Counter({
    name: 'shelfsight_ingest_rejects_total',
    help: 'Device messages refused, by reason (oversized, bad_json, schema, device_mismatch, bad_topic, clock_skew).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(snapshot().rejected)) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: 'shelfsight_ingest_store_errors_total',
    help: 'Store writes that failed; the message was refused and the device resends it.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(snapshot().storeErrors);
    },
  });
  const writeSeconds = new Histogram({
    name: 'shelfsight_store_write_seconds',
    help: 'Time to write one observation to the time-series store (including waiting for its group commit).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'shelfsight_mqtt_connected_clients',
    help: 'MQTT connections to the embedded broker (devices and the cloud’s own clients).',
    registers: [registry],
    collect() {
      this.set(deps.broker().connectedClients);
    },
  });
  new Counter({
    name: 'shelfsight_mqtt_packets_too_large_total',
    help: 'Connections dropped for sending a packet over the size limit.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(deps.broker().packetsTooLarge);
    },
  });

  // Latest status per device, kept from the live status stream.
  const devices = new Map<string, DeviceStatusRecord>();
  new Gauge({
    name: 'shelfsight_devices',
    help: 'Devices by last reported state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      let online = 0;
      for (const d of devices.values()) if (d.state === 'online') online++;
      this.set({ state: 'online' }, online);
      this.set({ state: 'offline' }, devices.size - online);
    },
  });
  new Gauge({
    name: 'shelfsight_device_outbox_depth',
    help: 'Observations waiting in device outboxes, as last reported: sum and max over devices.',
    labelNames: ['stat'],
    registers: [registry],
    collect() {
      this.reset();
      let sum = 0;
      let max = 0;
      for (const d of devices.values()) {
        const depth = d.health?.outboxDepth ?? 0;
        sum += depth;
        max = Math.max(max, depth);
      }
      this.set({ stat: 'sum' }, sum);
      this.set({ stat: 'max' }, max);
    },
  });

  const router = express.Router();
  router.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
  });

  return {
    registry,
    router,
    watch: (i) => {
      ingest = i;
      i.on('device-status', (d) => devices.set(d.deviceId, d));
    },
    instrument: (store) =>
      Object.assign(Object.create(store) as TimeSeriesStore, {
        writeObservation: async (...args: Parameters<TimeSeriesStore['writeObservation']>) => {
          const end = writeSeconds.startTimer();
          try {
            return await store.writeObservation(...args);
          } finally {
            end();
          }
        },
      }),
  };
};
