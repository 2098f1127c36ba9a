/**
 * Load generator for the benchmarks, run as a child process (`fork`) so that the MQTT clients do
 * not share an event loop with the broker and cloud being measured. Commands arrive over IPC:
 *
 * - `pump`: D devices each publish `per` messages at QoS 1 with `window` in flight (as the agent's
 *   outbox does); replies with every publish→PUBACK latency in ms.
 * - `hold`: opens idle connections (keepalive 600 s) and keeps them; `release` closes them.
 *
 * Not part of the cloud: it only exists to load it.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { topics, type Observation } from '@shelfsight/protocol';

export type LoadCommand =
  | {
      cmd: 'pump';
      url: string;
      /** Device ids; each gets its own connection. */
      devices: string[];
      per: number;
      window: number;
      /** 'observation': valid 24-SKU observations on the device's topic; 'raw': 200-byte payloads on bench/<id>. */
      payload: 'observation' | 'raw';
      /** Offset of `seq`, so that runs against one store never reuse a seq for a device. */
      seqBase?: number;
    }
  | { cmd: 'hold'; url: string; ids: string[]; batch: number }
  | { cmd: 'release' }
  | { cmd: 'exit' };

export type LoadReply =
  | { ok: true; cmd: 'pump'; latenciesMs: number[]; seconds: number }
  | { ok: true; cmd: 'hold'; held: number }
  | { ok: true; cmd: 'release' }
  | { ok: false; error: string };

/**
 * A 24-SKU observation. Counts drift slowly (every 32 captures) and never reach 0, as on a real
 * shelf between restocks: counts that flip to 0 on every capture would make the stockout engine
 * open and close an alert (and append it to its log) per message, which no store does.
 */
export const benchObservation = (deviceId: string, seq: number, capturedAt = new Date()): Observation => ({
  messageId: randomUUID(),
  deviceId,
  outletId: `o-${deviceId}`,
  fixtureId: `f-${deviceId}`,
  capturedAt: capturedAt.toISOString(),
  seq,
  model: { name: 'bench', version: '1' },
  image: { width: 1280, height: 960, qualityFlags: [] },
  skus: Array.from({ length: 24 }, (_, k) => ({
    sku: `sku-${k}`,
    count: 2 + (((seq >> 5) + k) % 7),
    facings: 1 + (k % 2),
  })),
  emptyFacings: seq % 4,
  unknownProducts: 0,
  inferenceMs: 60,
});

const pump = async (client: MqttClient, topic: string, count: number, window: number, body: (i: number) => string) => {
  const lat: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < count) {
        const i = next++;
        const payload = body(i);
        const t0 = performance.now();
        await client.publishAsync(topic, payload, { qos: 1 });
        lat.push(performance.now() - t0);
      }
    }),
  );
  return lat;
};

let held: MqttClient[] = [];

const run = async (c: LoadCommand): Promise<LoadReply> => {
  switch (c.cmd) {
    case 'pump': {
      const clients = await Promise.all(
        c.devices.map((id) => mqtt.connectAsync(c.url, { clientId: id, reconnectPeriod: 0, keepalive: 600 })),
      );
      const raw = 'x'.repeat(200);
      // capturedAt = publish time, but strictly increasing per device: two captures of one fixture
      // never share a millisecond in the field, and InfluxDB keys points by fixture + time.
      const last = new Map<string, number>();
      const stamp = (id: string) => {
        const t = Math.max(Date.now(), (last.get(id) ?? 0) + 1);
        last.set(id, t);
        return new Date(t);
      };
      const base = c.seqBase ?? 0;
      const t0 = performance.now();
      const lats = await Promise.all(
        clients.map((client, d) => {
          const id = c.devices[d]!;
          return c.payload === 'raw'
            ? pump(client, `bench/${id}`, c.per, c.window, () => raw)
            : pump(client, topics.observations(id), c.per, c.window, (i) =>
                JSON.stringify(benchObservation(id, base + i, stamp(id))),
              );
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      await Promise.all(clients.map((cl) => cl.endAsync()));
      return { ok: true, cmd: 'pump', latenciesMs: lats.flat(), seconds };
    }
    case 'hold': {
      for (let i = 0; i < c.ids.length; i += c.batch)
        held.push(
          ...(await Promise.all(
            c.ids
              .slice(i, i + c.batch)
              .map((id) =>
                mqtt.connectAsync(c.url, { clientId: id, keepalive: 600, reconnectPeriod: 0, connectTimeout: 60_000 }),
              ),
          )),
        );
      return { ok: true, cmd: 'hold', held: held.length };
    }
    case 'release': {
      for (let i = 0; i < held.length; i += 500) await Promise.all(held.slice(i, i + 500).map((cl) => cl.endAsync()));
      held = [];
      return { ok: true, cmd: 'release' };
    }
    case 'exit':
      process.exit(0);
  }
};

process.on('message', (msg: LoadCommand) => {
  run(msg).then(
    (reply) => process.send!(reply),
    (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
