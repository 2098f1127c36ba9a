import { describe, expect, it } from 'vitest';
import {
  fixtureGeometry,
  fullStock,
  makePlanogram,
  quantiseLens,
  renderScene,
  type TruthObject,
} from '@shelfsight/simulators';
import { CLEAN_PERTURB } from '../helpers/perturb.js';

describe('empty slot occlusion', () => {
  const planogram = makePlanogram({ seed: 4, fixture: 'upright' });
  const g = fixtureGeometry(planogram);
  const stock = fullStock(
    planogram,
    g.rows.map((r) => r.depthSlots),
  );
  // Two sold-out columns.
  stock[1]![1] = stock[1]![1]!.map(() => null);
  stock[2]![3] = stock[2]![3]!.map(() => null);
  const empties = (objects: TruthObject[]) => objects.filter((o) => o.kind === 'empty').sort((p, q) => p.row - q.row);

  it.each([
    ['pinhole', null],
    ['wide-angle lens', quantiseLens(-0.3, 0.02)],
  ])('is the share of the slot that a door bar covers, through a %s', async (_, lens) => {
    const open = await renderScene({ planogram, stock, seed: 9, perturb: { ...CLEAN_PERTURB, lens } });
    const [a, b] = empties(open.truth.objects);
    expect([a?.row, a?.column, b?.row, b?.column]).toEqual([1, 1, 2, 3]);
    // Shelf plates and price tags are the fixture itself: an open empty slot is seen.
    for (const e of [a!, b!]) {
      expect(e.occlusion).toBeLessThan(0.3);
      expect(e.visible).toBe(true);
    }
    // A door bar in front of the first slot (bars are drawn before the lens bends the frame, so the
    // bar spans the slot's pinhole columns).
    const pin = lens
      ? empties((await renderScene({ planogram, stock, seed: 9, perturb: CLEAN_PERTURB })).truth.objects)[0]!
      : a!;
    const bar = { x: pin.bbox[0] - 6, w: pin.bbox[2] + 12 };
    const barred = await renderScene({
      planogram,
      stock,
      seed: 9,
      perturb: { ...CLEAN_PERTURB, lens, doorBars: [bar] },
    });
    const [ha, hb] = empties(barred.truth.objects);
    expect(ha!.occlusion).toBeGreaterThan(0.97);
    expect(hb!.occlusion).toBeCloseTo(b!.occlusion, 2);
    // Half a bar hides about half the slot.
    const half = { x: pin.bbox[0] - 6, w: Math.round(pin.bbox[2] / 2) + 6 };
    const halved = await renderScene({
      planogram,
      stock,
      seed: 9,
      perturb: { ...CLEAN_PERTURB, lens, doorBars: [half] },
    });
    expect(empties(halved.truth.objects)[0]!.occlusion).toBeGreaterThan(0.35);
    expect(empties(halved.truth.objects)[0]!.occlusion).toBeLessThan(0.75);
  });
});
