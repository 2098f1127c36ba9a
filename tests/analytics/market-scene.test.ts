import { describe, expect, it } from 'vitest';
import { marketPlanogram, marketStock, renderableDepths, runMarket } from '../../simulators/src/market/index.js';
import { estimateFixtureSales } from '../../cloud/src/analytics/sales.js';
import type { FixtureSeries } from '../../cloud/src/analytics/series.js';

describe('market sim → renderable cooler scenes (recognition in the loop)', () => {
  const run = runMarket({
    seed: 3,
    outlets: 3,
    weeks: 1,
    promotions: false,
    captureIntervalMin: 240,
    renderableCoolers: true,
    snapshotFixtures: ['o002-c1'],
  });
  const cooler = run.world.master.fixtures.find((f) => f.fixtureId === 'o002-c1')!;

  it('renderable coolers are 4 × 9 and no deeper than the renderer draws', () => {
    const slots = renderableDepths(cooler);
    expect(slots).toHaveLength(4);
    for (const p of cooler.positions) expect(p.depth).toBeLessThanOrEqual(slots[p.row]!);
    expect(Math.max(...cooler.positions.map((p) => p.column))).toBe(8);
  });

  it('records one snapshot per observation of the fixture, and its stock draws every unit', () => {
    const obs = run.observations.filter((o) => o.fixtureId === 'o002-c1');
    expect(run.snapshots).toHaveLength(obs.length);
    const plan = marketPlanogram(cooler);
    for (const [i, snap] of run.snapshots.entries()) {
      expect(snap.capturedAt).toBe(obs[i]!.capturedAt);
      const drawn = new Map<string, number>();
      for (const row of marketStock(plan, snap))
        for (const col of row) for (const sku of col) if (sku) drawn.set(sku, (drawn.get(sku) ?? 0) + 1);
      for (const s of obs[i]!.skus) expect(drawn.get(s.sku)).toBe(s.count);
    }
  });
});

describe('sales from noisy counts', () => {
  it('a rise below the restock threshold nets out the spurious decrease before it', () => {
    const H = 3_600_000;
    const counts = [10, 8, 9, 7, 8, 6]; // true depletion 4, read with ±1 noise
    const series: FixtureSeries = {
      outletId: 'o1',
      fixtureId: 'f1',
      captures: counts.map((c, h) => ({
        t: Date.parse('2026-03-02T00:00:00Z') + h * H,
        skus: new Map([['a', { count: c, facings: 3 }]]),
        emptyFacings: 0,
        unknownProducts: 0,
      })),
    };
    const clock = { utcOffsetMinutes: 480, openHour: 0, closeHour: 24 };
    const noisy = estimateFixtureSales(series, clock, { restockMinUnits: 3, rateWindow: 6 });
    expect(noisy.restocks).toHaveLength(0);
    expect(noisy.intervals.reduce((s, i) => s + i.units, 0)).toBe(4);
  });
});
