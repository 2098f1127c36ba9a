import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DeviceId, FixtureId, OutletId, SkuId } from '@shelfsight/protocol';

/**
 * Master data the analytics need besides observations: the SKU catalog (brand, own/competitor,
 * price, unit cost), outlets (region, city, channel, location, opening hours), fixtures with
 * planograms, and promotions. Imported as one JSON document (the market simulator exports it).
 */
export const SkuMaster = z.strictObject({
  sku: SkuId,
  brand: z.string().min(1).max(100),
  own: z.boolean(),
  name: z.string().max(200).default(''),
  price: z.number().min(0),
  unitCost: z.number().min(0),
});

export const OutletMaster = z
  .strictObject({
    outletId: OutletId,
    name: z.string().max(200).default(''),
    region: z.string().min(1).max(100),
    city: z.string().min(1).max(100),
    channel: z.string().min(1).max(50),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    utcOffsetMinutes: z.number().int().min(-720).max(840).default(480),
    openHour: z.number().int().min(0).max(23).default(0),
    closeHour: z.number().int().min(1).max(24).default(24),
  })
  .refine((o) => o.openHour < o.closeHour, { path: ['closeHour'], message: 'must be after openHour' });

export const PlanogramPosition = z.strictObject({
  row: z.number().int().min(0).max(100),
  column: z.number().int().min(0).max(1000),
  sku: SkuId,
  depth: z.number().int().min(1).max(100),
});

export const FixtureMaster = z.strictObject({
  fixtureId: FixtureId,
  outletId: OutletId,
  deviceId: DeviceId.optional(),
  /** The brand (tenant) whose fixture this is; default: derived from the planogram (users/tenant.ts). */
  brand: z.string().min(1).max(100).optional(),
  kind: z.enum(['branded-cooler', 'shelf']),
  captureIntervalMin: z.number().int().min(1).max(1440).default(60),
  positions: z.array(PlanogramPosition).max(2000).default([]),
});

export const PromotionMaster = z
  .strictObject({
    promotionId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'promotionId must be a slug'),
    name: z.string().max(300).default(''),
    skus: z.array(SkuId).min(1).max(500),
    outletIds: z.array(OutletId).min(1).max(100_000),
    start: z.iso.datetime({ offset: true }),
    end: z.iso.datetime({ offset: true }),
    discountPct: z.number().min(0).max(1),
    cost: z.number().positive(),
  })
  .refine((p) => Date.parse(p.start) < Date.parse(p.end), { path: ['end'], message: 'must be after start' });

export const MasterData = z
  .strictObject({
    version: z.literal(1),
    currency: z.string().min(1).max(8).default('CNY'),
    skus: z.array(SkuMaster).max(100_000),
    outlets: z.array(OutletMaster).max(100_000),
    fixtures: z.array(FixtureMaster).max(200_000),
    promotions: z.array(PromotionMaster).max(10_000).default([]),
  })
  .superRefine((m, ctx) => {
    const outlets = new Set(m.outlets.map((o) => o.outletId));
    m.fixtures.forEach((f, i) => {
      if (!outlets.has(f.outletId))
        ctx.addIssue({ code: 'custom', path: ['fixtures', i, 'outletId'], message: `unknown outlet ${f.outletId}` });
    });
    m.promotions.forEach((p, i) =>
      p.outletIds.forEach((o, j) => {
        if (!outlets.has(o))
          ctx.addIssue({ code: 'custom', path: ['promotions', i, 'outletIds', j], message: `unknown outlet ${o}` });
      }),
    );
  });

export type SkuMaster = z.infer<typeof SkuMaster>;
export type OutletMaster = z.infer<typeof OutletMaster>;
export type FixtureMaster = z.infer<typeof FixtureMaster>;
export type PromotionMaster = z.infer<typeof PromotionMaster>;
export type MasterData = z.infer<typeof MasterData>;
export type MasterDataInput = z.input<typeof MasterData>;

export interface PlannedSku {
  sku: string;
  facings: number;
  /** Units the planogram holds: Σ depth over the SKU's positions. */
  capacity: number;
}

/** Indexed, read-only view of one master-data document. */
export class MasterDataView {
  readonly skus: Map<string, SkuMaster>;
  readonly outlets: Map<string, OutletMaster>;
  readonly fixtures: Map<string, FixtureMaster>;
  readonly promotions: Map<string, PromotionMaster>;
  private readonly planned = new Map<string, PlannedSku[]>();

  constructor(readonly data: MasterData) {
    this.skus = new Map(data.skus.map((s) => [s.sku, s]));
    this.outlets = new Map(data.outlets.map((o) => [o.outletId, o]));
    this.fixtures = new Map(data.fixtures.map((f) => [f.fixtureId, f]));
    this.promotions = new Map(data.promotions.map((p) => [p.promotionId, p]));
    for (const f of data.fixtures) {
      const m = new Map<string, PlannedSku>();
      for (const p of f.positions) {
        const e = m.get(p.sku) ?? { sku: p.sku, facings: 0, capacity: 0 };
        e.facings += 1;
        e.capacity += p.depth;
        m.set(p.sku, e);
      }
      this.planned.set(f.fixtureId, [...m.values()]);
    }
  }

  /** Planned SKUs of a fixture; empty when the fixture has no planogram (or is unknown). */
  plannedSkus(fixtureId: string): PlannedSku[] {
    return this.planned.get(fixtureId) ?? [];
  }
}

const EMPTY: MasterData = { version: 1, currency: 'CNY', skus: [], outlets: [], fixtures: [], promotions: [] };

/**
 * Holds the current master data; persisted as `masterdata.json` in the cloud's data dir (atomic
 * rename), or only in memory when the data dir is ':memory:'. An import replaces the document.
 */
export class MasterDataRegistry {
  private view: MasterDataView;
  /** The import schema, for callers that validate before importing (the API reports 400s with it). */
  readonly schema = { MasterData };

  private constructor(
    private readonly file: string | null,
    data: MasterData,
  ) {
    this.view = new MasterDataView(data);
  }

  static open(dataDir: string): MasterDataRegistry {
    if (dataDir === ':memory:') return new MasterDataRegistry(null, EMPTY);
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'masterdata.json');
    const data = existsSync(file) ? MasterData.parse(JSON.parse(readFileSync(file, 'utf8'))) : EMPTY;
    return new MasterDataRegistry(file, data);
  }

  static inMemory(data?: MasterDataInput): MasterDataRegistry {
    return new MasterDataRegistry(null, data ? MasterData.parse(data) : EMPTY);
  }

  current(): MasterDataView {
    return this.view;
  }

  /** Validates and replaces. Throws a ZodError on invalid input (the API turns it into a 400). */
  import(input: unknown): MasterDataView {
    const data = MasterData.parse(input);
    if (this.file) {
      writeFileSync(`${this.file}.tmp`, JSON.stringify(data));
      renameSync(`${this.file}.tmp`, this.file);
    }
    this.view = new MasterDataView(data);
    return this.view;
  }

  /** Loads a master-data JSON file (e.g. the simulator's export). */
  importFile(path: string): MasterDataView {
    return this.import(JSON.parse(readFileSync(path, 'utf8')));
  }
}
