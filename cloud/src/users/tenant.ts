import type { FixtureMaster, MasterDataRegistry, MasterDataView, PromotionMaster } from '../masterdata/index.js';
import type { TimeSeriesStore } from '../store/index.js';

/**
 * Tenancy. A brand manager's tenant is a brand; what the brand owns follows from master data:
 *
 * - a **fixture** belongs to its explicit `brand`, else to the brand holding most planogram
 *   positions among the SKUs marked `own` (the platform's customers); ties go to the brand name
 *   that sorts first; a fixture without own-brand positions belongs to no brand (admins only).
 *   Competitor SKUs planned in or slipped into a brand's cooler are that brand's share-of-shelf
 *   context, so they never make the fixture another brand's.
 * - an **outlet** is the brand's when one of the brand's fixtures stands in it (two brands with a
 *   cooler each in one shop both see the shop, each only its own fixtures and their data).
 * - a **device** is the brand's when the fixture it is assigned to in master data (else the
 *   fixture it last reported from) is the brand's.
 * - a **promotion** is the brand's when one of its SKUs is the brand's; the brand sees only its own
 *   outlets in the promotion's outlet list.
 */
export interface Tenant {
  brand: string;
  fixtures: ReadonlySet<string>;
  outlets: ReadonlySet<string>;
  devices: ReadonlySet<string>;
  /** Whether the promotion is the brand's (some SKU of the brand). */
  ownsPromotion(p: Pick<PromotionMaster, 'skus'>): boolean;
}

/** The brand a fixture belongs to (see {@link Tenant}); null = no brand (admins only). */
export const fixtureBrand = (md: MasterDataView, f: FixtureMaster): string | null => {
  if (f.brand) return f.brand;
  const n = new Map<string, number>();
  for (const p of f.positions) {
    const s = md.skus.get(p.sku);
    if (s?.own) n.set(s.brand, (n.get(s.brand) ?? 0) + 1);
  }
  let best: string | null = null;
  for (const [b, c] of n) if (best === null || c > n.get(best)! || (c === n.get(best)! && b < best)) best = b;
  return best;
};

interface Indexed {
  md: MasterDataView;
  fixtureBrand: Map<string, string>;
  /** deviceId → fixtureId from master data. */
  deviceFixture: Map<string, string>;
  skuBrand: Map<string, string>;
}

/**
 * Answers "whose is this?" for fixtures, outlets, devices and promotions, and builds each brand's
 * {@link Tenant}. Devices not in master data are placed by the fixture they last reported from:
 * `observe` is fed every ingested observation, and the latest one per fixture is read from the
 * store once at start.
 */
export class TenantDirectory {
  private index: Indexed | null = null;
  private readonly observedFixture = new Map<string, { fixtureId: string; at: string }>();
  private observedVersion = 0;
  private seeded: Promise<void> | null = null;
  private cache = new Map<string, { md: MasterDataView; version: number; tenant: Tenant }>();

  constructor(
    private readonly masterdata: MasterDataRegistry,
    private readonly store?: Pick<TimeSeriesStore, 'latestPerFixture'>,
  ) {}

  /** Reads the latest observation per fixture once, so devices known only from data are placed. */
  ready(): Promise<void> {
    this.seeded ??= (async () => {
      if (!this.store) return;
      for (const s of await this.store.latestPerFixture()) this.observe(s);
    })().catch((err: unknown) => {
      this.seeded = null;
      throw err;
    });
    return this.seeded;
  }

  /** A device reported from a fixture (live observations and the start-up read). */
  observe(o: { deviceId: string; fixtureId: string; capturedAt: string }): void {
    const prev = this.observedFixture.get(o.deviceId);
    if (prev && prev.at >= o.capturedAt) return; // a backfilled older capture
    if (prev?.fixtureId === o.fixtureId) {
      prev.at = o.capturedAt;
      return;
    }
    this.observedFixture.set(o.deviceId, { fixtureId: o.fixtureId, at: o.capturedAt });
    this.observedVersion++;
  }

  private indexed(): Indexed {
    const md = this.masterdata.current();
    if (this.index?.md === md) return this.index;
    const fb = new Map<string, string>();
    const deviceFixture = new Map<string, string>();
    for (const f of md.fixtures.values()) {
      const b = fixtureBrand(md, f);
      if (b !== null) fb.set(f.fixtureId, b);
      if (f.deviceId) deviceFixture.set(f.deviceId, f.fixtureId);
    }
    const skuBrand = new Map([...md.skus.values()].map((s) => [s.sku, s.brand]));
    this.index = { md, fixtureBrand: fb, deviceFixture, skuBrand };
    return this.index;
  }

  /** The brand of a fixture; null when it is no brand's (or unknown to master data). */
  brandOfFixture(fixtureId: string): string | null {
    return this.indexed().fixtureBrand.get(fixtureId) ?? null;
  }

  /** The fixture a device serves: master data first, else where it last reported from. */
  fixtureOfDevice(deviceId: string): string | null {
    return this.indexed().deviceFixture.get(deviceId) ?? this.observedFixture.get(deviceId)?.fixtureId ?? null;
  }

  brandOfDevice(deviceId: string): string | null {
    const f = this.fixtureOfDevice(deviceId);
    return f === null ? null : this.brandOfFixture(f);
  }

  /** Brands whose SKUs a promotion covers. */
  brandsOfPromotion(p: Pick<PromotionMaster, 'skus'>): Set<string> {
    const sb = this.indexed().skuBrand;
    return new Set(p.skus.map((s) => sb.get(s)).filter((b): b is string => b !== undefined));
  }

  /** Everything the brand owns, cached until master data or a device's fixture changes. */
  tenant(brand: string): Tenant {
    const ix = this.indexed();
    const hit = this.cache.get(brand);
    if (hit && hit.md === ix.md && hit.version === this.observedVersion) return hit.tenant;
    const fixtures = new Set<string>();
    const outlets = new Set<string>();
    for (const [fixtureId, b] of ix.fixtureBrand)
      if (b === brand) {
        fixtures.add(fixtureId);
        outlets.add(ix.md.fixtures.get(fixtureId)!.outletId);
      }
    const devices = new Set<string>();
    for (const [d, f] of ix.deviceFixture) if (fixtures.has(f)) devices.add(d);
    for (const [d, o] of this.observedFixture)
      if (!ix.deviceFixture.has(d) && fixtures.has(o.fixtureId)) devices.add(d);
    const tenant: Tenant = {
      brand,
      fixtures,
      outlets,
      devices,
      ownsPromotion: (p) => p.skus.some((s) => ix.skuBrand.get(s) === brand),
    };
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(brand, { md: ix.md, version: this.observedVersion, tenant });
    return tenant;
  }
}
