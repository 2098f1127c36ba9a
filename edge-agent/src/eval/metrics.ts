import type { Detection } from '@shelfsight/protocol';
import { iou } from '../recognition/nms.js';
import type { Box } from '../recognition/letterbox.js';

export const EMPTY = '__empty__';
export const UNKNOWN = '__unknown__';

/** One ground-truth object of a frame, box normalised 0-1. */
export interface Truth {
  name: string; // SKU id, EMPTY or UNKNOWN
  box: Box;
  /** Whether the object is a facing (front-most in its column); undefined when the set does not say. */
  facing?: boolean;
  /**
   * Too hidden to demand (e.g. only the rim of the third pack back shows): a detection on it is
   * neither a hit nor a false alarm, and missing it is not an error.
   */
  ignore?: boolean;
  /** Position in its stack, 0 = front-most (simulator sets record it; other sets may not). */
  depth?: number;
  /** Share of the object hidden, 0-1, where the set records it (simulator sets do). */
  occlusion?: number;
}

/**
 * The band of hiddenness round maxOcclusion (0.9) in which countDiagnosis lets a pack count or not:
 * a pack 88 % hidden must be counted and one 92 % hidden must not, and column counts err mostly
 * there (D42).
 */
export const HIDDEN_BAND = { from: 0.8, to: 0.95 } as const;

export interface FrameResult {
  truth: Truth[];
  pred: Detection[];
}

type DetClass = 'product' | 'empty';
const detClassOfTruth = (t: Truth): DetClass => (t.name === EMPTY ? 'empty' : 'product');
const detClassOfPred = (d: Detection): DetClass => (d.kind === 'empty' ? 'empty' : 'product');

/**
 * Greedy IoU matching per frame, highest confidence first, same detection class only. Returns per
 * prediction the index of its truth, -1 for a false alarm, or -2 when it only hits an ignored object.
 */
export function matchFrame(f: FrameResult, iouThr = 0.5): number[] {
  const order = f.pred.map((_, i) => i).sort((a, b) => f.pred[b]!.confidence - f.pred[a]!.confidence);
  const used = new Set<number>();
  const predToTruth = new Array<number>(f.pred.length).fill(-1);
  for (const p of order) {
    const d = f.pred[p]!;
    let best = iouThr;
    let bj = -1;
    f.truth.forEach((t, j) => {
      if (t.ignore || used.has(j) || detClassOfTruth(t) !== detClassOfPred(d)) return;
      const v = iou(d.box as Box, t.box);
      if (v >= best) {
        best = v;
        bj = j;
      }
    });
    if (bj >= 0) {
      used.add(bj);
      predToTruth[p] = bj;
    } else if (f.truth.some((t) => t.ignore && iou(d.box as Box, t.box) >= iouThr)) predToTruth[p] = -2;
  }
  return predToTruth;
}

/** VOC-style all-point average precision from (score, isTp) pairs and the number of positives. */
export function averagePrecision(scored: { score: number; tp: boolean }[], positives: number): number {
  if (positives === 0) return scored.length === 0 ? 1 : 0;
  const s = [...scored].sort((a, b) => b.score - a.score);
  const prec: number[] = [];
  const rec: number[] = [];
  let tp = 0;
  s.forEach((x, i) => {
    if (x.tp) tp++;
    prec.push(tp / (i + 1));
    rec.push(tp / positives);
  });
  for (let i = prec.length - 2; i >= 0; i--) prec[i] = Math.max(prec[i]!, prec[i + 1]!);
  let ap = 0;
  let lastR = 0;
  rec.forEach((r, i) => {
    ap += (r - lastR) * prec[i]!;
    lastR = r;
  });
  return ap;
}

const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b);

