import { prng, quantile } from './series.js';

/**
 * Promotion analysis on *demand*, not on censored sales.
 *
 * A shelf that is empty sells nothing, so sales understate demand whenever a SKU is out of stock,
 * and how often it is out differs between outlets and periods (a promotion usually comes with
 * extra merchandiser visits). The estimator therefore works on demand rates measured while the
 * SKU was in stock, and re-applies stock-outs only through a counterfactual stock path.
 *
 * Model: expected units of SKU s in outlet o during a stretch of open time τ while in stock =
 * b(o,s) · g(date) · Σ_τ w(hour), with b an outlet-SKU level, g a market-wide date factor (weather,
 * weekday, paydays) and w the hour-of-day shape (the caller folds w into the exposures).
 *
 * 1. g is fitted on the control outlets (pre and promotion period) together with their b by
 *    iterative proportional fitting (Poisson maximum likelihood with outlet-SKU fixed effects).
 * 2. b of each treated outlet-SKU comes from the pre-period only: Σ units ÷ Σ g·exposure over
 *    in-stock intervals.
 * 3. Counterfactual units in the promotion period = b · g · exposure, summed over a stock path
 *    replayed without the promotion: the stock is reset to the observed count at every observed
 *    restock and drains at the counterfactual rate in between (fluid approximation), so the
 *    counterfactual stocks out only where the un-promoted demand would have emptied the shelf
 *    under the restocks that actually happened.
 * 4. Actual units = estimated sales (the shelf's count decreases).
 *
 * Uncertainty (conditional on the treated outlets — the estimand is what *this* promotion earned
 * in *these* outlets, not an average over hypothetical ones):
 * - the market factor g: bootstrap over control outlets (resampled with replacement, g re-fitted);
 * - the treated outlets' own noise (pre-period level, what they would have sold, sales-estimation
 *   error): calibrated by a placebo on the controls — the promotion-period sales of each control
 *   outlet-SKU (promoted SKUs and `placeboTracks`) are predicted exactly as a treated counterfactual
 *   is, and the residuals fix a dispersion φ in Var(units error of an outlet-SKU) = φ · predicted
 *   units. Each bootstrap draw adds a normal draw with variance φ · Σ_treated m_s² · counterfactual_s
 *   (m = regular unit margin).
 * The interval is the percentile interval of ROI over the draws.
 */

/** One capture-to-capture interval of one SKU on one fixture. */
export interface DemandInterval {
  /** Demand exposure of the interval per local date: open minutes × hour-of-day weight. */
  exposure: readonly (readonly [date: string, w: number])[];
  /** The merchandiser restocked in this interval (some SKU rose). */
  restock: boolean;
  /** Count at the start and at the end of the interval. */
  countA: number;
  countB: number;
}

/** The intervals of one SKU on one fixture, in time order. */
export interface SkuTrack {
  outletId: string;
  sku: string;
  intervals: DemandInterval[];
}

export interface PromoInput {
  skus: string[];
  treated: string[];
  controls: string[];
  /** Days (YYYY-MM-DD, local) of the promotion and of the pre-period of the same length. */
  promoDays: string[];
  preDays: string[];
  discountPct: number;
  cost: number;
  price: (sku: string) => { price: number; unitCost: number };
  /** Estimated units sold per (outlet, sku, date). */
  units: (outletId: string, sku: string, date: string) => number;
  /** Interval tracks of the promoted SKUs in treated and control outlets. */
  tracks: SkuTrack[];
  /**
   * Tracks of the other SKUs of the control outlets: placebo outlet-SKUs whose prediction errors
   * calibrate the treated outlets' own noise (optional; without them only the controls' promoted
   * SKUs are used).
   */
  placeboTracks?: SkuTrack[];
}

