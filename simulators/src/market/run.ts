import type { Observation } from '@shelfsight/protocol';
import { Rng } from '../util/rng.js';
import type { MarketTruth, TrueDailySales, TrueRestock, TrueStockout, TruePromotion } from './types.js';
import { buildWorld, localDate, localIso, type MarketConfig, type World } from './world.js';
import type { FixtureSnapshot } from './scene.js';

const STEP_MIN = 15;
/** Hour-of-day demand weights (local hour 0–23); only opening hours are used, renormalised. */
const HOUR_WEIGHT = [
  0, 0, 0, 0, 0, 0, 0.3, 0.5, 0.7, 0.8, 0.9, 1.1, 1.4, 1.3, 1.0, 0.9, 1.0, 1.2, 1.4, 1.3, 1.1, 0.9, 0.6, 0.4,
];
/** Monday … Sunday. */
const DOW_WEIGHT = [0.9, 0.9, 0.95, 1.0, 1.1, 1.25, 1.2];

interface Position {
  planned: string;
  depth: number;
  /** Current occupant: the planned SKU, a competitor slipped in, or a foreign (uncatalogued) product. */
  sku: string;
  foreign: boolean;
  units: number;
}

interface FixtureState {
  outletId: string;
  fixtureId: string;
  deviceId: string;
  kind: string;
  positions: Position[];
  planned: string[];
  seq: number;
  /** Open stockout per planned SKU: start ISO. */
  out: Map<string, string>;
}

export interface MarketRun {
  world: World;
  observations: Observation[];
  truth: MarketTruth;
  /** Physical state at each capture of the fixtures in `config.snapshotFixtures` (capture order). */
  snapshots: FixtureSnapshot[];
}

interface RawRun {
  observations: Observation[];
  snapshots: FixtureSnapshot[];
  sales: Map<string, number>;
  stockouts: TrueStockout[];
  restocks: TrueRestock[];
}

/** Poisson by inversion from one uniform, so two runs with different rates stay draw-for-draw coupled. */
const poisson = (lambda: number, u: number): number => {
  let k = 0;
  let p = Math.exp(-lambda);
  let f = p;
  while (u > f && k < 500) {
    k++;
    p *= lambda / k;
    f += p;
  }
  return k;
};

