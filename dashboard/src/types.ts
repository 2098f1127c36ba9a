/** Shapes of the cloud's REST resources (see cloud/openapi.json); copied because Vite builds the dashboard. */
export interface SkuTally {
  sku: string;
  count: number;
  facings: number;
}

export interface Detection {
  kind: 'product' | 'empty' | 'unknown';
  sku?: string;
  box: [number, number, number, number];
  confidence: number;
  row: number;
  column: number;
  facing: boolean;
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

export interface StoredObservation extends FixtureSummary {
  image: { width: number; height: number };
  detections: Detection[] | null;
}

export interface DeviceStatus {
  deviceId: string;
  state: 'online' | 'offline';
  at: string | null;
  receivedAt: string;
  agentVersion: string | null;
  model: { name: string; version: string } | null;
  gallery: { name: string; version: string } | null;
  health: {
    outboxDepth?: number;
    lastCaptureLatencyMs?: number;
    capturesOk?: number;
    capturesFailed?: number;
    [k: string]: unknown;
  } | null;
}

export interface User {
  username: string;
  displayName: string;
  role: 'admin' | 'brand_manager';
  brand: string | null;
  outlets: number | null;
}

export interface Sku {
  sku: string;
  brand: string;
  own: boolean;
  name: string;
  price: number;
  unitCost: number;
}
export interface Outlet {
  outletId: string;
  name: string;
  region: string;
  city: string;
  channel: string;
  lat: number;
  lon: number;
}
export interface Fixture {
  fixtureId: string;
  outletId: string;
  deviceId?: string;
  kind: 'branded-cooler' | 'shelf';
  positions: { row: number; column: number; sku: string; depth: number }[];
}
export interface Promotion {
  promotionId: string;
  name: string;
  skus: string[];
  outletIds: string[];
  start: string;
  end: string;
  discountPct: number;
  cost: number;
}
export interface MasterData {
  currency: string;
  skus: Sku[];
  outlets: Outlet[];
  fixtures: Fixture[];
  promotions: Promotion[];
}

export interface Kpis {
  availability: number | null;
  shareOfShelf: number | null;
  purity: number | null;
  compliance: number | null;
  openStockouts: number;
  salesUnits: number;
  salesRevenue: number;
  fixtures: number;
  outlets: number;
  captures: number;
}
export interface Overview {
  from: string | null;
  to: string | null;
  kpis: Kpis;
  previous: Kpis | null;
  trend: {
    date: string;
    availability: number | null;
    shareOfShelf: number | null;
    purity: number | null;
    compliance: number | null;
    salesUnits: number;
    salesRevenue: number;
  }[];
  worstOutlets: {
    outletId: string;
    name: string;
    region: string | null;
    city: string | null;
    grade: string;
    score: number;
    availability: number | null;
  }[];
  worstSkus: {
    sku: string;
    name: string;
    brand: string;
    own: boolean;
    availability: number;
    outlets: number;
    stockouts: number;
  }[];
}

export interface OutletScore {
  outletId: string;
  region: string | null;
  city: string | null;
  channel: string | null;
  grade: 'A' | 'B' | 'C' | 'D';
  score: number;
  availability: number | null;
  compliance: number | null;
  purity: number | null;
  salesPerDay: number;
}

export interface Alert {
  id: string;
  type: 'stockout';
  state: 'open' | 'closed';
  outletId: string;
  fixtureId: string;
  sku: string;
  start: string;
  raisedAt: string;
  end: string | null;
  clearedAt: string | null;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  resolvedAt?: string;
  resolvedBy?: string;
}

export interface Stockout {
  outletId: string;
  fixtureId: string;
  sku: string;
  state: 'open' | 'closed';
  start: string;
  end: string | null;
  durationHours: number | null;
}

export interface Replenishment {
  outletId: string;
  fixtureId: string;
  sku: string;
  count: number;
  capacity: number;
  ratePerHour: number;
  projectedEmptyAt: string | null;
  priority: 'out' | 'soon' | 'ok';
  quantity: number;
}

export interface PromoRow extends Promotion {
  treatedOutlets: number;
  controlOutlets: number;
  incrementalUnits: number;
  incrementalRevenue: number;
  roi: number;
  roiInterval: { level: number; low: number; high: number } | null;
}

export interface PromoDetail extends Promotion {
  result: Omit<PromoRow, keyof Promotion> & { actualUnits: number; baselineUnits: number; controlTrend: number };
  daily: { date: string; actualUnits: number; baselineUnits: number }[];
  perOutlet: {
    outletId: string;
    name: string;
    actualUnits: number;
    baselineUnits: number;
    incrementalUnits: number;
    incrementalRevenue: number;
  }[];
}

/** `/api/v1/catalog`: SKUs with reference images and their state in the recognition gallery. */
export interface ReferenceImage {
  id: string;
  name?: string;
  box?: [number, number, number, number];
  width: number;
  height: number;
  addedAt: string;
  addedBy: string;
  enrolled: boolean;
  thumbUrl: string;
  url: string;
}
export interface CatalogItem {
  sku: string;
  brand: string | null;
  own: boolean | null;
  name: string;
  inGallery: boolean;
  shots: number | null;
  source: string | null;
  enrolledAt: string | null;
  references: ReferenceImage[];
}
export interface CatalogResponse {
  gallery: { name: string; version: string; embedder: string | null; skus: number } | null;
  enrolment: { available: boolean; reason?: string };
  items: CatalogItem[];
}
export interface GalleryChange {
  version: string;
  previousVersion: string | null;
  sku: string | null;
  shots: number;
  at: string;
  by: string;
}
export interface EnrollResponse {
  sku: string;
  references: ReferenceImage[];
  gallery?: { name: string; version: string; previousVersion: string };
  nearest?: { sku: string; similarity: number }[];
}
