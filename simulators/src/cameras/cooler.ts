import { foreignProducts, loadCatalog } from '../catalog/catalog.js';
import { fixtureGeometry, type FixtureGeometry } from '../fixtures/geometry.js';
import { fullStock, makePlanogram } from '../fixtures/planogram.js';
import type { FixtureKind, Planogram, Stock } from '../fixtures/types.js';
import { Rng } from '../util/rng.js';

export interface CoolerSimOptions {
  seed: number;
  fixture: FixtureKind;
  planogram?: Planogram;
  /** Mean packs sold per simulated hour. */
  salesPerHour: number;
  /** Restock when fewer than this fraction of positions hold product. */
  restockBelow: number;
}

/** A door opening for a purchase or a restock, in simulated seconds. */
export interface DoorOpening {
  atS: number;
  durationS: number;
  reason: 'sale' | 'restock';
}

/**
 * Stock of one fixture over simulated time: shoppers take the front pack of a column (so what is
 * left is pushed back), a merchandiser restocks when the cooler runs low and sometimes puts the
 * wrong SKU or a foreign product in.
 */
export class CoolerSim {
  readonly planogram: Planogram;
  readonly geometry: FixtureGeometry;
  stock: Stock;
  simTimeS = 0;
  sold = 0;
  restocks = 0;
  private readonly rng: Rng;
  private nextSaleAtS: number;
  /** Called for every door opening (a shopper taking a pack, a merchandiser restocking). */
  onDoor: ((d: DoorOpening) => void) | undefined;
  // Its own stream, so door timing never shifts the sequence of sales and restocks.
  private readonly doorRng: Rng;

  constructor(private readonly o: CoolerSimOptions) {
    this.rng = new Rng(o.seed);
    this.doorRng = new Rng(o.seed ^ 0x0d0c0d0c);
    this.planogram = o.planogram ?? makePlanogram({ rng: this.rng.fork('planogram'), fixture: o.fixture });
    this.geometry = fixtureGeometry(this.planogram);
    this.stock = this.restockedStock();
    // Start part-sold so the first frames are not all perfect.
    const capacity = this.capacity();
    for (let i = 0; i < capacity * 0.25; i++) this.sellOne();
    this.nextSaleAtS = this.drawInterval();
  }

  private depthSlots(): number[] {
    return this.geometry.rows.map((r) => r.depthSlots);
  }

  capacity(): number {
    return this.depthSlots().reduce((s, d, r) => s + d * (this.planogram.rows[r]?.columns.length ?? 0), 0);
  }

  filled(): number {
    return this.stock.flat(2).filter((s) => s !== null).length;
  }

  private drawInterval(): number {
    if (this.o.salesPerHour <= 0) return Infinity;
    return (-Math.log(1 - this.rng.next()) * 3600) / this.o.salesPerHour;
  }

  /** Advance simulated time, applying every sale and restock that falls within it. */
  advance(dtS: number): void {
    const end = this.simTimeS + dtS;
    while (this.nextSaleAtS <= end) {
      this.simTimeS = this.nextSaleAtS;
      this.sellOne();
      this.onDoor?.({ atS: this.simTimeS, durationS: 3 + this.doorRng.next() * 9, reason: 'sale' });
      if (this.filled() < this.capacity() * this.o.restockBelow) {
        this.restock();
        this.onDoor?.({ atS: this.simTimeS, durationS: 60 + this.doorRng.next() * 120, reason: 'restock' });
      }
      this.nextSaleAtS = this.simTimeS + this.drawInterval();
    }
    this.simTimeS = end;
  }

  private sellOne(): void {
    const candidates: [number, number][] = [];
    this.stock.forEach((row, r) => row.forEach((col, c) => col.some((s) => s !== null) && candidates.push([r, c])));
    if (candidates.length === 0) return;
    const [r, c] = this.rng.pick(candidates);
    const col = this.stock[r]![c]!;
    col[col.findIndex((s) => s !== null)] = null;
    this.sold++;
  }

  restock(): void {
    this.stock = this.restockedStock();
    this.restocks++;
  }

  private restockedStock(): Stock {
    const stock = fullStock(this.planogram, this.depthSlots());
    const catalog = loadCatalog();
    const foreign = foreignProducts();
    stock.forEach((row, r) => {
      const formats = this.planogram.rows[r]!.formats;
      row.forEach((col, c) => {
        // Merchandising faults the brand wants to see: a wrong SKU or a foreign product.
        if (this.rng.chance(0.05)) {
          const pool = catalog.filter((e) => formats.includes(e.pack.format));
          const sku = this.rng.pick(pool).sku;
          col.fill(sku);
        } else if (this.rng.chance(0.03)) {
          const pool = foreign.filter((e) => formats.includes(e.pack.format));
          if (pool.length > 0) col.fill(this.rng.pick(pool).sku);
        }
        void c;
      });
    });
    return stock;
  }
}
