import { prng, quantile } from './series.js';

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
}

export interface PromoResult {
  treatedOutlets: number;
  controlOutlets: number;
  /** Σ control promotion-period units ÷ Σ control pre-period units (the market trend). */
  controlTrend: number;
  actualUnits: number;
  baselineUnits: number;
  incrementalUnits: number;
  incrementalRevenue: number;
  incrementalGrossMargin: number;
  cost: number;
  roi: number;
  /** Percentile bootstrap over outlets. */
  roiInterval: { level: number; low: number; high: number } | null;
}

interface OutletSums {
  pre: Map<string, number>;
  post: Map<string, number>;
}

const sums = (inp: PromoInput, outletId: string): OutletSums => {
  const pre = new Map<string, number>();
  const post = new Map<string, number>();
  for (const sku of inp.skus) {
    pre.set(
      sku,
      inp.preDays.reduce((s, d) => s + inp.units(outletId, sku, d), 0),
    );
    post.set(
      sku,
      inp.promoDays.reduce((s, d) => s + inp.units(outletId, sku, d), 0),
    );
  }
  return { pre, post };
};

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

const estimate = (inp: PromoInput, treated: OutletSums[], controls: OutletSums[]) => {
  const cPre = controls.reduce((s, o) => s + total(o.pre), 0);
  const cPost = controls.reduce((s, o) => s + total(o.post), 0);
  const trend = cPre > 0 ? cPost / cPre : 1;
  let actual = 0;
  let baseline = 0;
  let revenue = 0;
  let margin = 0;
  for (const o of treated)
    for (const sku of inp.skus) {
      const { price, unitCost } = inp.price(sku);
      const post = o.post.get(sku) ?? 0;
      const cf = (o.pre.get(sku) ?? 0) * trend;
      const promoPrice = price * (1 - inp.discountPct);
      actual += post;
      baseline += cf;
      revenue += post * promoPrice - cf * price;
      margin += post * (promoPrice - unitCost) - cf * (price - unitCost);
    }
  return { trend, actual, baseline, revenue, margin, roi: (margin - inp.cost) / inp.cost };
};

/**
 * Difference-in-differences on the multiplicative (log) scale: the counterfactual units of a
 * treated outlet-SKU are its pre-period units × the control outlets' trend (Σ promotion-period ÷
 * Σ pre-period units of the same SKUs). Incremental gross margin = Σ actual × (promo price − unit
 * cost) − Σ counterfactual × (regular price − unit cost); ROI = (incremental GM − cost) ÷ cost.
 * The interval resamples treated and control outlets independently, with replacement.
 */
export const analysePromotion = (
  inp: PromoInput,
  opts: { level?: number; resamples?: number; seed?: number } = {},
): PromoResult => {
  const level = opts.level ?? 0.9;
  const treated = inp.treated.map((o) => sums(inp, o));
  const controls = inp.controls.map((o) => sums(inp, o));
  const e = estimate(inp, treated, controls);
  let roiInterval: PromoResult['roiInterval'] = null;
  if (treated.length >= 2 && controls.length >= 2) {
    const rnd = prng(opts.seed ?? 12345);
    const rois: number[] = [];
    const draw = <T>(xs: T[]) => xs.map(() => xs[Math.floor(rnd() * xs.length)] as T);
    for (let b = 0; b < (opts.resamples ?? 1000); b++) rois.push(estimate(inp, draw(treated), draw(controls)).roi);
    roiInterval = { level, low: quantile(rois, (1 - level) / 2), high: quantile(rois, 1 - (1 - level) / 2) };
  }
  return {
    treatedOutlets: treated.length,
    controlOutlets: controls.length,
    controlTrend: e.trend,
    actualUnits: e.actual,
    baselineUnits: e.baseline,
    incrementalUnits: e.actual - e.baseline,
    incrementalRevenue: e.revenue,
    incrementalGrossMargin: e.margin,
    cost: inp.cost,
    roi: e.roi,
    roiInterval,
  };
};
