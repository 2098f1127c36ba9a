import { loadCatalog } from '../catalog/catalog.js';
import type { CatalogEntry, PackFormat } from '../catalog/types.js';
import { Rng } from '../util/rng.js';
import { renderableDepths } from './scene.js';
import type {
  Channel,
  FixtureMaster,
  MasterDataJson,
  OutletMaster,
  PlanogramPosition,
  PromotionMaster,
  SkuMaster,
} from './types.js';

export interface MarketConfig {
  seed: number;
  outlets: number;
  weeks: number;
  /** Local date of day 0, a Monday. */
  startDate: string;
  utcOffsetMinutes: number;
  captureIntervalMin: number;
  /** Probability that a scheduled merchandiser visit does not happen. */
  missedVisitRate: number;
  /** Probability that one capture is lost (device offline). */
  captureDropRate: number;
  /** Daily demand multiplier noise (sd of a mean-1 factor per outlet-SKU-day). */
  dailyNoiseSd: number;
  /** Include the default promotions (the second half of the run, in about half of the outlets). */
  promotions: boolean;
  /** Merchandisers visit treated outlets daily during a promotion (a confound DiD does not remove). */
  promoDailyVisits: boolean;
  /**
   * Branded-cooler positions only as deep as the image renderer's shelves (3–4 packs front to back
   * instead of 4–9), so every unit is drawable; for runs with recognition in the loop.
   */
  renderableCoolers: boolean;
  /** Fixtures whose physical state is recorded at every capture (`MarketRun.snapshots`), for rendering. */
  snapshotFixtures: string[];
}

export const DEFAULT_MARKET_CONFIG: MarketConfig = {
  seed: 1,
  outlets: 50,
  weeks: 4,
  startDate: '2026-03-02',
  utcOffsetMinutes: 480,
  captureIntervalMin: 60,
  missedVisitRate: 0.12,
  captureDropRate: 0.01,
  dailyNoiseSd: 0.1,
  promotions: true,
  promoDailyVisits: true,
  renderableCoolers: false,
  snapshotFixtures: [],
};

/** Everything about the market that does not change during a run, plus the demand model. */
export interface World {
  config: MarketConfig;
  master: MasterDataJson;
  /** Base demand, units per open day, per outlet → SKU. */
  baseDemand: Map<string, Map<string, number>>;
  /** Merchandiser visits per outlet: day index and minute of day, whether it is missed. */
  visits: Map<string, { day: number; minute: number; missed: boolean }[]>;
  /** Promotion lift per promotionId (the simulator's secret; analytics never see it). */
  lifts: Map<string, number>;
  /** Competitor SKUs the shopkeeper may slip into branded coolers. */
  slipSkus: string[];
  /** Products unknown to the gallery (never catalogued). */
  foreignSkus: string[];
  /** Probability per day that an outlet slips a competitor into an occupied own position. */
  slipRate: Map<string, number>;
}

const CITIES: { region: string; city: string; lat: number; lon: number }[] = [
  { region: 'East', city: 'Shanghai', lat: 31.23, lon: 121.47 },
  { region: 'East', city: 'Hangzhou', lat: 30.27, lon: 120.16 },
  { region: 'East', city: 'Nanjing', lat: 32.06, lon: 118.8 },
  { region: 'South', city: 'Guangzhou', lat: 23.13, lon: 113.26 },
  { region: 'South', city: 'Shenzhen', lat: 22.54, lon: 114.06 },
  { region: 'North', city: 'Beijing', lat: 39.9, lon: 116.41 },
  { region: 'North', city: 'Tianjin', lat: 39.13, lon: 117.2 },
  { region: 'West', city: 'Chengdu', lat: 30.57, lon: 104.07 },
  { region: 'West', city: 'Chongqing', lat: 29.56, lon: 106.55 },
];

const CHANNELS: { channel: Channel; weight: number; size: number; open: number; close: number; shelf: number }[] = [
  { channel: 'hypermarket', weight: 0.1, size: 1.6, open: 9, close: 22, shelf: 0.9 },
  { channel: 'supermarket', weight: 0.25, size: 1.3, open: 8, close: 22, shelf: 0.6 },
  { channel: 'convenience', weight: 0.45, size: 1.0, open: 7, close: 23, shelf: 0.25 },
  { channel: 'traditional', weight: 0.2, size: 0.75, open: 7, close: 21, shelf: 0.1 },
];

