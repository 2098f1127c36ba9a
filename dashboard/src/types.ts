/**
 * Mirrors the cloud's FixtureSummary (GET /api/v1/fixtures items, socket.io `observation`). Kept
 * as a copy because the dashboard is built by Vite, not by the cloud's tsc project.
 */
export interface SkuTally {
  sku: string;
  count: number;
  facings: number;
}

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
  model: { name: string; version: string };
  qualityFlags: string[];
}

export interface DeviceStatus {
  deviceId: string;
  state: 'online' | 'offline';
  at: string | null;
  receivedAt: string;
}
