import { describe, expect, it } from 'vitest';
import { letterboxParams, toNormalised, type Box } from '../../../edge-agent/src/recognition/letterbox.js';
import { iou, nms, type Candidate } from '../../../edge-agent/src/recognition/nms.js';
import { decodeCenters } from '../../../edge-agent/src/recognition/decode.js';
import { cropInto, expandBox, toChw } from '../../../edge-agent/src/recognition/preprocess.js';
import { mirrorPlanes } from '../../../edge-agent/src/recognition/flip.js';

describe('letterbox', () => {
  it('fits a same-aspect image without padding', () => {
    expect(letterboxParams(1280, 960, 512, 384)).toEqual({
      scale: 0.4,
      width: 512,
      height: 384,
      padLeft: 0,
      padTop: 0,
    });
  });

  it('pads the short side symmetrically', () => {
    const lb = letterboxParams(1920, 1080, 512, 384);
    expect(lb.width).toBe(512);
    expect(lb.height).toBe(288);
    expect(lb.padTop).toBe(48);
    expect(lb.padLeft).toBe(0);
  });

  it('maps model-input boxes back to normalised source coordinates and clips them', () => {
    const lb = letterboxParams(1920, 1080, 512, 384);
    const b = toNormalised([128, 48 + 72, 64, 36], lb, 1920, 1080);
    expect(b[0]).toBeCloseTo(0.25);
    expect(b[1]).toBeCloseTo(0.25);
    expect(b[2]).toBeCloseTo(0.125);
    expect(b[3]).toBeCloseTo(0.125);
    const clipped = toNormalised([-10, 0, 40, 400], lb, 1920, 1080);
    expect(clipped[0]).toBe(0);
    expect(clipped[1]).toBe(0);
    expect(clipped[1] + clipped[3]).toBe(1);
  });
});

describe('nms', () => {
  const c = (score: number, box: Box, cls = 0): Candidate => ({ cls, score, box });

  it('computes IoU', () => {
    expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(iou([0, 0, 10, 10], [5, 0, 10, 10])).toBeCloseTo(50 / 150);
    expect(iou([0, 0, 10, 10], [20, 0, 10, 10])).toBe(0);
  });

  it('keeps the strongest of overlapping boxes, across classes', () => {
    const kept = nms([c(0.6, [1, 0, 10, 10], 1), c(0.9, [0, 0, 10, 10]), c(0.8, [30, 0, 10, 10])], 0.5);
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.8]);
  });

  it('keeps adjacent products that only touch', () => {
    const kept = nms([c(0.9, [0, 0, 10, 20]), c(0.85, [9, 0, 10, 20])], 0.5);
    expect(kept).toHaveLength(2);
  });

  it('caps the number of detections', () => {
    const many = Array.from({ length: 10 }, (_, i) => c(1 - i / 100, [i * 20, 0, 10, 10]));
    expect(nms(many, 0.5, 3)).toHaveLength(3);
  });

  describe('with the same-depth rule', () => {
    const d = (score: number, box: Box, depth?: number): Candidate => ({ cls: 0, score, box, depth });
    const rule = { iou: 0.4, gap: 0.5 };
    // IoU 0.6: under the plain NMS threshold of 0.7, over the same-depth rule's 0.4.
    const front: Box = [0, 10, 20, 40];
    const overlapping: Box = [0, 0, 20, 40];

    it('drops a second box on one pack: overlapping, at the same depth', () => {
      expect(iou(front, overlapping)).toBeCloseTo(0.6);
      const kept = nms([d(0.9, front, 0.1), d(0.7, overlapping, 0.3)], 0.7, Infinity, rule);
      expect(kept.map((k) => k.score)).toEqual([0.9]);
    });

    it('keeps a pack pushed back behind another: overlapping, a depth apart', () => {
      const kept = nms([d(0.9, front, 0.1), d(0.7, overlapping, 1.05)], 0.7, Infinity, rule);
      expect(kept.map((k) => k.score)).toEqual([0.9, 0.7]);
    });

    it('keeps boxes that overlap less than its IoU, whatever their depth', () => {
      const beside: Box = [12, 10, 20, 40];
      expect(iou(front, beside)).toBeLessThan(0.4);
      expect(nms([d(0.9, front, 0), d(0.7, beside, 0)], 0.7, Infinity, rule)).toHaveLength(2);
    });

    it('lets boxes a depth apart overlap up to apartIou', () => {
      const behind: Box = [0, 8, 20, 40]; // IoU 0.905 with front: over plain NMS's 0.7
      const withApart = { ...rule, apartIou: 0.95 };
      expect(nms([d(0.9, front, 0), d(0.7, behind, 1)], 0.7, Infinity, rule)).toHaveLength(1);
      expect(nms([d(0.9, front, 0), d(0.7, behind, 1)], 0.7, Infinity, withApart)).toHaveLength(2);
      // Still one pack when the depths agree, and plain NMS for a pair without depths.
      expect(nms([d(0.9, front, 0), d(0.7, behind, 0.2)], 0.7, Infinity, withApart)).toHaveLength(1);
      expect(nms([d(0.9, front), d(0.7, behind)], 0.7, Infinity, withApart)).toHaveLength(1);
    });

    it('leaves candidates without a depth (empty slots) to plain NMS', () => {
      expect(nms([d(0.9, front), d(0.7, overlapping, 0)], 0.7, Infinity, rule)).toHaveLength(2);
      expect(nms([d(0.9, front, 0), d(0.7, overlapping, 0)], 0.7)).toHaveLength(2);
    });
  });
});

