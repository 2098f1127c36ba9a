/**
 * Sales from noisy counts: a stock-level model (`method: 'levels'`, the default).
 *
 * A recognised per-SKU count is a noisy, and for deep positions an undercounted, measurement of the
 * fixture's stock level, and that level can only go down between two merchandiser visits. Summing
 * capture-to-capture count drops turns every up-and-down of the noise into a phantom sale, so the
 * estimator instead
 *
 * 1. estimates the count noise of the fixture from how much its SKUs disagree about the change
 *    between the same two captures (`countNoiseScale`);
 * 2. finds restocks as sustained, fixture-wide level shifts up: binary segmentation, a split where
 *    letting every SKU's non-increasing fit jump up removes more squared error than a penalty
 *    proportional to noise² × SKUs (`segmentRestocks`); counts as steady as exact ones (noise below
 *    `exactNoise`) split at every rise of a unit, as in the drop estimator;
 * 3. fits every SKU's level within each segment as a non-increasing sequence (isotonic regression,
 *    pool-adjacent-violators);
 * 4. with the planogram: if a planned SKU's fitted reading right after restocks is well below its
 *    capacity (the recogniser misses packs hidden behind the front ones), maps its readings onto
 *    units — one to one up to its planned facings (front packs are seen), then stretched so the
 *    post-restock reading becomes capacity (a visit fills the planogram) — and takes the level right
 *    after a visit to be capacity when imputing the restock interval;
 * 5. sales in an ordinary interval = drop of the fitted level; a restock interval is imputed from
 *    the neighbouring sell rate, as in `estimateDropSales`.
 *
 * With exact counts the fitted levels are the counts, the restocks are the intervals where counts
 * rise, and no SKU is stretched, so the result equals the drop estimator's (checked on the 50-outlet
 * simulator eval, seeds 1–20: identical daily sales and replenishment rates).
 */
import { openMinutesByDayHour } from './demand.js';
import type { FixtureSalesResult, SalesInterval, SalesOptions } from './sales.js';
import { countOf, neighbourRate, median, openMinutes, type FixtureSeries, type OutletClock } from './series.js';

/** Planned SKU of a fixture as the level model needs it (`MasterDataView.plannedSkus`). */
export interface PlannedCapacity {
  sku: string;
  facings: number;
  /** Units the planogram holds (Σ depth of the SKU's positions). */
  capacity: number;
}

/** Pool-adjacent-violators blocks of a non-increasing least-squares fit, built left to right. */
class PavBlocks {
  readonly sum: number[] = [];
  readonly cnt: number[] = [];
  readonly sq: number[] = [];
  /** Residual sum of squares of the current fit. */
  sse = 0;

  private blockSse(k: number): number {
    return Math.max(0, this.sq[k]! - (this.sum[k]! * this.sum[k]!) / this.cnt[k]!);
  }

  push(v: number): void {
    const { sum, cnt, sq } = this;
    sum.push(v);
    cnt.push(1);
    sq.push(v * v);
    // A block's mean may not exceed the previous block's: pool while it does.
    for (let k = sum.length - 1; k > 0 && sum[k]! / cnt[k]! > sum[k - 1]! / cnt[k - 1]!; k--) {
      this.sse -= this.blockSse(k - 1) + this.blockSse(k);
      sum[k - 1]! += sum[k]!;
      cnt[k - 1]! += cnt[k]!;
      sq[k - 1]! += sq[k]!;
      sum.pop();
      cnt.pop();
      sq.pop();
      this.sse += this.blockSse(k - 1);
    }
  }
}

/** Least-squares non-increasing fit of `y` (isotonic regression) and its residual sum of squares. */
export const isotonicNonIncreasing = (y: readonly number[]): { fit: number[]; sse: number } => {
  const b = new PavBlocks();
  for (const v of y) b.push(v);
  const fit: number[] = [];
  for (let k = 0; k < b.sum.length; k++) for (let j = 0; j < b.cnt[k]!; j++) fit.push(b.sum[k]! / b.cnt[k]!);
  return { fit, sse: b.sse };
};