export interface Metrics {
  detection: { precision: number; recall: number; map50: number };
  skuAccuracy: number;
  /** skuAccuracy restricted to SKUs enrolled from a few images and never seen by embedder training. */
  heldOutSkuAccuracy: number;
  /** skuAccuracy over front-most packs only (the facings a merchandiser would count). */
  facingSkuAccuracy: number;
  countExactMatch: number;
  /**
   * How the other (frame, SKU) pairs miss: `over` and `under` are the shares of all pairs counted
   * above and below the truth (over + under = 1 − countExactMatch); `meanAbs` is the mean of
   * |predicted − true| packs over all pairs. Over-counts come from second boxes on one pack,
   * under-counts from missed packs; a pack given the wrong SKU makes one of each.
   */
  countError: { over: number; under: number; meanAbs: number };
  /**
   * Why counts miss, for a set that records how hidden each pack is (simulator sets do); each an
   * exact-match rate over (frame, SKU) pairs like countExactMatch.
   * - `withinHiddenBand`: the sharp line between packs to count and packs too hidden to count
   *   (maxOcclusion) blurred into `hiddenBand`: a count is right anywhere between the truth's packs at
   *   most `from` hidden and its packs at most `to` hidden (equal to countExactMatch without occlusion).
   * - `ifSkusRight`: every prediction that hits a pack given that pack's SKU (and one that hits a
   *   foreign pack left out), so that only boxes missed, doubled or invented are left; and the same
   *   `…WithinHiddenBand`.
   */
  countDiagnosis: {
    hiddenBand: { from: number; to: number };
    withinHiddenBand: number;
    ifSkusRight: number;
    ifSkusRightWithinHiddenBand: number;
  };
  imagesAllCountsExact: number;
  facingsAccuracy: number;
  empty: { precision: number; recall: number };
  unknown: { precision: number; recall: number };
  instances: { products: number; heldOut: number; empty: number; unknown: number };
  /**
   * Catalog-SKU instances by stack depth ("0" = front-most, "3+" = three or more behind it), where
   * the set records depth: how many there are, the share identified correctly, and the share the
   * detector missed outright. Pushed-back packs show little more than a cap, so they are where
   * recognition fails first.
   */
  byDepth: Record<string, { instances: number; skuAccuracy: number; missed: number }>;
  /**
   * The same by how hidden the pack is ("0-50%", "50-80%", "80-90%"; packs hidden more are ignored),
   * where the set records occlusion: packs near the 90 % line are the ones a count can miss (D42).
   */
  byHidden: Record<string, { instances: number; skuAccuracy: number; missed: number }>;
  /**
   * What became of the catalog-SKU instances skuAccuracy counts as errors, in instances: not found
   * (`missed`; matching is per detection class, so a pack taken for an empty slot is missed too),
   * found but called unknown (`asUnknown`), or given another SKU (`asOtherSku`); and the (true SKU →
   * SKU given) pairs behind the last, most frequent first (at most 10): look-alike flavours and sizes
   * show up here.
   */
  skuErrors: {
    missed: number;
    asUnknown: number;
    asOtherSku: number;
    topConfusions: { truth: string; predicted: string; instances: number }[];
  };
  /**
   * The hits and the whole behind each proportion above ([hits, of]; e.g. empty.recall is
   * tallies['empty.recall'][0] / [1]): what a reader needs to judge a rate, and what the confidence
   * intervals (uncertainty.ts) are computed from. Each is a sum over frames.
   */
  tallies: Tallies;
}

/** The proportions that have confidence intervals; `detection.map50` is not a proportion and has none. */
export const PROPORTIONS = [
  'detection.precision',
  'detection.recall',
  'skuAccuracy',
  'heldOutSkuAccuracy',
  'facingSkuAccuracy',
  'countExactMatch',
  'imagesAllCountsExact',
  'facingsAccuracy',
  'empty.precision',
  'empty.recall',
  'unknown.precision',
  'unknown.recall',
] as const;
export type Proportion = (typeof PROPORTIONS)[number];
export type Tallies = Record<Proportion, [hits: number, of: number]>;

const depthKey = (d: number) => (d >= 3 ? '3+' : String(d));
const hiddenKey = (o: number) => (o < 0.5 ? '0-50%' : o < 0.8 ? '50-80%' : '80-90%');

/**
 * Accuracy over frames. skuAccuracy is per ground-truth instance of a catalog SKU: a miss and a
 * wrong SKU are both errors. countExactMatch and facingsAccuracy are per (frame, SKU) pair over the
 * SKUs present in truth or prediction; imagesAllCountsExact requires every SKU of a frame to be exact.
 */
