import { randomUUID } from 'node:crypto';
import type { ObservationInput } from '@shelfsight/protocol';

/** A valid observation to mutate in tests. */
export const validObservation = (over: Partial<ObservationInput> = {}): ObservationInput => ({
  messageId: randomUUID(),
  deviceId: 'cam-01',
  outletId: 'outlet-01',
  fixtureId: 'cooler-01',
  capturedAt: '2026-11-23T10:00:00.000Z',
  seq: 7,
  model: { name: 'shelfsight-detector', version: '1.0.0' },
  image: { width: 1280, height: 960, qualityFlags: [] },
  skus: [
    { sku: 'aur-cola-330c', count: 5, facings: 3 },
    { sku: 'aur-lemon-330c', count: 2, facings: 2 },
  ],
  emptyFacings: 1,
  unknownProducts: 0,
  inferenceMs: 42.5,
  ...over,
});
