import type { PlannedSku } from '../masterdata/index.js';
import { countOf, facingsOf, type Capture, type FixtureSeries } from './series.js';

export interface SkuInfo {
  brand: string;
  own: boolean;
}

/** Resolves a SKU's brand; SKUs missing from master data count as brand 'unknown', not own. */
export type SkuLookup = (sku: string) => SkuInfo;

export interface FacingsRow {
  key: string;
  brand: string;
  own: boolean;
  /** Mean facings per capture, summed over fixtures in scope. */
  facings: number;
  /** facings ÷ all recognised facings in scope (share of shelf), 0–1. */
  share: number;
}

/**
 * Facings and share of shelf by SKU or brand over a set of fixture series. Each fixture
 * contributes its mean facings per capture (so fixtures with more captures do not weigh more);
 * share = group facings ÷ all recognised facings. Unknown products are excluded (no facings known).
 */
export const facingsAndShare = (series: FixtureSeries[], lookup: SkuLookup, by: 'sku' | 'brand'): FacingsRow[] => {
  const acc = new Map<string, FacingsRow>();
  let total = 0;
  for (const s of series) {
    const n = s.captures.length;
    if (n === 0) continue;
    for (const c of s.captures)
      for (const [sku, r] of c.skus) {
        const info = lookup(sku);
        const key = by === 'sku' ? sku : info.brand;
        const row = acc.get(key) ?? { key, brand: info.brand, own: info.own, facings: 0, share: 0 };
        row.facings += r.facings / n;
        total += r.facings / n;
        acc.set(key, row);
      }
  }
  return [...acc.values()]
    .map((r) => ({ ...r, share: total > 0 ? r.facings / total : 0 }))
    .sort((a, b) => b.facings - a.facings || a.key.localeCompare(b.key));
};

/** Own units ÷ (recognised units + unknown products) in one capture; null for an empty fixture. */
export const capturePurity = (c: Capture, lookup: SkuLookup): number | null => {
  let own = 0;
  let all = c.unknownProducts;
  for (const [sku, r] of c.skus) {
    all += r.count;
    if (lookup(sku).own) own += r.count;
  }
  return all > 0 ? own / all : null;
};

/** Planogram SKUs with count > 0 ÷ planogram SKUs, in one capture; null without a planogram. */
export const captureAvailability = (c: Capture, planned: PlannedSku[]): number | null => {
  if (planned.length === 0) return null;
  return planned.filter((p) => countOf(c, p.sku) > 0).length / planned.length;
};

/**
 * Planogram compliance of one capture: Σ_planned min(facings, planned facings) ÷ Σ planned facings
 * (positions holding their planned SKU, counted from facings when positions are not reported).
 */
export const captureCompliance = (c: Capture, planned: PlannedSku[]): number | null => {
  const total = planned.reduce((s, p) => s + p.facings, 0);
  if (total === 0) return null;
  return planned.reduce((s, p) => s + Math.min(facingsOf(c, p.sku), p.facings), 0) / total;
};

/** Mean of a per-capture metric over a series, ignoring nulls; null when nothing to average. */
export const meanOver = (captures: Capture[], f: (c: Capture) => number | null): number | null => {
  let s = 0;
  let n = 0;
  for (const c of captures) {
    const v = f(c);
    if (v === null) continue;
    s += v;
    n++;
  }
  return n > 0 ? s / n : null;
};

/**
 * OSA per SKU across outlets: for each (fixture planning the SKU, capture), present = count > 0;
 * OSA = present ÷ all such (fixture, capture) pairs.
 */
export const skuAvailability = (
  series: FixtureSeries[],
  planned: (fixtureId: string) => PlannedSku[],
): { sku: string; availability: number; outlets: number; observations: number }[] => {
  const acc = new Map<string, { present: number; n: number; outlets: Set<string> }>();
  for (const s of series)
    for (const p of planned(s.fixtureId)) {
      const a = acc.get(p.sku) ?? { present: 0, n: 0, outlets: new Set<string>() };
      a.outlets.add(s.outletId);
      for (const c of s.captures) {
        a.n++;
        if (countOf(c, p.sku) > 0) a.present++;
      }
      acc.set(p.sku, a);
    }
  return [...acc.entries()]
    .filter(([, a]) => a.n > 0)
    .map(([sku, a]) => ({ sku, availability: a.present / a.n, outlets: a.outlets.size, observations: a.n }))
    .sort((a, b) => a.sku.localeCompare(b.sku));
};
