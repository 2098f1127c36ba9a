import fc from 'fast-check';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud } from '@shelfsight/cloud';
import { MAX_PAYLOAD_BYTES, topics } from '@shelfsight/protocol';
import { makeObservation } from '../cloud/helpers/observations.js';

const DEVICE = 'fuzz-dev';
const COUNT = 10_000;

/** A valid observation with one field replaced by something hostile. */
const mutatedObservation = fc
  .record({
    field: fc.constantFrom(
      'messageId',
      'deviceId',
      'capturedAt',
      'seq',
      'skus',
      'emptyFacings',
      'image',
      'model',
      'inferenceMs',
      'detections',
    ),
    value: fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.integer(),
      fc.double(),
      fc.constant(null),
      fc.constant(-1),
      fc.constant(1e308),
      fc.array(fc.anything(), { maxLength: 5 }),
      fc.object({ maxDepth: 2 }),
      fc.constant('cam+/#'),
      fc.constant("x'; DROP TABLE observations; --"),
    ),
  })
  .map(({ field, value }) => JSON.stringify({ ...makeObservation({ deviceId: DEVICE }), [field]: value }));

const payloads = fc.oneof(
  { arbitrary: mutatedObservation, weight: 5 },
  { arbitrary: fc.json(), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme' }), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), weight: 1 },
  // JSON's forbidden numbers and a wrong device, spelled out.
  {
    arbitrary: fc.constantFrom(
      '{"seq": NaN}',
      '{"inferenceMs": Infinity}',
      JSON.stringify(makeObservation({ deviceId: 'someone-else' })),
      '\u0000\u0001\u0002',
      '[]',
      '"just a string"',
    ),
    weight: 1,
  },
);

describe('ingest under hostile payloads', () => {
  let cloud: Awaited<ReturnType<typeof startCloud>>;
  beforeAll(async () => {
    cloud = await startCloud({ httpPort: 0, mqttPort: 0, dataDir: ':memory:', auth: 'off', logLevel: 'silent' });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it(`refuses ${COUNT} generated malformed payloads, each counted with a reason, and stays up`, async () => {
    const samples: (string | Buffer)[] = fc.sample(payloads, { numRuns: COUNT, seed: 20261123 });
    // A few oversized ones: just over the protocol limit (the broker still lets them through to be counted).
    for (let i = 0; i < 20; i++) samples.push('x'.repeat(MAX_PAYLOAD_BYTES + 1 + i));
    const dev = await mqtt.connectAsync(cloud.mqttUrl, { clientId: DEVICE, reconnectPeriod: 0 });
    for (let i = 0; i < samples.length; i += 200)
      await Promise.all(
        samples.slice(i, i + 200).map((p) => dev.publishAsync(topics.observations(DEVICE), p, { qos: 1 })),
      );
    await dev.endAsync();

    const s = cloud.stats();
    const rejected = Object.values(s.rejected).reduce((a: number, b) => a + (b ?? 0), 0);
    // Every message is accounted for: stored, duplicate or rejected with a reason — none lost, none crashed.
    expect(s.accepted + s.duplicates + rejected).toBe(samples.length);
    expect(s.storeErrors).toBe(0);
    expect(Object.keys(s.rejected).sort()).toEqual(
      expect.arrayContaining(['bad_json', 'device_mismatch', 'oversized', 'schema']),
    );
    // Only valid observations reached the store, and the store still answers queries.
    const page = await cloud.store.queryObservations({ deviceId: DEVICE, limit: 1000 });
    expect(page.items.length).toBe(s.accepted);
    const health = await fetch(`${cloud.httpUrl}/api/v1/healthz`);
    expect(health.status).toBe(200);
    console.log(`fuzz: ${samples.length} payloads → ${s.accepted} valid by chance, ${rejected} rejected`, s.rejected);
  });
});
