import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadCatalog, toCatalogJson } from '../catalog/catalog.js';
import { packPng } from '../render/sprites.js';

/** catalog.json plus one transparent front-view PNG per SKU (reference images for a gallery). */
export async function exportCatalog(outDir: string): Promise<{ skus: number }> {
  const out = path.resolve(outDir);
  await mkdir(path.join(out, 'packs'), { recursive: true });
  const catalog = loadCatalog();
  for (const e of catalog) await writeFile(path.join(out, 'packs', `${e.sku}.png`), await packPng(e));
  await writeFile(path.join(out, 'catalog.json'), JSON.stringify(toCatalogJson(catalog), null, 2));
  return { skus: catalog.length };
}
