import { randomUUID } from 'node:crypto';
import type { Observation, ObservationInput } from '@shelfsight/protocol';
import { Observation as ObservationSchema } from '@shelfsight/protocol';

/** A valid observation; override any field. Parsed through the schema so defaults apply. */
export const makeObservation = (over: Partial<ObservationInput> = {}): Observation =>
  ObservationSchema.parse({
    messageId: randomUUID(),
    deviceId: 'dev-1',
    outletId: 'outlet-1',
    fixtureId: 'cooler-1',
    capturedAt: '2024-05-01T10:00:00.000Z',
    seq: 1,
    model: { name: 'shelf-yolo', version: '1.0.0' },
    image: { width: 640, height: 480, brightness: 0.5, qualityFlags: [] },
    skus: [
      { sku: 'cola-330', count: 6, facings: 3 },
      { sku: 'lemon-500', count: 2, facings: 2 },
    ],
    emptyFacings: 1,
    unknownProducts: 0,
    inferenceMs: 42,
    ...over,
  });