const PRICE: Record<PackFormat, number> = {
  can330: 3.5,
  can250: 3,
  can500: 5,
  pet500: 4,
  glass330: 6,
  carton250: 3,
  carton1000: 10,
};

const DEPTH: Record<PackFormat, number> = {
  can330: 8,
  can250: 9,
  can500: 7,
  pet500: 6,
  glass330: 7,
  carton250: 8,
  carton1000: 4,
};

const round2 = (x: number) => Math.round(x * 100) / 100;

export const buildWorld = (partial: Partial<MarketConfig> = {}): World => {
  const config: MarketConfig = { ...DEFAULT_MARKET_CONFIG, ...partial };
  if (!Number.isInteger(config.outlets) || config.outlets < 2) throw new Error('outlets must be an integer ≥ 2');
  if (!Number.isInteger(config.weeks) || config.weeks < 1) throw new Error('weeks must be an integer ≥ 1');
  const rng = new Rng(`market:${config.seed}`);
  const catalog = loadCatalog();
  const own = catalog.filter((c) => c.own);
  const competitors = catalog.filter((c) => !c.own);

  // Prices and popularity are properties of the product, the same in every outlet.
  const priceRng = rng.fork('prices');
  const skus: SkuMaster[] = catalog.map((c) => {
    const price = round2(PRICE[c.pack.format] * priceRng.range(0.9, 1.15));
    return {
      sku: c.sku,
      brand: c.brand,
      own: c.own,
      name: c.name,
      price,
      unitCost: round2(price * priceRng.range(0.38, 0.5)),
    };
  });
  const popularity = new Map(catalog.map((c) => [c.sku, Math.exp(priceRng.normal(0, 0.25))]));

  const core = own.slice(0, 8);
  const extras = own.slice(8);
  const outlets: OutletMaster[] = [];
  const fixtures: FixtureMaster[] = [];
  const baseDemand = new Map<string, Map<string, number>>();
  const visits = new Map<string, { day: number; minute: number; missed: boolean }[]>();
  const slipRate = new Map<string, number>();
  const days = config.weeks * 7;

  for (let i = 0; i < config.outlets; i++) {
    const o = rng.fork(`outlet:${i}`);
    const place = o.pick(CITIES);
    const ch = o.weighted(CHANNELS, (c) => c.weight);
    const outletId = `o${String(i + 1).padStart(3, '0')}`;
    outlets.push({
      outletId,
      name: `${place.city} ${ch.channel} #${i + 1}`,
      region: place.region,
      city: place.city,
      channel: ch.channel,
      lat: round2(place.lat + o.normal(0, 0.05)),
      lon: round2(place.lon + o.normal(0, 0.05)),
      utcOffsetMinutes: config.utcOffsetMinutes,
      openHour: ch.open,
      closeHour: ch.close,
    });
    const size = ch.size * Math.exp(o.normal(0, 0.2));
    const demand = new Map<string, number>();
    baseDemand.set(outletId, demand);

    // Branded cooler: 6 rows × 6 columns, own SKUs only, 3 facings each (8 core + 4 of the rest).
    const coolerSkus = [...core, ...o.shuffle([...extras]).slice(0, 4)];
    // Renderable coolers are 4 rows × 9 columns (the same 36 positions): a 6-row cooler renders its packs
    // at two thirds of the size the recognition models were trained on.
    const cooler = fixture(
      `${outletId}-c1`,
      outletId,
      'branded-cooler',
      config,
      coolerSkus,
      config.renderableCoolers ? 9 : 6,
      3,
    );
    if (config.renderableCoolers) {
      const slots = renderableDepths(cooler);
      for (const p of cooler.positions) p.depth = Math.min(p.depth, slots[p.row] ?? p.depth);
    }
    fixtures.push(cooler);
    for (const c of coolerSkus) demand.set(c.sku, 3.2 * size * (popularity.get(c.sku) ?? 1));

    // Ambient shelf in some outlets: competitors plus own SKUs that are not in the cooler.
    if (o.chance(ch.shelf)) {
      const shelfOwn = extras.filter((e) => !coolerSkus.includes(e)).slice(0, 3);
      const shelfComp = o.shuffle([...competitors]).slice(0, 5);
      fixtures.push(fixture(`${outletId}-s1`, outletId, 'shelf', config, [...shelfComp, ...shelfOwn], 8, 4));
      for (const c of [...shelfComp, ...shelfOwn]) demand.set(c.sku, 2.2 * size * (popularity.get(c.sku) ?? 1));
    }

    // Merchandiser: every 2 or 3 days at a quarter past/half past/quarter to, some visits missed.
    const every = o.chance(0.6) ? 2 : 3;
    const phase = o.int(0, every - 1);
    const list: { day: number; minute: number; missed: boolean }[] = [];
    for (let d = phase; d < days; d += every) {
      const hour = o.int(Math.max(ch.open + 1, 9), Math.min(ch.close - 2, 16));
      list.push({ day: d, minute: hour * 60 + o.pick([15, 30, 45]), missed: o.chance(config.missedVisitRate) });
    }
    visits.set(outletId, list);
    slipRate.set(outletId, o.chance(0.4) ? o.range(0.05, 0.2) : 0);
  }

  const promotions: PromotionMaster[] = [];
  const lifts = new Map<string, number>();
  if (config.promotions && days >= 14) {
    const pr = rng.fork('promotions');
    const half = Math.floor(config.weeks / 2) * 7;
    const specs = [
      { skus: core.slice(0, 4), lift: 1.8, discount: 0.1, feePerOutlet: 40 },
      { skus: core.slice(4, 8), lift: 1.5, discount: 0.06, feePerOutlet: 30 },
    ];
    specs.forEach((s, k) => {
      const treated = pr
        .shuffle(outlets.map((x) => x.outletId))
        .slice(0, Math.round(outlets.length / 2))
        .sort();
      const id = `promo-${k + 1}`;
      promotions.push({
        promotionId: id,
        name: `${s.skus[0]?.brand ?? 'brand'} ${Math.round(s.discount * 100)}% off, ${s.skus.map((x) => x.sku).join(', ')}`,
        skus: s.skus.map((x) => x.sku),
        outletIds: treated,
        start: localIso(config, half, 0),
        end: localIso(config, days, 0),
        discountPct: s.discount,
        cost: s.feePerOutlet * treated.length,
      });
      lifts.set(id, s.lift);
      // Promotion execution: the merchandiser visits treated outlets every day of the promotion.
      for (const o of treated) {
        const list = visits.get(o) ?? [];
        const outlet = outlets.find((x) => x.outletId === o);
        for (let d = half; d < days && config.promoDailyVisits; d++)
          if (!list.some((v) => v.day === d))
            list.push({
              day: d,
              minute: Math.max((outlet?.openHour ?? 8) + 1, 9) * 60 + 45,
              missed: pr.chance(config.missedVisitRate),
            });
        list.sort((a, b) => a.day - b.day);
      }
    });
  }

  return {
    config,
    master: { version: 1, currency: 'CNY', skus, outlets, fixtures, promotions },
    baseDemand,
    visits,
    lifts,
    slipSkus: competitors.map((c) => c.sku),
    foreignSkus: ['foreign-1', 'foreign-2', 'foreign-3'],
    slipRate,
  };
};

