/** Input shapes of the analytics: per-fixture capture series, as the store returns them. */

export interface SkuReading {
  count: number;
  facings: number;
}

export interface Capture {
  /** Capture time, ms since epoch (UTC). */
  t: number;
  skus: Map<string, SkuReading>;
  emptyFacings: number;
  unknownProducts: number;
}

export interface FixtureSeries {
  outletId: string;
  fixtureId: string;
  /** Sorted by time, ascending; one per capture. */
  captures: Capture[];
}

/** Opening hours and local time of an outlet; outlets without master data are open 24 h at UTC+8. */
export interface OutletClock {
  utcOffsetMinutes: number;
  openHour: number;
  closeHour: number;
}

export const DEFAULT_CLOCK: OutletClock = { utcOffsetMinutes: 480, openHour: 0, closeHour: 24 };

const DAY = 86_400_000;

/** Local calendar date (YYYY-MM-DD) of an instant. */
export const localDate = (t: number, clock: OutletClock): string =>
  new Date(t + clock.utcOffsetMinutes * 60_000).toISOString().slice(0, 10);

/** Monday (local) of the week containing `date`. */
export const weekOf = (date: string): string => {
  const d = new Date(`${date}T00:00:00Z`);
  const dow = (d.getUTCDay() + 6) % 7;
  return new Date(d.getTime() - dow * DAY).toISOString().slice(0, 10);
};

/** Open minutes in (a, b], split by local date. */
export const openMinutesByDay = (a: number, b: number, clock: OutletClock): Map<string, number> => {
  const out = new Map<string, number>();
  if (b <= a) return out;
  const off = clock.utcOffsetMinutes * 60_000;
  let la = a + off;
  const lb = b + off;
  while (la < lb) {
    const dayStart = Math.floor(la / DAY) * DAY;
    const open = dayStart + clock.openHour * 3_600_000;
    const close = dayStart + clock.closeHour * 3_600_000;
    const end = Math.min(lb, dayStart + DAY);
    const mins = Math.max(0, Math.min(end, close) - Math.max(la, open)) / 60_000;
    if (mins > 0) {
      const date = new Date(dayStart).toISOString().slice(0, 10);
      out.set(date, (out.get(date) ?? 0) + mins);
    }
    la = end;
  }
  return out;
};

export const openMinutes = (a: number, b: number, clock: OutletClock): number => {
  let s = 0;
  for (const m of openMinutesByDay(a, b, clock).values()) s += m;
  return s;
};

export const countOf = (c: Capture, sku: string): number => c.skus.get(sku)?.count ?? 0;
export const facingsOf = (c: Capture, sku: string): number => c.skus.get(sku)?.facings ?? 0;

export const median = (xs: number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
};

/** Deterministic PRNG for the bootstrap (mulberry32). */
export const prng = (seed: number) => {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/**
 * Sell rate around interval `i` in units per open minute: the decreases over the open minutes of
 * up to `window` nearest usable intervals on each side (a restock or an empty shelf says nothing
 * about the rate). Used to impute the sales hidden inside a restock interval.
 */
export const neighbourRate = (
  i: number,
  dec: readonly number[],
  minutes: readonly number[],
  usable: (j: number) => boolean,
  window: number,
): number => {
  let u = 0;
  let m = 0;
  const take = (j: number) => {
    u += Math.max(0, dec[j]!);
    m += minutes[j]!;
  };
  for (let j = i - 1, k = 0; j >= 0 && k < window; j--)
    if (usable(j)) {
      take(j);
      k++;
    }
  for (let j = i + 1, k = 0; j < dec.length && k < window; j++)
    if (usable(j)) {
      take(j);
      k++;
    }
  return m > 0 ? u / m : 0;
};
