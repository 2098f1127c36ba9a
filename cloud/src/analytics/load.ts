import type { FixtureSeries } from './series.js';

/** The fields analytics need from an observation; both protocol Observations and store summaries fit. */
export interface CaptureLike {
  outletId: string;
  fixtureId: string;
  capturedAt: string;
  skus: readonly { sku: string; count: number; facings: number }[];
  emptyFacings: number;
  unknownProducts: number;
}

/** Groups captures into per-fixture series sorted by time; a repeated capture time keeps the first. */
export const toSeries = (items: Iterable<CaptureLike>): FixtureSeries[] => {
  const map = new Map<string, FixtureSeries>();
  for (const o of items) {
    let s = map.get(o.fixtureId);
    if (!s) map.set(o.fixtureId, (s = { outletId: o.outletId, fixtureId: o.fixtureId, captures: [] }));
    s.captures.push({
      t: Date.parse(o.capturedAt),
      skus: new Map(o.skus.map((k) => [k.sku, { count: k.count, facings: k.facings }])),
      emptyFacings: o.emptyFacings,
      unknownProducts: o.unknownProducts,
    });
  }
  for (const s of map.values()) {
    s.captures.sort((a, b) => a.t - b.t);
    s.captures = s.captures.filter((c, i, arr) => i === 0 || c.t !== arr[i - 1]!.t);
  }
  return [...map.values()].sort((a, b) => a.fixtureId.localeCompare(b.fixtureId));
};