describe('decodeCenters', () => {
  it('finds local maxima and decodes offset and log-size', () => {
    const [C, H, W, stride] = [2, 4, 5, 8];
    const heat = new Float32Array(C * H * W);
    const reg = new Float32Array(4 * H * W);
    const at = (x: number, y: number) => y * W + x;
    heat[at(2, 1)] = 0.9;
    heat[at(3, 1)] = 0.5; // neighbour of a stronger peak: suppressed
    heat[H * W + at(0, 3)] = 0.7; // class 1 peak
    reg[at(2, 1)] = 0.5;
    reg[H * W + at(2, 1)] = 0.25;
    reg[2 * H * W + at(2, 1)] = Math.log(2);
    reg[3 * H * W + at(2, 1)] = Math.log(4);
    const out = decodeCenters(heat, reg, C, H, W, stride, { threshold: 0.3 });
    expect(out).toHaveLength(2);
    expect(out[0]!.cls).toBe(0);
    expect(out[0]!.score).toBeCloseTo(0.9);
    const [x, y, w, h] = out[0]!.box;
    expect(w).toBeCloseTo(16);
    expect(h).toBeCloseTo(32);
    expect(x + w / 2).toBeCloseTo(2.5 * 8);
    expect(y + h / 2).toBeCloseTo(1.25 * 8);
    expect(out[1]!.cls).toBe(1);
  });

  it('takes a strong cell beside a stronger one as a centre from the shoulder threshold up', () => {
    // A pushed-back pack's centre one cell above its front pack's, as on a cooler's top shelf.
    const [H, W, stride] = [5, 5, 4];
    const heat = new Float32Array(2 * H * W);
    const reg = new Float32Array(4 * H * W);
    heat[2 * W + 2] = 0.9; // front pack
    heat[1 * W + 2] = 0.6; // pack behind it
    heat[3 * W + 2] = 0.4; // flank of the front pack's peak
    const peaksOnly = decodeCenters(heat, reg, 2, H, W, stride, { threshold: 0.3 });
    expect(peaksOnly.map((c) => c.score)).toEqual([expect.closeTo(0.9)]);
    const withShoulders = decodeCenters(heat, reg, 2, H, W, stride, { threshold: 0.3, shoulder: 0.5 });
    expect(withShoulders.map((c) => c.score)).toEqual([expect.closeTo(0.9), expect.closeTo(0.6)]);
    expect(withShoulders[1]!.box[1] + withShoulders[1]!.box[3] / 2).toBeCloseTo(1 * stride);
    // The threshold still applies: a shoulder below it is no centre.
    expect(decodeCenters(heat, reg, 2, H, W, stride, { threshold: 0.7, shoulder: 0.5 })).toHaveLength(1);
  });

  it('applies a threshold per class when given one per class', () => {
    const [H, W, stride] = [3, 4, 4];
    const heat = new Float32Array(2 * H * W);
    heat[1 * W + 1] = 0.27; // a faint product
    heat[H * W + 1 * W + 3] = 0.27; // an equally faint empty slot
    const reg = new Float32Array(4 * H * W);
    expect(decodeCenters(heat, reg, 2, H, W, stride, { threshold: 0.3 })).toHaveLength(0);
    expect(decodeCenters(heat, reg, 2, H, W, stride, { threshold: [0.3, 0.25] }).map((c) => c.cls)).toEqual([1]);
  });

  it("attaches the depth map's value at its cell to candidates of the depth class only", () => {
    const [H, W, stride] = [3, 4, 4];
    const heat = new Float32Array(2 * H * W);
    heat[1 * W + 1] = 0.9; // a product
    heat[H * W + 1 * W + 3] = 0.8; // an empty slot
    const depth = new Float32Array(H * W);
    depth[1 * W + 1] = 1.2;
    depth[1 * W + 3] = 0.4;
    const out = decodeCenters(heat, new Float32Array(4 * H * W), 2, H, W, stride, {
      threshold: 0.3,
      depth,
      depthClass: 0,
    });
    expect(out.map((c) => [c.cls, c.depth])).toEqual([
      [0, expect.closeTo(1.2)],
      [1, undefined],
    ]);
    expect(
      decodeCenters(heat, new Float32Array(4 * H * W), 2, H, W, stride, { threshold: 0.3 })[0]!.depth,
    ).toBeUndefined();
  });

  it('keeps the strongest candidates when there are more than maxCandidates', () => {
    const [H, W] = [1, 8];
    const heat = new Float32Array(2 * H * W).map((_, i) => (i < W ? 0.35 + i * 0.05 : 0));
    const out = decodeCenters(heat, new Float32Array(4 * H * W), 2, H, W, 4, {
      threshold: 0.3,
      shoulder: 0.3,
      maxCandidates: 3,
    });
    expect(out.map((c) => c.score)).toEqual([0.7, 0.65, 0.6].map((v) => expect.closeTo(v)));
  });
});

