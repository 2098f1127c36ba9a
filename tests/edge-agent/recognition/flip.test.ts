import { describe, expect, it } from 'vitest';
import { decodeCenters } from '../../../edge-agent/src/recognition/decode.js';
import { mergeMirrored, mirrorPlanes } from '../../../edge-agent/src/recognition/flip.js';

const STRIDE = 4;
const GH = 6;
const GW = 10;
const PLANE = GH * GW;

/** CenterNet maps of a frame with one product centred at (cx, cy) px, w x h px, as a perfect net would give. */
function mapsFor(cx: number, cy: number, w: number, h: number, score = 0.9) {
  const heat = new Float32Array(2 * PLANE);
  const reg = new Float32Array(4 * PLANE);
  const gx = cx / STRIDE;
  const gy = cy / STRIDE;
  const i = Math.floor(gx);
  const j = Math.floor(gy);
  heat[j * GW + i] = score;
  // A weaker neighbour, so the merged peak still has to be picked from a real map.
  heat[j * GW + Math.min(GW - 1, i + 1)] = score / 3;
  reg[0 * PLANE + j * GW + i] = gx - i;
  reg[1 * PLANE + j * GW + i] = gy - j;
  reg[2 * PLANE + j * GW + i] = Math.log(w / STRIDE);
  reg[3 * PLANE + j * GW + i] = Math.log(h / STRIDE);
  return { heat, reg };
}

const decode = (heat: Float32Array, reg: Float32Array) =>
  decodeCenters(heat, reg, 2, GH, GW, STRIDE, { threshold: 0.3 });

describe('mirrorPlanes', () => {
  it('mirrors each row of each channel, and twice is the identity', () => {
    const src = Float32Array.from({ length: 2 * 2 * 3 }, (_, k) => k);
    const once = mirrorPlanes(src, 2, 2, 3);
    expect(Array.from(once)).toEqual([2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9]);
    expect(Array.from(mirrorPlanes(once, 2, 2, 3))).toEqual(Array.from(src));
  });

  it('refuses a size that is not C x H x W and an output that aliases the input', () => {
    const src = new Float32Array(12);
    expect(() => mirrorPlanes(src, 2, 2, 4)).toThrow('size does not match');
    expect(() => mirrorPlanes(src, 2, 2, 3, src)).toThrow('must not be the input');
  });
});

describe('mergeMirrored', () => {
  it("gives back the direct look's box when the mirrored look saw the mirrored frame exactly", () => {
    const W = GW * STRIDE;
    const direct = mapsFor(13.4, 9.7, 8, 14);
    // The same pack in the mirrored frame: centre at W - cx, so its sub-cell offset is measured from the other edge.
    const mirrored = mapsFor(W - 13.4, 9.7, 8, 14);
    const heat = mergeMirrored(direct.heat, mirrored.heat, 2, GH, GW);
    const reg = mergeMirrored(direct.reg, mirrored.reg, 4, GH, GW, 0);
    const [a] = decode(direct.heat, direct.reg);
    const merged = decode(heat, reg);
    expect(merged).toHaveLength(1);
    expect(merged[0]!.score).toBeCloseTo(0.9, 5);
    for (let k = 0; k < 4; k++) expect(merged[0]!.box[k]).toBeCloseTo(a!.box[k]!, 4);
  });

  it('halves a peak only one look saw, so a one-look blip falls under the threshold', () => {
    const direct = mapsFor(13.4, 9.7, 8, 14, 0.5);
    const blank = { heat: new Float32Array(2 * PLANE), reg: new Float32Array(4 * PLANE) };
    const heat = mergeMirrored(direct.heat, blank.heat, 2, GH, GW);
    expect(decode(direct.heat, direct.reg)).toHaveLength(1);
    expect(decode(heat, mergeMirrored(direct.reg, blank.reg, 4, GH, GW, 0))).toHaveLength(0);
  });

  it('is symmetric: the looks swapped (the mirrored frame) give the merged maps mirrored', () => {
    const rnd = (n: number, seed: number) =>
      Float32Array.from({ length: n }, (_, k) => ((k * 7919 + seed) % 101) / 101);
    const a = rnd(4 * PLANE, 3);
    const b = rnd(4 * PLANE, 17);
    const ab = mergeMirrored(a, b, 4, GH, GW, 0);
    const ba = mirrorPlanes(mergeMirrored(b, a, 4, GH, GW, 0), 4, GH, GW);
    for (let k = 0; k < PLANE; k++) expect(1 - ba[k]!).toBeCloseTo(ab[k]!, 6); // dx, from the other edge
    for (let k = PLANE; k < 4 * PLANE; k++) expect(ba[k]).toBe(ab[k]);
  });

  it('refuses maps of different sizes', () => {
    expect(() => mergeMirrored(new Float32Array(PLANE), new Float32Array(PLANE - 1), 1, GH, GW)).toThrow(
      'maps do not match',
    );
  });
});