/** SSE of the non-increasing fit of every prefix y[0..k], in one pass (PAV only merges at the end). */
export const prefixIsotonicSse = (y: readonly number[]): number[] => {
  const b = new PavBlocks();
  return y.map((v) => (b.push(v), b.sse));
};

/**
 * Count noise of a fixture: units, one standard deviation per capture. Between the same two
 * captures every SKU of an exact-count fixture moves by its own (small, mostly zero) sales; with
 * recognition noise each moves by its own error too. So: deviations of each SKU's change from the
 * median change of the fixture's SKUs in that interval (a fixture with one SKU: from its own median
 * change), mean absolute deviation without the top 10 % (restocks, removals), as a normal sd.
 */
export const countNoiseScale = (counts: readonly (readonly number[])[]): number => {
  const n = counts[0]?.length ?? 0;
  const dev = new Float64Array(Math.max(0, n - 1) * counts.length);
  let nd = 0;
  const d = new Float64Array(Math.max(counts.length, n));
  const medianOf = (len: number) => {
    const x = d.subarray(0, len).sort();
    return len % 2 ? x[(len - 1) / 2]! : (x[len / 2 - 1]! + x[len / 2]!) / 2;
  };
  if (counts.length === 1) {
    const c = counts[0]!;
    for (let i = 0; i + 1 < n; i++) d[i] = c[i + 1]! - c[i]!;
    const m = medianOf(n - 1);
    for (let i = 0; i + 1 < n; i++) dev[nd++] = Math.abs(c[i + 1]! - c[i]! - m);
  } else
    for (let i = 0; i + 1 < n; i++) {
      let len = 0;
      for (const c of counts) if (c[i]! > 0 || c[i + 1]! > 0) d[len++] = c[i + 1]! - c[i]!;
      if (len < 2) continue;
      const m = medianOf(len);
      // (medianOf sorted d in place: still the same changes.)
      for (let k = 0; k < len; k++) dev[nd++] = Math.abs(d[k]! - m);
    }
  if (nd === 0) return 0;
  const sorted = dev.subarray(0, nd).sort();
  const kept = Math.max(1, Math.floor(nd * 0.9));
  let sum = 0;
  for (let k = 0; k < kept; k++) sum += sorted[k]!;
  // Mean absolute deviation × √(π/2) = sd of a change between two captures; ÷ √2 = of one capture.
  return ((sum / kept) * Math.sqrt(Math.PI / 2)) / Math.SQRT2;
};

/**
 * Restock intervals (k: between captures k and k+1) by binary segmentation of a fixture's per-SKU
 * series: a split at k lets every SKU's non-increasing fit jump up there; the best split of a
 * segment is kept while it removes more than `penalty` of total squared error.
 */
export const segmentRestocks = (counts: readonly (readonly number[])[], penalty: number): number[] => {
  const n = counts[0]?.length ?? 0;
  const cuts: number[] = [];
  const stack: [number, number][] = n > 1 ? [[0, n - 1]] : [];
  const pre = new Float64Array(n);
  const suf = new Float64Array(n);
  const gain = new Float64Array(n);
  const scan = pavScanner(n);
  while (stack.length > 0) {
    const [a, b] = stack.pop()!;
    if (b <= a) continue;
    const len = b - a + 1;
    gain.fill(0, 0, len - 1);
    for (const c of counts) {
      // A non-increasing segment fits exactly: nothing to gain from a split.
      let rises = false;
      for (let k = a; k < b && !rises; k++) rises = c[k + 1]! > c[k]!;
      if (!rises) continue;
      scan(c, a, len, 1, pre);
      scan(c, b, len, -1, suf);
      const whole = pre[len - 1]!;
      // suf[m] = SSE of the fit of the suffix starting at b − m.
      for (let k = 0; k < len - 1; k++) gain[k]! += whole - pre[k]! - suf[len - 2 - k]!;
    }
    let best = -1;
    for (let k = 0; k < len - 1; k++) if (gain[k]! > penalty && (best < 0 || gain[k]! > gain[best]!)) best = k;
    if (best < 0) continue;
    cuts.push(a + best);
    stack.push([a, a + best], [a + best + 1, b]);
  }
  return cuts.sort((x, y) => x - y);
};

