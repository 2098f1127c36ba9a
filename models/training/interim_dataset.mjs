// Interim dataset writer used for model v0.1.0, before `npm run sim -- dataset` landed: the same
// simulator planogram/stock/render modules and COCO layout, with 20% shelf fixtures mixed in.
// Usage (after `tsc -b simulators`): node models/training/interim_dataset.mjs OUT COUNT SEED
import {
  makePlanogram,
  makeStock,
  fixtureGeometry,
  renderScene,
  Rng,
  loadCatalog,
} from '../../simulators/dist/index.js';
import { writeFile, mkdir } from 'node:fs/promises';
const [out, count, seed] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
if (!out || !(count > 0) || !Number.isFinite(seed)) throw new Error('usage: interim_dataset.mjs OUT COUNT SEED');
await mkdir(`${out}/images`, { recursive: true });
const cats = [...loadCatalog().map((e) => e.sku), '__empty__', '__unknown__'].map((name, i) => ({ id: i + 1, name }));
const cid = new Map(cats.map((c) => [c.name, c.id]));
const images = [],
  annotations = [];
const rng = new Rng(seed);
const t0 = Date.now();
for (let i = 0; i < count; i++) {
  const plan = makePlanogram({ seed: `${seed}-${i}`, fixture: rng.next() < 0.2 ? 'shelf' : 'upright' });
  const g = fixtureGeometry(plan);
  const stock = makeStock(
    plan,
    g.rows.map((r) => r.depthSlots),
    new Rng(`${seed}-stock-${i}`),
  );
  const r = await renderScene({ planogram: plan, stock, seed: seed * 100000 + i, difficulty: 'default' });
  const file = `${String(i).padStart(6, '0')}.jpg`;
  await writeFile(`${out}/images/${file}`, r.jpeg);
  images.push({ id: i + 1, file_name: file, width: r.width, height: r.height });
  for (const o of r.truth.objects) {
    if (!o.visible) continue;
    annotations.push({
      id: annotations.length + 1,
      image_id: i + 1,
      category_id: cid.get(o.category),
      bbox: o.bbox,
      area: o.bbox[2] * o.bbox[3],
      iscrowd: 0,
      row: o.row,
      column: o.column,
      depth: o.depth,
      facing: o.facing,
      occlusion: o.occlusion,
    });
  }
  if ((i + 1) % 50 === 0) console.log(`${i + 1}/${count} scenes, ${((Date.now() - t0) / (i + 1)).toFixed(0)} ms/scene`);
}
await writeFile(`${out}/annotations.json`, JSON.stringify({ images, categories: cats, annotations }));
