import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { topics, type Observation } from '@shelfsight/protocol';
import { DuckDbStore, Ingest, startBroker, type RunningBroker, type TimeSeriesStore } from '@shelfsight/cloud';
import { makeObservation } from './helpers/observations.js';
import { waitFor } from './helpers/cloud.js';

const logger = pino({ level: 'silent' });
const secret = 'test-internal-secret';

/** Fails the first write, like a full disk that recovers. */
const flakyStore = async (): Promise<{ store: TimeSeriesStore; inner: DuckDbStore }> => {
  const inner = await DuckDbStore.open({ path: ':memory:' });
  let failed = false;
  const store: TimeSeriesStore = Object.assign(Object.create(inner) as DuckDbStore, {
    writeObservation: (obs: Observation, at: Date) => {
      if (!failed) {
        failed = true;
        return Promise.reject(new Error('disk full'));
      }
      return inner.writeObservation(obs, at);
    },
    close: async () => undefined,
  });
  return { store, inner };
};

describe('ingest acknowledges only what it stored', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker({ host: '127.0.0.1', port: 0, maxPacketBytes: 1 << 20, internalSecret: secret, logger });
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('holds the PUBACK on a store failure, so the broker redelivers to the resumed session', async () => {
    const { store, inner } = await flakyStore();
    const mk = () =>
      new Ingest({ brokerUrl: broker.url, clientId: 'shelfsight-cloud-ingest-t', password: secret, store, logger });
    const first = mk();
    await first.start();
    const dev = await mqtt.connectAsync(broker.url, { clientId: 'dev-d', reconnectPeriod: 0 });
    const obs = makeObservation({ deviceId: 'dev-d' });
    await dev.publishAsync(topics.observations('dev-d'), JSON.stringify(obs), { qos: 1 });
    await waitFor(() => first.statsSnapshot().storeErrors === 1, 5000, 'store error');
    expect(first.statsSnapshot().accepted).toBe(0);
    await first.close();

    // Same clientId, clean: false → the broker still holds the unacknowledged message.
    const second = mk();
    await second.start();
    await waitFor(() => second.statsSnapshot().accepted === 1, 5000, 'redelivered and stored');
    expect((await inner.queryObservations({})).items.map((i) => i.messageId)).toEqual([obs.messageId]);
    await second.close();
    await dev.endAsync();
    await inner.close();
  });
});