export interface PromoResult {
  treatedOutlets: number;
  controlOutlets: number;
  /** Market demand factor, mean over promotion days ÷ mean over pre-period days (from controls). */
  controlTrend: number;
  actualUnits: number;
  baselineUnits: number;
  incrementalUnits: number;
  incrementalRevenue: number;
  incrementalGrossMargin: number;
  cost: number;
  roi: number;
  /** Placebo dispersion φ of the outlet-level margin error (1 = Poisson). */
  placeboDispersion: number | null;
  /** Standard deviation of ROI from the market factor (control bootstrap) and from the treated outlets' own noise. */
  roiSd: { market: number; outlets: number } | null;
  /** Percentile interval over the bootstrap draws (see module comment). */
  roiInterval: { level: number; low: number; high: number } | null;
}

/** Per outlet-SKU: per-date arrays over the analysis dates. */
interface Cell {
  outletId: string;
  sku: string;
  /** Units sold in in-stock ordinary intervals, and their exposure (the rate sample). */
  u: Float64Array;
  e: Float64Array;
  tracks: SkuTrack[];
}

const sum = (xs: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s;
};

/** P(N ≥ k) for N ~ Poisson(mu). */
const poissonTail = (mu: number, k: number): number => {
  if (k <= 0) return 1;
  let term = Math.exp(-mu);
  let cdf = term;
  for (let j = 1; j < k; j++) {
    term *= mu / j;
    cdf += term;
  }
  return Math.max(0, 1 - cdf);
};

/**
 * Expected share of an interval of demand mu (units) during which a shelf that started with c units
 * and was empty at the end still had stock: E[T_c | T_c < 1] for the c-th arrival of a Poisson
 * process = (c / mu) · P(N ≥ c+1) / P(N ≥ c). → c/(c+1) for slow sellers, → c/mu for fast ones.
 */
export const inStockShare = (c: number, mu: number): number => {
  const k = Math.max(1, Math.round(c));
  if (!(mu > 0)) return k / (k + 1);
  const pk = poissonTail(mu, k);
  if (pk <= 1e-12) return Math.min(1, k / mu);
  return Math.min(1, ((k / mu) * poissonTail(mu, k + 1)) / pk);
};

interface Censored {
  cell: Cell;
  sold: number;
  parts: [date: number, w: number][];
}

/**
 * Sales rate sample of a track: ordinary intervals that started in stock. Intervals that also ended
 * in stock go straight into the sample; ones that ended empty are returned, to be added once a
 * first rate estimate tells how long they were in stock.
 */
const addRateSample = (cell: Cell, t: SkuTrack, dateIx: Map<string, number>, censored: Censored[]) => {
  for (const iv of t.intervals) {
    if (iv.restock || iv.countA <= 0) continue;
    let tot = 0;
    for (const [, w] of iv.exposure) tot += w;
    if (tot <= 0) continue;
    const sold = Math.max(0, iv.countA - iv.countB);
    const parts: [number, number][] = [];
    for (const [d, w] of iv.exposure) {
      const k = dateIx.get(d);
      if (k !== undefined) parts.push([k, w]);
    }
    if (parts.length === 0) continue;
    if (iv.countB === 0) {
      censored.push({ cell, sold, parts });
      continue;
    }
    for (const [k, w] of parts) {
      cell.u[k]! += (sold * w) / tot;
      cell.e[k]! += w;
    }
  }
};

/** Adds the intervals that ended empty with their expected in-stock exposure under rate b·g. */
const addCensored = (censored: Censored[], level: (c: Cell) => number | null, g: Float64Array) => {
  for (const x of censored) {
    const b = level(x.cell);
    let mu = 0;
    let tot = 0;
    for (const [k, w] of x.parts) {
      mu += (b ?? 0) * g[k]! * w;
      tot += w;
    }
    const share = b === null ? 0.5 : inStockShare(x.sold, mu);
    for (const [k, w] of x.parts) {
      x.cell.u[k]! += (x.sold * w) / tot;
      x.cell.e[k]! += w * share;
    }
  }
};

/**
 * Fits the market factor g and outlet-SKU levels b on weighted control cells. g is constant within
 * a group of dates (`groupOf[d]`): one group per date follows every market swing but each date's
 * factor rests on one day of control sales; coarser groups trade that noise for bias.
 */