const uuidFrom = (r: Rng): string => {
  const w = () =>
    Math.floor(r.next() * 4294967296)
      .toString(16)
      .padStart(8, '0');
  const raw = w() + w() + w() + w();
  const h = `${raw.slice(0, 12)}4${raw.slice(13, 16)}${((parseInt(raw[16] ?? '0', 16) & 0x3) | 0x8).toString(16)}${raw.slice(17)}`;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

const simulate = (world: World, withPromotions: boolean): RawRun => {
  const { config, master } = world;
  const days = config.weeks * 7;
  const observations: Observation[] = [];
  const snapshots: FixtureSnapshot[] = [];
  const snap = new Set(withPromotions ? config.snapshotFixtures : []);
  const sales = new Map<string, number>();
  const stockouts: TrueStockout[] = [];
  const restocks: TrueRestock[] = [];
  const base = new Rng(`market-run:${config.seed}`);
  const common = base.fork('common');
  // A market-wide daily factor (weather, paydays): the control outlets of a promotion see it too.
  const dayFactor = Array.from(
    { length: days },
    (_, d) => 1 + 0.12 * Math.sin((2 * Math.PI * d) / 9) + common.normal(0, 0.04),
  );

  const posIndex: Record<string, { row: number; column: number }[]> = Object.fromEntries(
    master.fixtures.map((f) => [f.fixtureId, f.positions.map((p) => ({ row: p.row, column: p.column }))]),
  );
  for (const outlet of master.outlets) {
    const oid = outlet.outletId;
    const demand = world.baseDemand.get(oid) ?? new Map<string, number>();
    const fixtures: FixtureState[] = master.fixtures
      .filter((f) => f.outletId === oid)
      .map((f) => ({
        outletId: oid,
        fixtureId: f.fixtureId,
        deviceId: f.deviceId,
        kind: f.kind,
        positions: f.positions.map((p) => ({
          planned: p.sku,
          depth: p.depth,
          sku: p.sku,
          foreign: false,
          units: p.depth,
        })),
        planned: [...new Set(f.positions.map((p) => p.sku))],
        seq: 0,
        out: new Map(),
      }));
    const rngFor = new Map<string, Rng>();
    const stream = (label: string) => {
      let r = rngFor.get(label);
      if (!r) rngFor.set(label, (r = new Rng(`${config.seed}:${oid}:${label}`)));
      return r;
    };
    const ops = stream('ops');
    const skuStates = fixtures.map(() => new Map<string, { rng: Rng; noise: number; noiseDay: number }>());
    const skuState = (fi: number, sku: string) => {
      const m = skuStates[fi] as Map<string, { rng: Rng; noise: number; noiseDay: number }>;
      let st = m.get(sku);
      if (!st) m.set(sku, (st = { rng: stream(`demand:${fixtures[fi]?.fixtureId}|${sku}`), noise: 1, noiseDay: -1 }));
      return st;
    };
    const visits = world.visits.get(oid) ?? [];
    const slip = world.slipRate.get(oid) ?? 0;
    const hours = HOUR_WEIGHT.map((w, h) => (h >= outlet.openHour && h < outlet.closeHour ? w : 0));
    const hourSum = hours.reduce((a, b) => a + b, 0);
    const day0 = Date.parse(localIso(config, 0, 0));
    const dayOf = (iso: string) => Math.round((Date.parse(iso) - day0) / 86_400_000);
    // Lift per SKU per day for this outlet (1 outside promotions).
    const liftOf = new Map<string, number[]>();
    for (const p of master.promotions) {
      if (!withPromotions || !p.outletIds.includes(oid)) continue;
      const [a, b] = [dayOf(p.start), dayOf(p.end)];
      for (const sku of p.skus) {
        const arr = liftOf.get(sku) ?? Array.from({ length: days }, () => 1);
        for (let d = Math.max(0, a); d < Math.min(days, b); d++)
          arr[d] = (arr[d] ?? 1) * (world.lifts.get(p.promotionId) ?? 1);
        liftOf.set(sku, arr);
      }
    }
    const visitsByDay = new Map<number, { day: number; minute: number; missed: boolean }[]>();
    for (const v of visits) visitsByDay.set(v.day, [...(visitsByDay.get(v.day) ?? []), v]);

    const unitsOf = (f: FixtureState, sku: string) =>
      f.positions.reduce((s, p) => (p.sku === sku && !p.foreign ? s + p.units : s), 0);
    const checkOut = (f: FixtureState, day: number, minute: number) => {
      for (const sku of f.planned) {
        const u = unitsOf(f, sku);
        const open = f.out.get(sku);
        if (u === 0 && open === undefined) f.out.set(sku, localIso(config, day, minute));
        else if (u > 0 && open !== undefined) {
          stockouts.push({
            outletId: oid,
            fixtureId: f.fixtureId,
            sku,
            start: open,
            end: localIso(config, day, minute),
          });
          f.out.delete(sku);
        }
      }
    };

    for (let day = 0; day < days; day++) {
      const date = localDate(config, day);
      const dow = DOW_WEIGHT[day % 7] ?? 1;
      // Before opening: a shopkeeper may slip a competitor (or an uncatalogued product) into a branded cooler.
      for (const f of fixtures) {
        const slipDraw = ops.next();
        const pickDraw = ops.next();
        const whatDraw = ops.next();
        if (f.kind !== 'branded-cooler' || slipDraw >= slip) continue;
        // Move the planned units of one position into that SKU's other positions, then fill the freed one.
        const candidates = f.positions.filter((p) => {
          if (p.sku !== p.planned || p.foreign) return false;
          const siblings = f.positions.filter((q) => q !== p && q.sku === p.sku && !q.foreign);
          return siblings.length > 0 && siblings.reduce((s, q) => s + (q.depth - q.units), 0) >= p.units;
        });
        if (candidates.length === 0) continue;
        const target = candidates[Math.floor(pickDraw * candidates.length)] as Position;
        let move = target.units;
        for (const q of f.positions)
          if (q !== target && q.sku === target.sku && !q.foreign && move > 0) {
            const add = Math.min(move, q.depth - q.units);
            q.units += add;
            move -= add;
          }
        const foreign = whatDraw < 0.25;
        const list = foreign ? world.foreignSkus : world.slipSkus;
        target.sku = list[Math.floor(((whatDraw * 7919) % 1) * list.length)] as string;
        target.foreign = foreign;
        target.units = Math.max(2, Math.round(target.depth * 0.75));
      }

      const todaysVisits = visitsByDay.get(day) ?? [];
      // SKUs that can sell today per fixture: planned ones plus competitors slipped in.
      const sellable = fixtures.map((f) => [
        ...new Set([...f.planned, ...f.positions.filter((p) => !p.foreign).map((p) => p.sku)]),
      ]);
      for (let minute = outlet.openHour * 60; minute <= outlet.closeHour * 60; minute += STEP_MIN) {
        // 1. Merchandiser visit (never on a capture instant: visits are at :15/:30/:45).
        for (const v of todaysVisits)
          if (v.minute === minute) {
            let added = 0;
            if (!v.missed)
              for (const f of fixtures) {
                for (const p of f.positions) {
                  if (p.sku !== p.planned && ops.next() < 0.7) {
                    p.sku = p.planned;
                    p.foreign = false;
                    p.units = 0;
                  }
                  if (p.sku === p.planned) {
                    added += p.depth - p.units;
                    p.units = p.depth;
                  }
                }
                checkOut(f, day, minute);
              }
            restocks.push({ outletId: oid, at: localIso(config, day, minute), missed: v.missed, units: added });
          }
        // 2. Capture on the interval grid, opening and closing included.
        if (minute % config.captureIntervalMin === 0)
          for (const f of fixtures) {
            const drop = stream(`cap:${f.deviceId}`);
            const lost = drop.next() < config.captureDropRate;
            const idDraw = new Rng(Math.floor(drop.next() * 4294967296));
            if (lost) continue;
            observations.push(observe(f, localIso(config, day, minute), idDraw));
            if (snap.has(f.fixtureId))
              snapshots.push({
                fixtureId: f.fixtureId,
                capturedAt: localIso(config, day, minute),
                positions: f.positions.map((p, k) => ({
                  row: posIndex[f.fixtureId]?.[k]?.row ?? 0,
                  column: posIndex[f.fixtureId]?.[k]?.column ?? k,
                  sku: p.sku,
                  foreign: p.foreign,
                  units: p.units,
                })),
              });
          }
        if (minute >= outlet.closeHour * 60) break;
        // 3. Shoppers during [minute, minute + 15).
        const hourW = (hours[Math.floor(minute / 60)] ?? 0) / hourSum;
        for (const [fi, f] of fixtures.entries()) {
          for (const sku of sellable[fi] ?? []) {
            const st = skuState(fi, sku);
            const r = st.rng;
            if (st.noiseDay !== day) {
              st.noise = Math.max(0.2, 1 + r.normal(0, config.dailyNoiseSd));
              st.noiseDay = day;
            }
            const noise = st.noise;
            const baseRate = demand.get(sku) ?? 1.5;
            const lift = liftOf.get(sku)?.[day] ?? 1;
            const lambda = baseRate * dow * (dayFactor[day] ?? 1) * noise * lift * hourW * (STEP_MIN / 60);
            let want = poisson(lambda, r.next());
            let sold = 0;
            while (want-- > 0) {
              let best: Position | undefined;
              for (const p of f.positions)
                if (p.sku === sku && !p.foreign && p.units > 0 && (!best || p.units > best.units)) best = p;
              if (!best) break;
              best.units--;
              sold++;
            }
            if (sold > 0) {
              const k = `${oid}|${f.fixtureId}|${sku}|${date}`;
              sales.set(k, (sales.get(k) ?? 0) + sold);
              // Stockout starts inside this step; take its midpoint.
              if (f.planned.includes(sku) && unitsOf(f, sku) === 0 && !f.out.has(sku))
                f.out.set(sku, localIso(config, day, minute + STEP_MIN / 2));
            }
            // An emptied slip-in position stays empty until the merchandiser restores it.
          }
        }
      }
    }
    for (const f of fixtures)
      for (const [sku, start] of f.out)
        stockouts.push({ outletId: oid, fixtureId: f.fixtureId, sku, start, end: null });
  }
  return { observations, snapshots, sales, stockouts, restocks };
};

const observe = (f: FixtureState, capturedAt: string, r: Rng): Observation => {
  const tally = new Map<string, { count: number; facings: number }>();
  let empty = 0;
  let unknown = 0;
  for (const p of f.positions) {
    if (p.units === 0) {
      empty++;
      continue;
    }
    if (p.foreign) {
      unknown += p.units;
      continue;
    }
    const t = tally.get(p.sku) ?? { count: 0, facings: 0 };
    t.count += p.units;
    t.facings += 1;
    tally.set(p.sku, t);
  }
  return {
    messageId: uuidFrom(r),
    deviceId: f.deviceId,
    outletId: f.outletId,
    fixtureId: f.fixtureId,
    capturedAt,
    seq: f.seq++,
    model: { name: 'perfect-recogniser', version: 'market-sim' },
    image: { width: 1280, height: 960, qualityFlags: [] },
    skus: [...tally.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([sku, t]) => ({ sku, count: t.count, facings: t.facings })),
    emptyFacings: empty,
    unknownProducts: unknown,
    inferenceMs: 0,
  };
};

/**
 * Runs the market: the observation stream a perfect recogniser would publish, and the ground truth.
 * Promotion truth comes from a second, coupled run without promotions (same random draws), so
 * incremental units are exactly what the promotion caused in this world.
 */
export const runMarket = (partial: Partial<MarketConfig> = {}): MarketRun => {
  const world = buildWorld(partial);
  const { config, master } = world;
  const real = simulate(world, true);
  const days = config.weeks * 7;
  const sales: TrueDailySales[] = [...real.sales.entries()].map(([k, units]) => {
    const [outletId, fixtureId, sku, date] = k.split('|') as [string, string, string, string];
    return { outletId, fixtureId, sku, date, units };
  });
  const promotions: TruePromotion[] = [];
  if (master.promotions.length > 0) {
    const cf = simulate(world, false);
    const price = new Map(master.skus.map((s) => [s.sku, s]));
    for (const p of master.promotions) {
      let actual = 0;
      let counter = 0;
      let revenue = 0;
      let margin = 0;
      const from = p.start.slice(0, 10);
      const to = p.end.slice(0, 10);
      const outlets = new Set(p.outletIds);
      const skus = new Set(p.skus);
      const inPromo = (k: string) => {
        const [o, , sku, date] = k.split('|') as [string, string, string, string];
        return skus.has(sku) && outlets.has(o) && date >= from && date < to ? sku : null;
      };
      for (const [k, u] of real.sales) {
        const sku = inPromo(k);
        if (!sku) continue;
        const s = price.get(sku);
        if (!s) continue;
        actual += u;
        revenue += u * s.price * (1 - p.discountPct);
        margin += u * (s.price * (1 - p.discountPct) - s.unitCost);
      }
      for (const [k, u] of cf.sales) {
        const sku = inPromo(k);
        if (!sku) continue;
        const s = price.get(sku);
        if (!s) continue;
        counter += u;
        revenue -= u * s.price;
        margin -= u * (s.price - s.unitCost);
      }
      promotions.push({
        promotionId: p.promotionId,
        lift: world.lifts.get(p.promotionId) ?? 1,
        actualUnits: actual,
        counterfactualUnits: counter,
        incrementalUnits: actual - counter,
        incrementalRevenue: revenue,
        incrementalGrossMargin: margin,
        cost: p.cost,
        roi: (margin - p.cost) / p.cost,
      });
    }
  }
  const truth: MarketTruth = {
    seed: config.seed,
    start: localIso(config, 0, 0),
    end: localIso(config, days, 0),
    weeks: config.weeks,
    sales,
    stockouts: real.stockouts,
    restocks: real.restocks,
    promotions,
  };
  return { world, observations: real.observations, truth, snapshots: real.snapshots };
};
