import { foreignProducts, loadCatalog } from '../catalog/catalog.js';
import type { PackFormat } from '../catalog/types.js';
import { fixtureGeometry } from '../fixtures/geometry.js';
import type { Planogram, Stock } from '../fixtures/types.js';
import type { FixtureMaster } from './types.js';

/** Physical state of one market fixture at a capture: what a camera would photograph. */
export interface FixtureSnapshot {
  fixtureId: string;
  capturedAt: string;
  positions: { row: number; column: number; sku: string; foreign: boolean; units: number }[];
}

const formatOf = (() => {
  let map: Map<string, PackFormat> | null = null;
  return (sku: string): PackFormat | undefined => {
    map ??= new Map([...loadCatalog(), ...foreignProducts()].map((c) => [c.sku, c.pack.format]));
    return map.get(sku);
  };
})();

/**
 * The renderer's planogram of a market fixture: rows and columns as in the master data, each row's
 * container family = the pack formats planned in it. Only upright fixtures: a branded cooler renders
 * as an `upright` cooler, an ambient shelf as a `shelf`.
 */
export const marketPlanogram = (f: Pick<FixtureMaster, 'kind' | 'positions'>): Planogram => {
  const rows = Math.max(0, ...f.positions.map((p) => p.row)) + 1;
  const cols = Math.max(0, ...f.positions.map((p) => p.column)) + 1;
  const grid: string[][] = Array.from({ length: rows }, () => new Array<string>(cols).fill(''));
  for (const p of f.positions) grid[p.row]![p.column] = p.sku;
  // A row without a plan for a column keeps its left neighbour's SKU (renderers need full rows).
  for (const r of grid) for (let c = 0; c < cols; c++) if (!r[c]) r[c] = r[c - 1] ?? r.find(Boolean) ?? '';
  return {
    fixture: f.kind === 'shelf' ? 'shelf' : 'upright',
    rows: grid.map((columns) => ({
      formats: [...new Set(columns.map((s) => formatOf(s)).filter((x): x is PackFormat => x !== undefined))],
      columns,
    })),
  };
};

/** Front-to-back packs each row of the rendered fixture holds (the renderer's depth slots). */
export const renderableDepths = (f: Pick<FixtureMaster, 'kind' | 'positions'>): number[] =>
  fixtureGeometry(marketPlanogram(f)).rows.map((r) => r.depthSlots);

/**
 * Renderer stock for a snapshot: a position's units stand front-aligned in its column (a faced
 * shelf), capped at the row's depth slots. Uncatalogued market products (`foreign-k`) become the
 * renderer's foreign packs.
 */
export const marketStock = (plan: Planogram, snap: FixtureSnapshot): Stock => {
  const depths = fixtureGeometry(plan).rows.map((r) => r.depthSlots);
  const foreign = foreignProducts();
  const stock: Stock = plan.rows.map((r, ri) =>
    r.columns.map(() => new Array<string | null>(depths[ri] ?? 1).fill(null)),
  );
  for (const p of snap.positions) {
    const col = stock[p.row]?.[p.column];
    if (!col) continue;
    const k = Number(p.sku.split('-').pop());
    const sku = p.foreign ? (foreign[(Number.isFinite(k) ? k : 0) % foreign.length]?.sku ?? p.sku) : p.sku;
    for (let d = 0; d < Math.min(p.units, col.length); d++) col[d] = sku;
  }
  return stock;
};