const fitMarket = (
  cells: Cell[],
  weights: number[],
  groupOf: Int32Array,
  init?: Float64Array,
  iters = 30,
): Float64Array => {
  const nDates = groupOf.length;
  const nGroups = Math.max(0, ...groupOf) + 1;
  const g = init ? Float64Array.from(init) : new Float64Array(nDates).fill(1);
  const b = new Float64Array(cells.length);
  const num = new Float64Array(nGroups);
  const den = new Float64Array(nGroups);
  for (let it = 0; it < iters; it++) {
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c]!;
      let ge = 0;
      for (let d = 0; d < nDates; d++) ge += g[d]! * cell.e[d]!;
      b[c] = ge > 0 ? sum(cell.u) / ge : 0;
    }
    num.fill(0);
    den.fill(0);
    for (let c = 0; c < cells.length; c++) {
      const w = weights[c]!;
      if (w === 0) continue;
      const cell = cells[c]!;
      for (let d = 0; d < nDates; d++) {
        num[groupOf[d]!]! += w * cell.u[d]!;
        den[groupOf[d]!]! += w * b[c]! * cell.e[d]!;
      }
    }
    let mean = 0;
    for (let d = 0; d < nDates; d++) {
      const k = groupOf[d]!;
      g[d] = den[k]! > 0 ? num[k]! / den[k]! : 1;
      mean += g[d]!;
    }
    mean = nDates ? mean / nDates : 1;
    for (let d = 0; d < nDates; d++) g[d] = g[d]! / mean;
  }
  return g;
};

/** Pre-period level b of a cell given g. Falls back to null when it was never in stock. */
const levelOf = (cell: Cell, g: Float64Array, pre: number[]): number | null => {
  let u = 0;
  let ge = 0;
  for (const d of pre) {
    u += cell.u[d]!;
    ge += g[d]! * cell.e[d]!;
  }
  return ge > 0 ? u / ge : null;
};

/**
 * Counterfactual exposure per date of a cell in the promotion period: exposure of every interval,
 * scaled by the fraction of its demand a fluid stock path at rate b·g could serve. The path starts
 * from the observed count when the promotion starts and is reset to the observed count after each
 * observed restock.
 */
const counterfactualExposure = (
  cell: Cell,
  b: number,
  g: Float64Array,
  dateIx: Map<string, number>,
  promo: Set<number>,
  nDates: number,
): Float64Array => {
  const out = new Float64Array(nDates);
  for (const t of cell.tracks) {
    let stock: number | null = null;
    for (const iv of t.intervals) {
      if (iv.exposure.length === 0) {
        // Closed hours: no demand; a restock still refills.
        if (stock !== null && iv.restock) stock = iv.countB;
        continue;
      }
      if (!iv.exposure.some(([d]) => promo.has(dateIx.get(d) ?? -1))) {
        // Before the promotion both worlds are the same shelf: start from the observed count.
        stock = null;
        continue;
      }
      if (stock === null) stock = iv.countA;
      let demand = 0;
      for (const [d, w] of iv.exposure) demand += b * (g[dateIx.get(d) ?? -1] ?? 1) * w;
      let served = 1;
      if (iv.restock) stock = iv.countB;
      else if (demand > 0) {
        served = Math.min(1, stock / demand);
        stock = Math.max(0, stock - demand);
      }
      for (const [d, w] of iv.exposure) {
        const k = dateIx.get(d);
        if (k !== undefined && promo.has(k)) out[k]! += w * served;
      }
    }
  }
  return out;
};

/** Standard normal from two uniforms (Box–Muller). */
const gauss = (rnd: () => number) => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());

export interface PromoOptions {
  level?: number;
  resamples?: number;
  seed?: number;
  /** Resolution of the market factor: per `date` (default), per weekday and period, or per `period`. */
  marketFactor?: 'date' | 'weekday' | 'period';
}