export function computeMetrics(frames: readonly FrameResult[], heldOut: ReadonlySet<string> = new Set()): Metrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const apData: Record<DetClass, { scored: { score: number; tp: boolean }[]; pos: number }> = {
    product: { scored: [], pos: 0 },
    empty: { scored: [], pos: 0 },
  };
  let skuTotal = 0;
  let skuOk = 0;
  let heldTotal = 0;
  let heldOk = 0;
  let faceTotal = 0;
  let faceOk = 0;
  let pairs = 0;
  let pairsOk = 0;
  let pairsOver = 0;
  let pairsUnder = 0;
  const diag = { pairs: 0, band: 0, rightPairs: 0, right: 0, rightBand: 0 };
  let absErr = 0;
  let facePairs = 0;
  let facePairsOk = 0;
  let framesOk = 0;
  const emptyC = { tp: 0, pred: 0, truth: 0 };
  const unkC = { tp: 0, pred: 0, truth: 0 };
  const depthC = new Map<string, { n: number; ok: number; missed: number }>();
  const hiddenC = new Map<string, { n: number; ok: number; missed: number }>();
  const errors = { missed: 0, asUnknown: 0, asOtherSku: 0 };
  const confusions = new Map<string, { truth: string; predicted: string; instances: number }>();
  for (const f of frames) {
    const m = matchFrame(f);
    const matchedTruth = new Map<number, number>();
    m.forEach((j, p) => {
      const d = f.pred[p]!;
      if (j === -2) return;
      apData[detClassOfPred(d)].scored.push({ score: d.confidence, tp: j >= 0 });
      if (j >= 0) {
        tp++;
        matchedTruth.set(j, p);
      } else fp++;
      if (d.kind === 'empty') emptyC.pred++;
      if (d.kind === 'unknown') unkC.pred++;
    });
    f.truth.forEach((t, j) => {
      if (t.ignore) return;
      apData[detClassOfTruth(t)].pos++;
      const p = matchedTruth.get(j);
      const d = p === undefined ? undefined : f.pred[p];
      if (!d) fn++;
      if (t.name === EMPTY) {
        emptyC.truth++;
        if (d?.kind === 'empty') emptyC.tp++;
      } else if (t.name === UNKNOWN) {
        unkC.truth++;
        if (d?.kind === 'unknown') unkC.tp++;
      } else {
        skuTotal++;
        const ok = d?.kind === 'product' && d.sku === t.name;
        if (ok) skuOk++;
        else if (!d) errors.missed++;
        else if (d.kind === 'unknown') errors.asUnknown++;
        else {
          errors.asOtherSku++;
          const key = `${t.name}\u0000${d.sku}`;
          const c = confusions.get(key) ?? { truth: t.name, predicted: d.sku ?? '', instances: 0 };
          c.instances++;
          confusions.set(key, c);
        }
        if (t.depth !== undefined) tally(depthC, depthKey(t.depth), ok, !d);
        if (t.occlusion !== undefined) tally(hiddenC, hiddenKey(t.occlusion), ok, !d);
        if (t.facing) {
          faceTotal++;
          if (ok) faceOk++;
        }
        if (heldOut.has(t.name)) {
          heldTotal++;
          if (ok) heldOk++;
        }
      }
    });
    const count = (names: (string | undefined)[]) => {
      const c = new Map<string, number>();
      for (const n of names) if (n) c.set(n, (c.get(n) ?? 0) + 1);
      return c;
    };
    const known = (t: Truth) => !t.ignore && t.name !== EMPTY && t.name !== UNKNOWN;
    const counted = f.pred.filter((d, p) => d.kind === 'product' && m[p] !== -2);
    const tc = count(f.truth.filter(known).map((t) => t.name));
    const pc = count(counted.map((d) => d.sku));
    const tf = count(f.truth.filter((t) => known(t) && t.facing !== false).map((t) => t.name));
    const pf = count(counted.filter((d) => d.facing).map((d) => d.sku));
    let all = true;
    for (const sku of new Set([...tc.keys(), ...pc.keys()])) {
      pairs++;
      const diff = (pc.get(sku) ?? 0) - (tc.get(sku) ?? 0);
      absErr += Math.abs(diff);
      if (diff === 0) pairsOk++;
      else {
        all = false;
        if (diff > 0) pairsOver++;
        else pairsUnder++;
      }
    }
    for (const sku of new Set([...tf.keys(), ...pf.keys()])) {
      facePairs++;
      if ((tf.get(sku) ?? 0) === (pf.get(sku) ?? 0)) facePairsOk++;
    }
    if (all) framesOk++;
    diagnoseCounts(f, m, tc, pc, diag);
  }
  // Not ratio(): with no pairs there is no error, where ratio() reports a perfect accuracy of 1.
  const perPair = (n: number) => (pairs === 0 ? 0 : n / pairs);
  const ap = (['product', 'empty'] as const).map((k) => averagePrecision(apData[k].scored, apData[k].pos));
  return {
    detection: { precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn), map50: (ap[0]! + ap[1]!) / 2 },
    skuAccuracy: ratio(skuOk, skuTotal),
    heldOutSkuAccuracy: ratio(heldOk, heldTotal),
    facingSkuAccuracy: ratio(faceOk, faceTotal),
    countExactMatch: ratio(pairsOk, pairs),
    countError: { over: perPair(pairsOver), under: perPair(pairsUnder), meanAbs: perPair(absErr) },
    countDiagnosis: {
      hiddenBand: { ...HIDDEN_BAND },
      withinHiddenBand: ratio(diag.band, diag.pairs),
      ifSkusRight: ratio(diag.right, diag.rightPairs),
      ifSkusRightWithinHiddenBand: ratio(diag.rightBand, diag.rightPairs),
    },
    imagesAllCountsExact: ratio(framesOk, frames.length),
    facingsAccuracy: ratio(facePairsOk, facePairs),
    empty: { precision: ratio(emptyC.tp, emptyC.pred), recall: ratio(emptyC.tp, emptyC.truth) },
    unknown: { precision: ratio(unkC.tp, unkC.pred), recall: ratio(unkC.tp, unkC.truth) },
    instances: { products: skuTotal, heldOut: heldTotal, empty: emptyC.truth, unknown: unkC.truth },
    byDepth: breakdown(depthC),
    byHidden: breakdown(hiddenC),
    skuErrors: {
      ...errors,
      topConfusions: [...confusions.values()]
        .sort(
          (a, b) =>
            b.instances - a.instances || a.truth.localeCompare(b.truth) || a.predicted.localeCompare(b.predicted),
        )
        .slice(0, 10),
    },
    tallies: {
      'detection.precision': [tp, tp + fp],
      'detection.recall': [tp, tp + fn],
      skuAccuracy: [skuOk, skuTotal],
      heldOutSkuAccuracy: [heldOk, heldTotal],
      facingSkuAccuracy: [faceOk, faceTotal],
      countExactMatch: [pairsOk, pairs],
      imagesAllCountsExact: [framesOk, frames.length],
      facingsAccuracy: [facePairsOk, facePairs],
      'empty.precision': [emptyC.tp, emptyC.pred],
      'empty.recall': [emptyC.tp, emptyC.truth],
      'unknown.precision': [unkC.tp, unkC.pred],
      'unknown.recall': [unkC.tp, unkC.truth],
    },
  };
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Counts one catalog pack into a byDepth / byHidden group. */
function tally(m: Map<string, { n: number; ok: number; missed: number }>, key: string, ok: boolean, missed: boolean) {
  const c = m.get(key) ?? { n: 0, ok: 0, missed: 0 };
  c.n++;
  if (ok) c.ok++;
  if (missed) c.missed++;
  m.set(key, c);
}

