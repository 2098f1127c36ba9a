import type { DeviceStatus, ImageQualityFlag, ModelRef, Observation } from '@shelfsight/protocol';

/**
 * The time-series store port. Ingest, API and (later) analytics depend only on this interface so
 * that the embedded DuckDB adapter and a future InfluxDB adapter are interchangeable; both must
 * pass `describeStoreConformance` in tests/cloud/store.
 *
 * All timestamps crossing the port are ISO 8601 strings in UTC (`…Z`), whatever offset the device used.
 */
export interface TimeSeriesStore {
  /** Idempotent by `obs.messageId`: a second write of the same id returns `{ inserted: false }` and changes nothing. */
  writeObservation(obs: Observation, receivedAt: Date): Promise<{ inserted: boolean }>;
  queryObservations(query: ObservationQuery): Promise<ObservationPage>;
  /** Latest observation (by capture time) of every fixture, ordered by outletId then fixtureId. */
  latestPerFixture(): Promise<FixtureSummary[]>;
  /**
   * Per-SKU count history of one fixture. A SKU seen anywhere in the range gets a point for every
   * observation in the range; absent from an observation means count 0, so stockouts show as zeros.
   */
  skuHistory(query: SkuHistoryQuery): Promise<SkuSeries[]>;
  /**
   * Bulk read of what analytics keep in memory (counts, not images or detections): observations with
   * capturedAt in [from, to), oldest first by (capturedAt, messageId), SKUs sorted by id, in pages of
   * up to `limit` (1–MAX_SCAN_PAGE_SIZE). Used to build the analytics rollups on start.
   */
  scanCounts(query: CountScanQuery): Promise<CountScanPage>;
  /** Returns the stored record, so callers can push exactly what a later list would show. */
  upsertDeviceStatus(status: DeviceStatus, receivedAt: Date): Promise<DeviceStatusRecord>;
  listDeviceStatus(): Promise<DeviceStatusRecord[]>;
  close(): Promise<void>;
}

export interface ObservationQuery {
  deviceId?: string;
  outletId?: string;
  fixtureId?: string;
  /** Inclusive lower bound on capturedAt. */
  from?: Date;
  /** Exclusive upper bound on capturedAt. */
  to?: Date;
  /** 1-1000; adapters clamp. */
  limit?: number;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
}

/** Newest capture first; `nextCursor` is null on the last page. */
export interface ObservationPage {
  items: StoredObservation[];
  nextCursor: string | null;
}

export interface CountScanQuery {
  /** Inclusive lower bound on capturedAt. */
  from?: Date;
  /** Exclusive upper bound on capturedAt. */
  to?: Date;
  /** Only observations received at or after this instant (catching up with writes made since a scan). */
  receivedFrom?: Date;
  limit?: number;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface CountRecord {
  messageId: string;
  outletId: string;
  fixtureId: string;
  capturedAt: string;
  skus: SkuTally[];
  emptyFacings: number;
  unknownProducts: number;
}

/** Oldest capture first; `nextCursor` is null on the last page. */
export interface CountScanPage {
  items: CountRecord[];
  nextCursor: string | null;
}

export interface SkuTally {
  sku: string;
  count: number;
  facings: number;
}

/** What the dashboard shows for one fixture; also the payload of the live `observation` event. */
export interface FixtureSummary {
  messageId: string;
  outletId: string;
  fixtureId: string;
  deviceId: string;
  capturedAt: string;
  receivedAt: string;
  skus: SkuTally[];
  emptyFacings: number;
  unknownProducts: number;
  model: ModelRef;
  qualityFlags: ImageQualityFlag[];
}

export interface StoredObservation extends FixtureSummary {
  seq: number;
  gallery: ModelRef | null;
  image: { width: number; height: number; brightness: number | null; sharpness: number | null };
  inferenceMs: number;
  detections: Observation['detections'] | null;
}

export interface SkuHistoryQuery {
  fixtureId: string;
  sku?: string;
  from?: Date;
  to?: Date;
}

export interface SkuSeries {
  sku: string;
  points: { capturedAt: string; count: number; facings: number }[];
}

export interface DeviceStatusRecord {
  deviceId: string;
  state: DeviceStatus['state'];
  /** Device clock when it reported; null for the broker-published last will. */
  at: string | null;
  receivedAt: string;
  agentVersion: string | null;
  model: ModelRef | null;
  gallery: ModelRef | null;
  health: DeviceStatus['health'] | null;
}

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_SCAN_PAGE_SIZE = 50_000;
export const DEFAULT_SCAN_PAGE_SIZE = 10_000;

/** Shared by adapters so every backend trims SKUs the same way. */
export const summarise = (obs: Observation, receivedAt: Date): FixtureSummary => ({
  messageId: obs.messageId,
  outletId: obs.outletId,
  fixtureId: obs.fixtureId,
  deviceId: obs.deviceId,
  capturedAt: new Date(obs.capturedAt).toISOString(),
  receivedAt: receivedAt.toISOString(),
  skus: obs.skus.map(({ sku, count, facings }) => ({ sku, count, facings })),
  emptyFacings: obs.emptyFacings,
  unknownProducts: obs.unknownProducts,
  model: obs.model,
  qualityFlags: obs.image.qualityFlags,
});
