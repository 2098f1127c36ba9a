import { randomBytes } from 'node:crypto';
import type { CoolerSim } from '../cameras/cooler.js';
import type { CameraInfo } from '../cameras/server.js';
import { buildWorld } from '../market/world.js';
import { productBySku } from '../catalog/catalog.js';
import { packPng } from '../render/sprites.js';

/**
 * Master data for the demo's coolers, so the dashboard's KPIs (availability, compliance, purity,
 * sales value) have planograms, prices and outlets to work with: the catalog with the market
 * simulator's prices, one outlet per cooler in a real city, and each cooler's own planogram.
 */
export const demoMasterData = (cameras: CameraInfo[], sims: Map<string, CoolerSim>, intervalS: number) => {
  const world = buildWorld({ outlets: Math.max(2, cameras.length), weeks: 1, seed: 7 });
  const outlets = cameras.map((cam, i) => {
    const base = world.master.outlets[i % world.master.outlets.length]!;
    return {
      ...base,
      outletId: cam.outletId,
      name: `${base.city} ${base.channel} (demo ${i + 1})`,
      openHour: 0,
      closeHour: 24,
    };
  });
  const fixtures = cameras.map((cam) => {
    const sim = sims.get(cam.id)!;
    return {
      fixtureId: cam.fixtureId,
      outletId: cam.outletId,
      deviceId: `cam-${cam.id}`,
      kind: 'branded-cooler' as const,
      captureIntervalMin: Math.max(1, Math.round(intervalS / 60)),
      positions: sim.planogram.rows.flatMap((row, r) =>
        row.columns.map((sku, column) => ({ row: r, column, sku, depth: sim.geometry.rows[r]?.depthSlots ?? 1 })),
      ),
    };
  });
  return { version: 1 as const, currency: 'CNY', skus: world.master.skus, outlets, fixtures, promotions: [] };
};

/** Imports the demo's master data and creates a read-only brand manager; returns its log-in. */
export const seedDemo = async (
  httpUrl: string,
  adminToken: string,
  master: ReturnType<typeof demoMasterData>,
): Promise<{ username: string; password: string } | null> => {
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const imported = await fetch(`${httpUrl}/api/v1/masterdata/import`, {
    method: 'POST',
    headers,
    body: JSON.stringify(master),
  });
  if (!imported.ok) throw new Error(`master-data import failed: HTTP ${imported.status} ${await imported.text()}`);
  await seedReferenceImages(
    httpUrl,
    headers,
    master.skus.map((s) => s.sku),
  );
  const password = randomBytes(9).toString('base64url');
  const user = await fetch(`${httpUrl}/api/v1/users`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      username: 'aurora-manager',
      displayName: 'Aurora brand manager',
      password,
      role: 'brand_manager',
      brand: 'Aurora',
    }),
  });
  if (user.status === 409) return null; // created on an earlier run; its password was printed then
  if (!user.ok) throw new Error(`creating the demo brand manager failed: HTTP ${user.status} ${await user.text()}`);
  return { username: 'aurora-manager', password };
};

/**
 * Gives every catalog SKU its front-of-pack image as a reference (stored, not enrolled: the shipped
 * gallery already knows these SKUs), so the dashboard's catalog shows real packs. Skips SKUs that
 * already have references, so restarts add nothing.
 */
const seedReferenceImages = async (httpUrl: string, headers: Record<string, string>, skus: string[]) => {
  const res = await fetch(`${httpUrl}/api/v1/catalog`, { headers });
  if (!res.ok) throw new Error(`reading the catalog failed: HTTP ${res.status} ${await res.text()}`);
  const have = new Set(
    ((await res.json()) as { items: { sku: string; references: unknown[] }[] }).items
      .filter((i) => i.references.length)
      .map((i) => i.sku),
  );
  for (const sku of skus) {
    const entry = productBySku(sku);
    if (!entry || have.has(sku)) continue;
    const png = await packPng(entry);
    const up = await fetch(`${httpUrl}/api/v1/catalog/skus/${encodeURIComponent(sku)}/references`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ images: [{ data: png.toString('base64'), name: `${sku}.png` }], enroll: false }),
    });
    if (!up.ok) throw new Error(`storing the pack image of ${sku} failed: HTTP ${up.status} ${await up.text()}`);
  }
};