function breakdown(m: ReadonlyMap<string, { n: number; ok: number; missed: number }>): Metrics['byDepth'] {
  return Object.fromEntries(
    [...m.entries()]
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(([k, c]) => [k, { instances: c.n, skuAccuracy: ratio(c.ok, c.n), missed: ratio(c.missed, c.n) }]),
  );
}

/** One frame's share of Metrics.countDiagnosis: `tc` and `pc` are its true and predicted counts per SKU. */
function diagnoseCounts(
  f: FrameResult,
  m: readonly number[],
  tc: ReadonlyMap<string, number>,
  pc: ReadonlyMap<string, number>,
  acc: { pairs: number; band: number; rightPairs: number; right: number; rightBand: number },
): void {
  const isSku = (t: Truth) => t.name !== EMPTY && t.name !== UNKNOWN;
  const hidden = (t: Truth) => t.occlusion ?? (t.ignore ? 1 : 0);
  const count = (names: string[]) => {
    const c = new Map<string, number>();
    for (const n of names) c.set(n, (c.get(n) ?? 0) + 1);
    return c;
  };
  // Fewest and most packs a count may say with the line blurred (ignored packs within the band may count).
  const least = count(f.truth.filter((t) => isSku(t) && !t.ignore && hidden(t) <= HIDDEN_BAND.from).map((t) => t.name));
  const most = count(f.truth.filter((t) => isSku(t) && (!t.ignore || hidden(t) <= HIDDEN_BAND.to)).map((t) => t.name));
  const inBand = (sku: string, n: number) =>
    n >= Math.min(least.get(sku) ?? 0, tc.get(sku) ?? 0) && n <= Math.max(most.get(sku) ?? 0, tc.get(sku) ?? 0);
  for (const sku of new Set([...tc.keys(), ...pc.keys()])) {
    acc.pairs++;
    if (inBand(sku, pc.get(sku) ?? 0)) acc.band++;
  }
  const right = count(
    f.pred.flatMap((d, p) => {
      const j = m[p]!;
      if (j === -2 || d.kind === 'empty') return [];
      if (j >= 0) return isSku(f.truth[j]!) ? [f.truth[j]!.name] : [];
      return d.kind === 'product' && d.sku ? [d.sku] : [];
    }),
  );
  for (const sku of new Set([...tc.keys(), ...right.keys()])) {
    acc.rightPairs++;
    const n = right.get(sku) ?? 0;
    if (n === (tc.get(sku) ?? 0)) acc.right++;
    if (inBand(sku, n)) acc.rightBand++;
  }
}
