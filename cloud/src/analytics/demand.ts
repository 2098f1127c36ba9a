import type { DemandInterval, SkuTrack } from './promo.js';
import { countOf, type FixtureSeries, type OutletClock } from './series.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Open minutes in (a, b] split by local date and local hour: [date, hour, minutes]. */
export const openMinutesByDayHour = (a: number, b: number, clock: OutletClock): [string, number, number][] => {
  const out: [string, number, number][] = [];
  if (b <= a) return out;
  const off = clock.utcOffsetMinutes * 60_000;
  let la = a + off;
  const lb = b + off;
  while (la < lb) {
    const hourStart = Math.floor(la / HOUR) * HOUR;
    const end = Math.min(lb, hourStart + HOUR);
    const hour = Math.floor((hourStart % DAY) / HOUR);
    if (hour >= clock.openHour && hour < clock.closeHour) {
      const date = new Date(Math.floor(la / DAY) * DAY).toISOString().slice(0, 10);
      const last = out[out.length - 1];
      if (last && last[0] === date && last[1] === hour) last[2] += (end - la) / 60_000;
      else out.push([date, hour, (end - la) / 60_000]);
    }
    la = end;
  }
  return out;
};

/** Capture-pair intervals of a fixture: open time by date and hour, and whether it was a restock. */
export interface FixtureIntervals {
  series: FixtureSeries;
  segments: [string, number, number][][];
  restock: boolean[];
}

export const fixtureIntervals = (
  series: FixtureSeries,
  clock: OutletClock,
  restockMinUnits: number,
): FixtureIntervals => {
  const caps = series.captures;
  const skus = new Set<string>();
  for (const c of caps) for (const s of c.skus.keys()) skus.add(s);
  const segments: [string, number, number][][] = [];
  const restock: boolean[] = [];
  for (let i = 0; i + 1 < caps.length; i++) {
    const a = caps[i]!;
    const b = caps[i + 1]!;
    segments.push(openMinutesByDayHour(a.t, b.t, clock));
    let r = false;
    for (const s of skus) if (countOf(b, s) - countOf(a, s) >= restockMinUnits) r = true;
    restock.push(r);
  }
  return { series, segments, restock };
};

/**
 * Hour-of-day demand shape w(h) (mean 1 over the hours with data), from count decreases in ordinary
 * intervals that started in stock, pooled over all fixtures and SKUs. Each (fixture, SKU, date) has
 * its own level, so outlets with different opening hours, sizes or stock-outs do not bend the shape
 * (Poisson maximum likelihood by iterative proportional fitting).
 */
export const hourProfile = (fixtures: FixtureIntervals[], iters = 15): number[] => {
  const group: number[] = [];
  const hour: number[] = [];
  const mins: number[] = [];
  const units: number[] = [];
  let groups = 0;
  for (const f of fixtures) {
    const caps = f.series.captures;
    const skus = new Set<string>();
    for (const c of caps) for (const s of c.skus.keys()) skus.add(s);
    for (const s of skus) {
      const gid = new Map<string, number>();
      for (let i = 0; i < f.segments.length; i++) {
        const a = countOf(caps[i]!, s);
        const segs = f.segments[i]!;
        if (f.restock[i] || a <= 0 || segs.length === 0) continue;
        const b = countOf(caps[i + 1]!, s);
        const sold = Math.max(0, a - b);
        // Emptied during the interval: in stock for part of it (as in the promotion's rate sample).
        const part = b === 0 ? 0.5 : 1;
        let tot = 0;
        for (const x of segs) tot += x[2];
        if (tot <= 0) continue;
        for (const [date, h, m] of segs) {
          let g = gid.get(date);
          if (g === undefined) gid.set(date, (g = groups++));
          group.push(g);
          hour.push(h);
          mins.push(m * part);
          units.push((sold * m) / tot);
        }
      }
    }
  }
  const w = new Array<number>(24).fill(1);
  const level = new Float64Array(groups);
  const gu = new Float64Array(groups);
  for (let k = 0; k < group.length; k++) gu[group[k]!]! += units[k]!;
  for (let it = 0; it < iters; it++) {
    const gd = new Float64Array(groups);
    for (let k = 0; k < group.length; k++) gd[group[k]!]! += w[hour[k]!]! * mins[k]!;
    for (let g = 0; g < groups; g++) level[g] = gd[g]! > 0 ? gu[g]! / gd[g]! : 0;
    const hu = new Array<number>(24).fill(0);
    const hd = new Array<number>(24).fill(0);
    for (let k = 0; k < group.length; k++) {
      hu[hour[k]!]! += units[k]!;
      hd[hour[k]!]! += level[group[k]!]! * mins[k]!;
    }
    let mean = 0;
    let n = 0;
    for (let h = 0; h < 24; h++)
      if (hd[h]! > 0 && hu[h]! > 0) {
        w[h] = hu[h]! / hd[h]!;
        mean += w[h]!;
        n++;
      }
    for (let h = 0; h < 24; h++) w[h] = hd[h]! > 0 && hu[h]! > 0 ? w[h]! / (mean / n) : 1;
  }
  return w;
};

/** Interval tracks of the given SKUs on a fixture, exposures weighted by the hour profile. */
export const skuTracks = (f: FixtureIntervals, skus: string[], w: number[]): SkuTrack[] => {
  const caps = f.series.captures;
  const exposures = f.segments.map((segs) => {
    const byDate = new Map<string, number>();
    for (const [d, h, m] of segs) byDate.set(d, (byDate.get(d) ?? 0) + m * (w[h] ?? 1));
    return [...byDate.entries()].filter(([, x]) => x > 0);
  });
  return skus.map((sku) => ({
    outletId: f.series.outletId,
    sku,
    intervals: f.segments.map((_, i): DemandInterval => ({
      exposure: exposures[i]!,
      restock: f.restock[i]!,
      countA: countOf(caps[i]!, sku),
      countB: countOf(caps[i + 1]!, sku),
    })),
  }));
};