export const analysePromotion = (inp: PromoInput, opts: PromoOptions = {}): PromoResult => {
  const level = opts.level ?? 0.9;
  const dates = [...new Set([...inp.preDays, ...inp.promoDays])].sort();
  const dateIx = new Map(dates.map((d, i) => [d, i]));
  const nDates = dates.length;
  const pre = inp.preDays.map((d) => dateIx.get(d)!);
  const promoIx = inp.promoDays.map((d) => dateIx.get(d)!);
  const promo = new Set(promoIx);
  const skus = new Set(inp.skus);

  const cellMap = new Map<string, Cell>();
  const censored: Censored[] = [];
  for (const t of inp.tracks) {
    if (!skus.has(t.sku)) continue;
    const key = `${t.outletId}|${t.sku}`;
    let c = cellMap.get(key);
    if (!c)
      cellMap.set(
        key,
        (c = {
          outletId: t.outletId,
          sku: t.sku,
          u: new Float64Array(nDates),
          e: new Float64Array(nDates),
          tracks: [],
        }),
      );
    c.tracks.push(t);
    addRateSample(c, t, dateIx, censored);
  }
  const controlSet = new Set(inp.controls);
  const placeboCells: Cell[] = [];
  const placeboMap = new Map<string, Cell>();
  for (const t of inp.placeboTracks ?? []) {
    if (skus.has(t.sku) || !controlSet.has(t.outletId)) continue;
    const key = `${t.outletId}|${t.sku}`;
    let c = placeboMap.get(key);
    if (!c) {
      placeboMap.set(
        key,
        (c = {
          outletId: t.outletId,
          sku: t.sku,
          u: new Float64Array(nDates),
          e: new Float64Array(nDates),
          tracks: [],
        }),
      );
      placeboCells.push(c);
    }
    c.tracks.push(t);
    addRateSample(c, t, dateIx, censored);
  }
  const cellsOf = (outlets: string[]) =>
    outlets.map((o) => inp.skus.map((s) => cellMap.get(`${o}|${s}`)).filter((c): c is Cell => c !== undefined));
  const treated = cellsOf(inp.treated);
  const controls = cellsOf(inp.controls);
  const controlCells = controls.flat();
  const ctrlOutletOfCell = controls.flatMap((cs, j) => cs.map(() => j));

  const margin = (sku: string) => {
    const p = inp.price(sku);
    return { promo: p.price * (1 - inp.discountPct) - p.unitCost, regular: p.price - p.unitCost, p };
  };
  const actualOf = (o: string, sku: string) => inp.promoDays.reduce((s, d) => s + inp.units(o, sku, d), 0);

  // Stage 1 fits on intervals that ended in stock; stage 2 adds the ones that ran empty, with the
  // in-stock share their stage-1 rate implies (a control's level over all dates, a treated or other
  // cell's over the pre-period).
  const ones = controlCells.map(() => 1);
  const mode = opts.marketFactor ?? 'date';
  const groupOf = Int32Array.from(dates, (d, i) =>
    mode === 'date'
      ? i
      : mode === 'weekday'
        ? (promo.has(i) ? 7 : 0) + new Date(`${d}T00:00:00Z`).getUTCDay()
        : promo.has(i)
          ? 1
          : 0,
  );
  const g1 = fitMarket(controlCells, ones, groupOf);
  const isControl = new Set(controlCells);
  const levelAll = (c: Cell) => levelOf(c, g1, [...Array(nDates).keys()]);
  addCensored(censored, (c) => (isControl.has(c) ? levelAll(c) : levelOf(c, g1, pre)), g1);
  const g = fitMarket(controlCells, ones, groupOf, g1);
  const meanOver = (ix: number[]) => (ix.length ? ix.reduce((s, d) => s + g[d]!, 0) / ix.length : 1);
  const controlTrend = meanOver(promoIx) / meanOver(pre);

  /** Counterfactual units of a cell given g (its counterfactual exposure fixed at the point estimate). */
  interface Prepared {
    cell: Cell;
    cfe: Float64Array;
    actual: number;
    fallback: number;
  }
  const prepare = (cell: Cell): Prepared => {
    const b = levelOf(cell, g, pre);
    const actual = actualOf(cell.outletId, cell.sku);
    // Never seen in stock before the promotion: no demand estimate; fall back to the pre-period sales.
    const fallback = b === null ? inp.preDays.reduce((s, d) => s + inp.units(cell.outletId, cell.sku, d), 0) : 0;
    const cfe = b === null ? new Float64Array(nDates) : counterfactualExposure(cell, b, g, dateIx, promo, nDates);
    return { cell, cfe, actual, fallback };
  };
  const cfUnits = (p: Prepared, gg: Float64Array) => {
    const b = levelOf(p.cell, gg, pre);
    if (b === null) return p.fallback;
    let s = 0;
    for (const d of promoIx) s += b * gg[d]! * p.cfe[d]!;
    return s;
  };
  const T = treated.map((cs) => cs.map(prepare));

  const estimate = (gg: Float64Array) => {
    let actual = 0;
    let baseline = 0;
    let revenue = 0;
    let gm = 0;
    for (const cs of T)
      for (const p of cs) {
        const m = margin(p.cell.sku);
        const cf = cfUnits(p, gg);
        actual += p.actual;
        baseline += cf;
        revenue += p.actual * m.p.price * (1 - inp.discountPct) - cf * m.p.price;
        gm += p.actual * m.promo - cf * m.regular;
      }
    return { actual, baseline, revenue, gm };
  };
  const e = estimate(g);
  const roiOf = (gm: number) => (gm - inp.cost) / inp.cost;

  // Placebo on the controls: predict the promotion-period sales of every control outlet-SKU
  // (promoted SKUs and the placebo SKUs) exactly as a treated counterfactual is predicted; squared
  // residuals over the prediction (Poisson scale) give the dispersion φ.
  let phi: number | null = null;
  let treatedVar = 0;
  if (controls.length >= 3) {
    let ratio = 0;
    let n = 0;
    for (const cell of [...controlCells, ...placeboCells]) {
      const p = prepare(cell);
      const pred = cfUnits(p, g);
      if (pred < 1) continue;
      const err = p.actual - pred;
      ratio += (err * err) / pred;
      n++;
    }
    if (n >= 3) {
      phi = ratio / (n - 1);
      for (const cs of T)
        for (const p of cs) {
          const m = margin(p.cell.sku).regular;
          treatedVar += m * m * Math.max(cfUnits(p, g), 1);
        }
      treatedVar *= phi;
    }
  }

  let roiInterval: PromoResult['roiInterval'] = null;
  let roiSd: PromoResult['roiSd'] = null;
  if (T.length >= 1 && controls.length >= 3 && phi !== null) {
    const rnd = prng(opts.seed ?? 12345);
    const rois: number[] = [];
    const marketGm: number[] = [];
    const sd = Math.sqrt(treatedVar);
    const nC = controls.length;
    for (let r = 0; r < (opts.resamples ?? 1000); r++) {
      const counts = new Array<number>(nC).fill(0);
      for (let k = 0; k < nC; k++) counts[Math.floor(rnd() * nC)]!++;
      const gb = fitMarket(
        controlCells,
        ctrlOutletOfCell.map((j) => counts[j]!),
        groupOf,
        g,
        10,
      );
      const gm = estimate(gb).gm;
      marketGm.push(gm);
      rois.push(roiOf(gm + sd * gauss(rnd)));
    }
    const mean = marketGm.reduce((a, b) => a + b, 0) / marketGm.length;
    const sdMarket = Math.sqrt(marketGm.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, marketGm.length - 1));
    roiSd = { market: sdMarket / inp.cost, outlets: sd / inp.cost };
    roiInterval = { level, low: quantile(rois, (1 - level) / 2), high: quantile(rois, 1 - (1 - level) / 2) };
  }

  return {
    treatedOutlets: treated.length,
    controlOutlets: controls.length,
    controlTrend,
    actualUnits: e.actual,
    baselineUnits: e.baseline,
    incrementalUnits: e.actual - e.baseline,
    incrementalRevenue: e.revenue,
    incrementalGrossMargin: e.gm,
    cost: inp.cost,
    roi: roiOf(e.gm),
    placeboDispersion: phi,
    roiSd,
    roiInterval,
  };
};
