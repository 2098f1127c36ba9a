import { describe, expect, it } from 'vitest';
import {
  distortPoint,
  fixtureGeometry,
  fullStock,
  lensMap,
  makePlanogram,
  nearestSource,
  quantiseLens,
  remapOwner,
  remapRgb,
  renderScene,
  type Box,
  type PerturbParams,
} from '@shelfsight/simulators';
import { CLEAN_PERTURB } from '../helpers/perturb.js';

const W = 1280;
const H = 960;

function tightBoxes(owner: Int32Array, n: number): (Box | null)[] {
  const b: [number, number, number, number][] = Array.from({ length: n }, () => [W, H, -1, -1]);
  for (let y = 0, i = 0; y < H; y++)
    for (let x = 0; x < W; x++, i++) {
      const o = owner[i]!;
      if (o < 0) continue;
      const r = b[o]!;
      if (x < r[0]) r[0] = x;
      if (y < r[1]) r[1] = y;
      if (x > r[2]) r[2] = x;
      if (y > r[3]) r[3] = y;
    }
  return b.map(([x0, y0, x1, y1]) => (x1 < 0 ? null : [x0, y0, x1 - x0 + 1, y1 - y0 + 1]));
}

describe('wide-angle lens', () => {
  const lens = quantiseLens(-0.3, 0.02);

  it('quantises to a monotonic barrel model', () => {
    expect(lens.k1).toBeLessThan(0);
    expect(lens.k2).toBeGreaterThanOrEqual(0.45 * lens.k1 * lens.k1);
    // Barrel: points off-centre move towards the centre, more so further out (vertical FOV kept).
    const [u] = distortPoint(lens, W, H, 1200, 480);
    expect(u).toBeLessThan(1200);
    // Half-pixel: the optical centre is (W-1)/2, (H-1)/2 and the kept radius H/2.
    const [, v] = distortPoint(lens, W, H, 639.5, 0);
    expect(Math.abs(v)).toBeLessThan(0.2);
  });

  it('caches one inverse map per parameter set, inverse of the forward model', () => {
    const m = lensMap(lens, W, H);
    expect(lensMap(lens, W, H)).toBe(m);
    for (const [x, y] of [
      [100, 100],
      [640, 480],
      [1000, 700],
      [300, 900],
      [1270, 500],
    ] as const) {
      const i = y * W + x;
      const sx = (m.index[i]! % W) + m.wx[i]! / 128;
      const sy = Math.floor(m.index[i]! / W) + m.wy[i]! / 128;
      if (sx <= 0 || sx >= W - 1 || sy <= 0 || sy >= H - 1) continue; // beyond the pinhole frame (clamped)
      const [u, v] = distortPoint(lens, W, H, sx, sy);
      expect(Math.abs(u - x)).toBeLessThan(0.05);
      expect(Math.abs(v - y)).toBeLessThan(0.05);
    }
  });

  it('remaps colours and ownership consistently', () => {
    // Source: solid labelled blocks; wherever the 2x2 bilinear footprint is one block, the remapped
    // colour must be that block's colour and the remapped owner that block's label.
    const src = new Uint8Array(W * H * 3);
    const owner = new Int32Array(W * H);
    for (let y = 0, i = 0; y < H; y++)
      for (let x = 0; x < W; x++, i++) {
        const label = Math.floor(x / 97) + 16 * Math.floor(y / 83);
        owner[i] = label;
        src[i * 3] = (label * 37) & 255;
        src[i * 3 + 1] = (label * 91) & 255;
        src[i * 3 + 2] = (label * 13) & 255;
      }
    const m = lensMap(lens, W, H);
    const rgb = new Uint8Array(W * H * 3);
    const own = new Int32Array(W * H);
    remapRgb(m, src, rgb);
    remapOwner(m, owner, own);
    let checked = 0;
    for (let i = 0; i < W * H; i += 31) {
      const s = m.index[i]!;
      const quad = [owner[s]!, owner[s + 1]!, owner[s + W]!, owner[s + W + 1]!];
      expect(own[i]).toBe(owner[nearestSource(m, i)]);
      if (quad.some((q) => q !== quad[0])) continue;
      expect(own[i]).toBe(quad[0]);
      expect([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]]).toEqual([src[s * 3], src[s * 3 + 1], src[s * 3 + 2]]);
      checked++;
    }
    expect(checked).toBeGreaterThan(30_000);
  });

  it('keeps every truth box the tight box of its distorted visibility-map pixels', async () => {
    const planogram = makePlanogram({ seed: 4, fixture: 'upright' });
    const g = fixtureGeometry(planogram);
    const stock = fullStock(
      planogram,
      g.rows.map((r) => r.depthSlots),
    );
    // Sell the front of a few columns so pushed-back packs and empties are in the scene.
    stock[0]![0]![0] = null;
    stock[1]![1] = stock[1]![1]!.map(() => null);
    const perturb: PerturbParams = {
      ...CLEAN_PERTURB,
      doorBars: [{ x: 600, w: 30 }],
      lens,
      hand: { x: 700, y: 500, angleDeg: 80, widthPx: 120, skin: '#e0ac84', sleeve: '#243b55' },
    };
    const pin = await renderScene({
      planogram,
      stock,
      seed: 9,
      perturb: { ...perturb, lens: null },
      withOwnerMap: true,
    });
    const s = await renderScene({ planogram, stock, seed: 9, perturb, withOwnerMap: true });
    const objs = s.truth.objects;
    const boxes = tightBoxes(s.ownerMap!, objs.length);
    let products = 0;
    objs.forEach((o, i) => {
      if (o.kind === 'empty') return;
      products++;
      if (o.visible) expect(o.bbox).toEqual(boxes[i]);
      else expect(boxes[i]).toBeNull();
      // bbox (visible part) lies inside amodal_bbox.
      const [x, y, w, h] = o.bbox;
      const [ax, ay, aw, ah] = o.amodalBbox;
      if (o.visible) {
        expect(x).toBeGreaterThanOrEqual(ax);
        expect(y).toBeGreaterThanOrEqual(ay);
        expect(x + w).toBeLessThanOrEqual(ax + aw);
        expect(y + h).toBeLessThanOrEqual(ay + ah);
      }
      // The distorted amodal box is the forward-distorted pinhole box, to within a pixel or two.
      const p = pin.truth.objects[i]!.amodalBbox;
      const corners = [
        distortPoint(lens, W, H, p[0], p[1]),
        distortPoint(lens, W, H, p[0] + p[2] - 1, p[1] + p[3] - 1),
        distortPoint(lens, W, H, p[0], p[1] + p[3] - 1),
        distortPoint(lens, W, H, p[0] + p[2] - 1, p[1]),
      ];
      const minX = Math.min(...corners.map((c) => c[0]));
      const maxY = Math.max(...corners.map((c) => c[1]));
      expect(Math.abs(ax - minX)).toBeLessThan(2.5);
      expect(Math.abs(ay + ah - 1 - maxY)).toBeLessThan(2.5);
    });
    expect(products).toBeGreaterThan(20);
    // The hand and bar hide something, and the lens actually moved boxes.
    expect(objs.some((o) => o.occlusion > 0.2 && o.depth === 0)).toBe(true);
    expect(objs.some((o, i) => o.amodalBbox[0] !== pin.truth.objects[i]!.amodalBbox[0])).toBe(true);
  });
});