/**
 * Allocation-free PAV scan for `segmentRestocks`: out[m] = SSE of the non-increasing fit of
 * c[start..start+m] (step 1), or of the suffix c[start−m..start] (step −1: a non-increasing fit of a
 * suffix is a non-increasing fit of the negated values read backwards).
 */
const pavScanner = (n: number) => {
  const sum = new Float64Array(n);
  const cnt = new Float64Array(n);
  const sq = new Float64Array(n);
  const blockSse = (k: number) => Math.max(0, sq[k]! - (sum[k]! * sum[k]!) / cnt[k]!);
  return (c: readonly number[], start: number, len: number, step: 1 | -1, out: Float64Array): void => {
    let top = -1;
    let sse = 0;
    for (let m = 0; m < len; m++) {
      const v = step * c[start + step * m]!;
      top++;
      sum[top] = v;
      cnt[top] = 1;
      sq[top] = v * v;
      while (top > 0 && sum[top]! / cnt[top]! > sum[top - 1]! / cnt[top - 1]!) {
        sse -= blockSse(top - 1) + blockSse(top);
        sum[top - 1]! += sum[top]!;
        cnt[top - 1]! += cnt[top]!;
        sq[top - 1]! += sq[top]!;
        top--;
        sse += blockSse(top);
      }
      out[m] = sse;
    }
  };
};

export interface LevelSalesResult extends FixtureSalesResult {
  /** Fitted stock level (units) per SKU and capture. */
  levels: Map<string, number[]>;
  /** Estimated count noise (units, sd per capture). */
  noise: number;
  /** SKUs whose readings were stretched onto capacity (undercounted), with the stretch factor. */
  stretched: Map<string, number>;
}

