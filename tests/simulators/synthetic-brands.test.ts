import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cocoCategories,
  currentDataset,
  exportDataset,
  foreignProducts,
  loadCatalog,
  productBySku,
  ROW_FAMILIES,
  syntheticProducts,
  type CocoDataset,
} from '@shelfsight/simulators';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sim-syn-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('invented training brands', () => {
  it('are reproducible, never catalog products, and stock every kind of row', () => {
    const forty = syntheticProducts(40);
    expect(syntheticProducts(40)).toEqual(forty);
    // Brand i depends on i alone: a smaller set is the start of a larger one.
    expect(forty.slice(0, syntheticProducts(5).length)).toEqual(syntheticProducts(5));
    expect(forty.length).toBeGreaterThan(100);
    const skus = new Set(forty.map((e) => e.sku));
    expect(skus.size).toBe(forty.length);
    for (const e of [...loadCatalog(), ...foreignProducts()]) expect(skus.has(e.sku)).toBe(false);
    expect(forty.every((e) => /^syn\d{3}-[a-z-]+-\d+[cpgt]$/.test(e.sku) && !e.own)).toBe(true);
    for (const family of ROW_FAMILIES) {
      expect(syntheticProducts(7).some((e) => family.includes(e.pack.format))).toBe(true);
    }
    // The renderer finds them by SKU; an SKU no brand makes is not found.
    expect(productBySku(forty[17]!.sku)).toEqual(forty[17]);
    expect(productBySku('syn999-nothing-330c')).toBeUndefined();
    // Look-alike ranges: some brands keep one body colour across flavours.
    const byBrand = new Map<string, typeof forty>();
    for (const e of forty) byBrand.set(e.brand, [...(byBrand.get(e.brand) ?? []), e]);
    expect(
      [...byBrand.values()].some((list) => new Set(list.map((e) => e.art.body)).size === 1 && list.length > 1),
    ).toBe(true);
  });

  it('stock a dataset in place of the catalog, with their own categories after the stable ones', async () => {
    const out = path.join(dir, 'syn');
    await exportDataset({ out, count: 2, seed: 3, difficulty: 'default', fixture: 'upright', extraBrands: 12 });
    const coco = JSON.parse(await readFile(path.join(out, 'annotations.json'), 'utf8')) as CocoDataset;
    const base = cocoCategories();
    expect(coco.categories.slice(0, base.length)).toEqual(base);
    expect(coco.categories.slice(base.length).map((c) => c.name)).toEqual(syntheticProducts(12).map((e) => e.sku));
    expect(coco.info.extra_brands).toBe(12);
    const name = new Map(coco.categories.map((c) => [c.id, c.name]));
    const products = coco.annotations.filter((a) => a.kind === 'product').map((a) => name.get(a.category_id)!);
    expect(products.length).toBeGreaterThan(20);
    expect(products.every((n) => n.startsWith('syn'))).toBe(true);
    // catalog.json stays the catalog: invented brands are for training only.
    const catalog = JSON.parse(await readFile(path.join(out, 'catalog.json'), 'utf8')) as { sku: string }[];
    expect(catalog.map((e) => e.sku)).toEqual(loadCatalog().map((e) => e.sku));
    // A cache asking for the plain set (or other brands) does not take this one.
    const same = { out, count: 2, seed: 3, difficulty: 'default', fixture: 'upright' } as const;
    expect(await currentDataset({ ...same, extraBrands: 12 })).not.toBeNull();
    expect(await currentDataset(same)).toBeNull();
    expect(await currentDataset({ ...same, extraBrands: 13 })).toBeNull();
  }, 60_000);

  it('leave a plain dataset as it was', async () => {
    const a = path.join(dir, 'plain');
    await exportDataset({ out: a, count: 1, seed: 3, difficulty: 'default', fixture: 'upright' });
    const coco = JSON.parse(await readFile(path.join(a, 'annotations.json'), 'utf8')) as CocoDataset;
    expect(coco.categories).toEqual(cocoCategories());
    expect(coco.info.extra_brands).toBeUndefined();
    const name = new Map(coco.categories.map((c) => [c.id, c.name]));
    expect(coco.annotations.some((x) => name.get(x.category_id)!.startsWith('syn'))).toBe(false);
  }, 60_000);
});