const fixture = (
  fixtureId: string,
  outletId: string,
  kind: FixtureMaster['kind'],
  config: MarketConfig,
  items: CatalogEntry[],
  columns: number,
  facingsEach: number,
): FixtureMaster => {
  const positions: PlanogramPosition[] = [];
  let k = 0;
  for (const item of items)
    for (let f = 0; f < facingsEach; f++, k++)
      positions.push({
        row: Math.floor(k / columns),
        column: k % columns,
        sku: item.sku,
        depth: kind === 'shelf' ? 5 : DEPTH[item.pack.format],
      });
  return {
    fixtureId,
    outletId,
    deviceId: `cam-${fixtureId}`,
    kind,
    captureIntervalMin: config.captureIntervalMin,
    positions,
  };
};

/** ISO 8601 with the outlet's offset for `day` days and `minute` minutes after local midnight of day 0. */
export const localIso = (config: Pick<MarketConfig, 'startDate' | 'utcOffsetMinutes'>, day: number, minute: number) => {
  const [y, m, d] = config.startDate.split('-').map(Number) as [number, number, number];
  const localMs = Date.UTC(y, m - 1, d) + (day * 1440 + minute) * 60_000;
  const off = config.utcOffsetMinutes;
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  const tz = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${new Date(localMs).toISOString().slice(0, 19)}${tz}`;
};

export const localDate = (config: Pick<MarketConfig, 'startDate'>, day: number) => {
  const [y, m, d] = config.startDate.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + day)).toISOString().slice(0, 10);
};