/** Sales of one fixture from the stock-level model of its counts (see the module comment). */
export const estimateLevelSales = (
  series: FixtureSeries,
  clock: OutletClock,
  opts: SalesOptions,
  hourWeights?: readonly number[],
  planned: readonly PlannedCapacity[] = [],
): LevelSalesResult => {
  const weighted = (a: number, b: number) => {
    if (!hourWeights) return openMinutes(a, b, clock);
    let m = 0;
    for (const [, h, x] of openMinutesByDayHour(a, b, clock)) m += x * (hourWeights[h] ?? 1);
    return m;
  };
  const caps = series.captures;
  const skus = [...new Set(caps.flatMap((c) => [...c.skus.keys()]))].sort();
  const n = caps.length - 1;
  if (n < 1) return { intervals: [], restocks: [], levels: new Map(), noise: 0, stretched: new Map() };
  const counts = skus.map((s) => caps.map((c) => countOf(c, s)));

  // 1–2. Noise and restocks. Noise below `exactNoise` is what exact counts show (SKUs selling
  // different amounts): a penalty of ¼ splits at every rise of a unit (its SSE ≥ ½) and nothing is
  // stretched, as in the drop estimator.
  const noise = countNoiseScale(counts);
  const exact = noise < (opts.exactNoise ?? 0.6);
  const penalty = exact ? 0.25 : Math.max(0.25, (opts.penaltyPerSku ?? 4) * noise * noise * skus.length);
  const restock = new Array<boolean>(n).fill(false);
  for (const k of segmentRestocks(counts, penalty)) restock[k] = true;
  const firstAfter = restock.flatMap((r, i) => (r ? [i + 1] : []));

  // 3. Non-increasing fit of each SKU within each segment.
  const levels = new Map<string, number[]>();
  skus.forEach((s, si) => {
    const c = counts[si]!;
    const fit: number[] = [];
    for (let i = 0, start = 0; i <= n; i++)
      if (i === n || restock[i]) {
        fit.push(...isotonicNonIncreasing(c.slice(start, i + 1)).fit);
        start = i + 1;
      }
    levels.set(s, fit);
  });

  // 4. Undercount correction against the planogram.
  const stretched = new Map<string, number>();
  const fullShare = opts.fullShare ?? 0.8;
  for (const p of exact ? [] : planned) {
    const L = levels.get(p.sku);
    if (!L || p.capacity <= p.facings) continue;
    // Refills: splits where the SKU itself went up (at other splits a slipped-in product appeared;
    // the level right after a visit does not depend on what was left, so skipping SKUs that were
    // still full does not bias it).
    const refills = firstAfter.filter((i) => L[i]! > L[i - 1]!);
    if (refills.length < 2) continue;
    const full = median(refills.map((i) => L[i]!));
    // Undercounted = fewer units per visible facing than the planned depth (a position taken by a
    // slipped-in product lowers the count but not the units per facing).
    const perFacing = median(refills.map((i) => L[i]! / Math.max(1, caps[i]!.skus.get(p.sku)?.facings ?? 0)));
    if (!(perFacing < (fullShare * p.capacity) / Math.max(1, p.facings)) || full <= 0) continue;
    // Front packs seen one to one, the rest stretched; a SKU read at no more than its facings even
    // when full (most packs missed or taken for a look-alike) is scaled proportionally.
    const f = full > p.facings ? p.facings : 0;
    const stretch = (p.capacity - f) / (full - f);
    levels.set(
      p.sku,
      L.map((x) => (x <= f ? x : Math.min(p.capacity, f + (x - f) * stretch))),
    );
    stretched.set(p.sku, stretch);
  }
  const capacity = new Map(planned.map((p) => [p.sku, p.capacity]));

  const minutes: number[] = [];
  const restocks: FixtureSalesResult['restocks'] = [];
  for (let i = 0; i < n; i++) {
    minutes.push(weighted(caps[i]!.t, caps[i + 1]!.t));
    if (!restock[i]) continue;
    let added = 0;
    for (const s of skus) added += Math.max(0, levels.get(s)![i + 1]! - levels.get(s)![i]!);
    restocks.push({ from: caps[i]!.t, to: caps[i + 1]!.t, unitsAdded: added });
  }

  // 5. Sales per interval.
  const intervals: SalesInterval[] = [];
  for (const s of skus) {
    const L = levels.get(s)!;
    const dec = L.slice(0, n).map((v, i) => v - L[i + 1]!);
    const usable = (j: number) => !restock[j] && L[j]! > 0 && (minutes[j] ?? 0) > 0;
    for (let i = 0; i < n; i++) {
      const from = caps[i]!.t;
      const to = caps[i + 1]!.t;
      const d = dec[i]!;
      if (!restock[i]) {
        if (d > 0) intervals.push({ sku: s, from, to, units: d, kind: 'observed' });
        continue;
      }
      const rate = neighbourRate(i, dec, minutes, usable, opts.rateWindow);
      let imputed = rate * minutes[i]! * (L[i]! > 0 ? 1 : 0.5);
      if (stretched.has(s)) {
        // The visit filled the SKU to capacity: what is missing at b sold after it; before it, the
        // sell rate over the rest of the interval, at most what was there.
        const after = Math.max(0, capacity.get(s)! - L[i + 1]!);
        imputed = after + Math.min(L[i]!, Math.max(0, rate * minutes[i]! - after));
      }
      const units = d > 0 && d <= 3 * imputed + 2 ? d : imputed;
      if (units > 0) intervals.push({ sku: s, from, to, units, kind: d > 0 && units === d ? 'observed' : 'imputed' });
    }
  }
  return { intervals, restocks, levels, noise, stretched };
};