describe('preprocess', () => {
  const img = { width: 4, height: 2, data: new Uint8Array(4 * 2 * 3).map((_, i) => (i % 3 === 0 ? 255 : 0)) };

  it('normalises HWC to CHW', () => {
    const chw = toChw(img, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]);
    expect(chw[0]).toBeCloseTo(2);
    expect(chw[8]).toBeCloseTo(-2);
  });

  it('writes the mirrored planes in the same pass, equal to mirroring the result', () => {
    const rgb = { width: 5, height: 3, data: new Uint8Array(5 * 3 * 3).map((_, i) => (i * 37) % 256) };
    const mirrored = new Float32Array(3 * 5 * 3);
    const chw = toChw(rgb, [0.4, 0.5, 0.6], [0.2, 0.25, 0.3], undefined, mirrored);
    expect(Array.from(chw)).toEqual(Array.from(toChw(rgb, [0.4, 0.5, 0.6], [0.2, 0.25, 0.3])));
    expect(Array.from(mirrored)).toEqual(Array.from(mirrorPlanes(chw, 3, 3, 5)));
    expect(() => toChw(rgb, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], undefined, new Float32Array(4))).toThrow(
      'output size does not match',
    );
  });

  it('crops with bilinear sampling at pixel centres, matching the Python sampler', () => {
    const g = { width: 4, height: 1, data: new Uint8Array([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]) };
    const dst = new Float32Array(3 * 2);
    cropInto(g, [0, 0, 4, 1], 2, 1, [0, 0, 0], [1, 1, 1], dst, 0);
    // Output pixel centres land on source x = 0.5 and 2.5.
    expect(dst[0]! * 255).toBeCloseTo(50);
    expect(dst[1]! * 255).toBeCloseTo(227.5);
  });

  it('samples a 2-D crop that runs off the image like a naive per-pixel bilinear sampler, whatever crop came before', () => {
    const W = 7;
    const H = 5;
    const img = { width: W, height: H, data: Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37) % 256) };
    const at = (x: number, y: number, c: number) => img.data[(y * W + x) * 3 + c]!;
    // Straight from the definition: pixel-centre sampling, coordinates clamped to the image.
    const naive = (box: Box, ow: number, oh: number) => {
      const out = new Float32Array(3 * ow * oh);
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          const xs = Math.min(W - 1, Math.max(0, box[0] + ((ox + 0.5) * box[2]) / ow - 0.5));
          const ys = Math.min(H - 1, Math.max(0, box[1] + ((oy + 0.5) * box[3]) / oh - 0.5));
          const [x0, y0] = [Math.floor(xs), Math.floor(ys)];
          const [x1, y1] = [Math.min(x0 + 1, W - 1), Math.min(y0 + 1, H - 1)];
          const [fx, fy] = [xs - x0, ys - y0];
          for (let c = 0; c < 3; c++)
            out[c * ow * oh + oy * ow + ox] =
              ((1 - fx) * (1 - fy) * at(x0, y0, c) +
                fx * (1 - fy) * at(x1, y0, c) +
                (1 - fx) * fy * at(x0, y1, c) +
                fx * fy * at(x1, y1, c)) /
              255;
        }
      return out;
    };
    // A wide crop, then a narrow one: the narrow one must not read the wide one's column table.
    const crops: [Box, number, number][] = [
      [[-2, -1, 10, 8], 9, 4],
      [[1.3, 0.7, 3.1, 2.2], 3, 6],
      [[4, 2, 6, 6], 5, 5],
    ];
    for (const [box, ow, oh] of crops) {
      const dst = new Float32Array(3 * ow * oh + 4);
      cropInto(img, box, ow, oh, [0, 0, 0], [1, 1, 1], dst, 4);
      const want = naive(box, ow, oh);
      want.forEach((v, i) => expect(dst[4 + i]).toBeCloseTo(v, 5));
    }
  });

  it('expands boxes by a fraction on each side', () => {
    expect(expandBox([10, 10, 100, 200], 0.1)).toEqual([0, -10, 120, 240]);
  });
});
