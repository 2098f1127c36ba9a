/**
 * Market (store-dynamics) simulator: data shapes. `MasterDataJson` is the contract with the cloud's
 * master-data import (cloud/src/masterdata); `MarketTruth` is what the analytics are checked against.
 */

export type Channel = 'hypermarket' | 'supermarket' | 'convenience' | 'traditional';
export type FixtureKind = 'branded-cooler' | 'shelf';

export interface SkuMaster {
  sku: string;
  brand: string;
  own: boolean;
  name: string;
  /** Regular shelf price, CNY per unit. */
  price: number;
  /** Unit cost, CNY; gross margin per unit = price paid − unitCost. */
  unitCost: number;
}

export interface OutletMaster {
  outletId: string;
  name: string;
  region: string;
  city: string;
  channel: Channel;
  lat: number;
  lon: number;
  /** Local time = UTC + this many minutes (China: 480). */
  utcOffsetMinutes: number;
  /** Local opening hours, whole hours [openHour, closeHour). */
  openHour: number;
  closeHour: number;
}

export interface PlanogramPosition {
  /** Shelf row (0 = top) and column. */
  row: number;
  column: number;
  sku: string;
  /** Units one position holds front to back. */
  depth: number;
}

export interface FixtureMaster {
  fixtureId: string;
  outletId: string;
  deviceId: string;
  kind: FixtureKind;
  /** Minutes between captures during opening hours. */
  captureIntervalMin: number;
  positions: PlanogramPosition[];
}

export interface PromotionMaster {
  promotionId: string;
  name: string;
  skus: string[];
  outletIds: string[];
  /** Inclusive start, exclusive end (ISO 8601 with offset). */
  start: string;
  end: string;
  /** Fraction off the regular price, 0–1. */
  discountPct: number;
  /** Fixed promotion spend (display fees, materials), CNY. */
  cost: number;
}

export interface MasterDataJson {
  version: 1;
  currency: string;
  skus: SkuMaster[];
  outlets: OutletMaster[];
  fixtures: FixtureMaster[];
  promotions: PromotionMaster[];
}

export interface TrueDailySales {
  outletId: string;
  fixtureId: string;
  sku: string;
  /** Local date YYYY-MM-DD of the outlet. */
  date: string;
  units: number;
}

export interface TrueStockout {
  outletId: string;
  fixtureId: string;
  sku: string;
  start: string;
  /** null when still out at the end of the run. */
  end: string | null;
}

export interface TrueRestock {
  outletId: string;
  at: string;
  missed: boolean;
  units: number;
}

export interface TruePromotion {
  promotionId: string;
  /** Multiplicative demand lift the simulator applied. */
  lift: number;
  /** Units sold of the promoted SKUs in treated outlets during the promotion. */
  actualUnits: number;
  /** Same, in the coupled counterfactual run without the promotion (same random draws). */
  counterfactualUnits: number;
  incrementalUnits: number;
  incrementalRevenue: number;
  incrementalGrossMargin: number;
  cost: number;
  roi: number;
}

export interface MarketTruth {
  seed: number;
  start: string;
  end: string;
  weeks: number;
  sales: TrueDailySales[];
  stockouts: TrueStockout[];
  restocks: TrueRestock[];
  promotions: TruePromotion[];
}
