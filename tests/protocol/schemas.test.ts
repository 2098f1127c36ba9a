import { describe, expect, it } from 'vitest';
import {
  Command,
  CommandReply,
  DeviceConfig,
  DeviceStatus,
  MAX_PAYLOAD_BYTES,
  Observation,
  decodePayload,
} from '@shelfsight/protocol';
import { validObservation } from './fixtures.js';

describe('Observation schema', () => {
  it('accepts a well-formed observation and defaults quality flags', () => {
    const obs = validObservation({ image: { width: 10, height: 10 } });
    const parsed = Observation.parse(obs);
    expect(parsed.image.qualityFlags).toEqual([]);
    expect(parsed.skus).toHaveLength(2);
  });

  it.each([
    ['negative count', { skus: [{ sku: 'a', count: -1, facings: 0 }] }, 'skus.0.count'],
    ['fractional count', { skus: [{ sku: 'a', count: 1.5, facings: 0 }] }, 'skus.0.count'],
    ['facings above count', { skus: [{ sku: 'a', count: 1, facings: 2 }] }, 'skus.0.facings'],
    [
      'duplicate sku',
      {
        skus: [
          { sku: 'a', count: 1, facings: 1 },
          { sku: 'a', count: 1, facings: 1 },
        ],
      },
      'skus.1.sku',
    ],
    ['sku with a slash', { skus: [{ sku: 'a/b', count: 1, facings: 1 }] }, 'skus.0.sku'],
    ['non-uuid message id', { messageId: 'abc' }, 'messageId'],
    ['date without offset', { capturedAt: '2026-11-23 10:00' }, 'capturedAt'],
    ['NaN inference time', { inferenceMs: Number.NaN }, 'inferenceMs'],
    ['wildcard in device id', { deviceId: 'cam+' }, 'deviceId'],
  ])('rejects %s and names the path', (_label, over, path) => {
    const res = Observation.safeParse(validObservation(over as never));
    expect(res.success).toBe(false);
    expect(res.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('rejects unknown top-level keys (strict)', () => {
    const res = Observation.safeParse({ ...validObservation(), extra: 1 });
    expect(res.success).toBe(false);
  });

  it('rejects a detection box outside the image', () => {
    const res = Observation.safeParse(
      validObservation({
        detections: [
          { kind: 'product', sku: 'a', box: [0.9, 0.1, 0.2, 0.1], confidence: 0.9, row: 0, column: 0, facing: true },
        ],
      }),
    );
    expect(res.success).toBe(false);
  });
});

describe('decodePayload', () => {
  it('decodes valid JSON bytes', () => {
    const d = decodePayload(Observation, Buffer.from(JSON.stringify(validObservation())));
    expect(d.ok).toBe(true);
  });

  it('classifies oversized, bad JSON, invalid UTF-8 and schema errors', () => {
    expect(decodePayload(Observation, Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 32))).toMatchObject({
      ok: false,
      reason: 'oversized',
    });
    expect(decodePayload(Observation, Buffer.from('{"a":'))).toMatchObject({ ok: false, reason: 'bad_json' });
    expect(decodePayload(Observation, Buffer.from([0x7b, 0xff, 0x7d]))).toMatchObject({
      ok: false,
      reason: 'bad_json',
    });
    const schema = decodePayload(Observation, JSON.stringify({ ...validObservation(), seq: -1 }));
    expect(schema).toMatchObject({ ok: false, reason: 'schema' });
    expect(schema.ok ? '' : schema.detail).toMatch(/^seq: /);
  });
});

describe('status, config and command schemas', () => {
  it('accepts a last-will status without a timestamp', () => {
    expect(DeviceStatus.parse({ deviceId: 'cam-01', state: 'offline' }).state).toBe('offline');
  });

  it('rejects a config with a negative interval', () => {
    const res = DeviceConfig.safeParse({ revision: 1, issuedAt: '2026-11-23T10:00:00Z', capture: { intervalS: -5 } });
    expect(res.success).toBe(false);
  });

  it('round-trips a capture-now command and its reply', () => {
    const cmd = Command.parse({ id: crypto.randomUUID(), name: 'capture-now', issuedAt: new Date().toISOString() });
    const reply = CommandReply.parse({
      commandId: cmd.id,
      deviceId: 'cam-01',
      ok: true,
      at: new Date().toISOString(),
      observationId: crypto.randomUUID(),
    });
    expect(reply.commandId).toBe(cmd.id);
    expect(Command.safeParse({ ...cmd, name: 'format-disk' }).success).toBe(false);
  });
});
