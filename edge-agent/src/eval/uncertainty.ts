/**
 * How far a measured rate can be from the true one: 95 % confidence intervals for the evaluation's
 * proportions (decision D45).
 *
 * A held-out set of 100 frames holds ~250 empty slots and ~5000 packs, so a rate such as 97.7 %
 * empty-slot recall is itself uncertain by about a point and a half, and whether a target of 98 % is
 * missed cannot be read from the rate alone. The packs of one frame are not independent trials
 * either: one glare spot or one hard cooler costs several at once. So each interval is a Wilson score
 * interval (sound near 0 and 1, where these rates live) over the *effective* sample size, the number
 * of instances divided by the design effect of frames as clusters: the ratio estimator's
 * between-frame variance over the variance the same rate would have with independent instances
 * (never below 1).
 */
import { computeMetrics, PROPORTIONS, type FrameResult, type Proportion } from './metrics.js';

export interface Interval {
  /** Bounds of the 95 % interval, 0-1. With nothing to count (`of` = 0) they are 0 and 1. */
  lo: number;
  hi: number;
  hits: number;
  of: number;
  /** Variance with frames as clusters over the variance with independent instances (≥ 1). */
  designEffect: number;
}

export type Intervals = { method: string } & Record<Proportion, Interval>;

export const INTERVAL_METHOD =
  'Wilson 95 % interval on the effective sample size (instances / design effect of frames as clusters)';

const Z95 = 1.959964;

/** Wilson score interval for `p` observed over `n` (possibly fractional) trials. */
export function wilson(p: number, n: number, z = Z95): [number, number] {
  if (!(n > 0)) return [0, 1];
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At p = 0 or 1 one bound is exactly 0 or 1; rounding must not leave 0.9999999999999999.
  return [p <= 0 ? 0 : Math.max(0, centre - half), p >= 1 ? 1 : Math.min(1, centre + half)];
}

/**
 * One proportion's interval from its per-frame [hits, of] pairs. The between-frame variance is the
 * ratio estimator's (linearised) one: m / (m - 1) · Σ (hits_i − p · of_i)² / N².
 */
export function clusteredInterval(perFrame: readonly (readonly [number, number])[], z = Z95): Interval {
  let hits = 0;
  let of = 0;
  for (const [h, n] of perFrame) {
    hits += h;
    of += n;
  }
  if (of === 0) return { lo: 0, hi: 1, hits, of, designEffect: 1 };
  const p = hits / of;
  const m = perFrame.filter(([, n]) => n > 0).length;
  let designEffect = 1;
  const binomial = (p * (1 - p)) / of;
  if (m > 1 && binomial > 0) {
    let ss = 0;
    for (const [h, n] of perFrame) ss += (h - p * n) ** 2;
    const clustered = ((m / (m - 1)) * ss) / (of * of);
    designEffect = Math.max(1, clustered / binomial);
  }
  const [lo, hi] = wilson(p, of / designEffect, z);
  return { lo: round4(lo), hi: round4(hi), hits, of, designEffect: Math.round(designEffect * 100) / 100 };
}

/** 95 % intervals of every proportion computeMetrics reports, over these frames. */
export function intervals(frames: readonly FrameResult[], heldOut: ReadonlySet<string> = new Set()): Intervals {
  const perFrame = frames.map((f) => computeMetrics([f], heldOut).tallies);
  const out = { method: INTERVAL_METHOD } as Intervals;
  for (const k of PROPORTIONS) out[k] = clusteredInterval(perFrame.map((t) => t[k]));
  return out;
}

const round4 = (v: number) => Math.round(v * 10_000) / 10_000;
