import { describe, expect, it } from 'vitest';
import {
  atLeast,
  columnsOf,
  counterRegion,
  missingBoxes,
  readCount,
  readPlaces,
  surplusBoxes,
} from '../../../edge-agent/src/recognition/recount.js';

describe('counterRegion', () => {
  it('places the column window round the front pack by its size', () => {
    const region = counterRegion([100, 200, 50, 150], { left: 0.4, up: 0.6, width: 1.8, height: 1.6 });
    expect(region).toEqual([80, 110, 90, 240]);
  });
});

describe('readCount', () => {
  it('reads packs as class index + 1 with the softmax probability of that class', () => {
    const logits = [9, 9, 9, 9, 2, 2, Math.log(6) + 2, 2];
    const { packs, p } = readCount(logits, 4, 4);
    expect(packs).toBe(3);
    expect(p).toBeCloseTo(6 / 9, 6);
  });
});

describe('columnsOf', () => {
  it('groups boxes under their front product and leaves empty slots out', () => {
    // 0: front, 1 and 2 behind it; 3: a lone front; 4: an empty slot
    const fronts = [0, 0, 0, 3, 4];
    const isProduct = [true, true, true, true, false];
    expect(columnsOf(fronts, isProduct)).toEqual([
      { front: 0, behind: [1, 2] },
      { front: 3, behind: [] },
    ]);
  });
});

describe('surplusBoxes', () => {
  const opts = { classes: 4, minConfidence: 0.6 };
  const columns = [
    { front: 0, behind: [1, 2, 3] },
    { front: 4, behind: [5] },
  ];
  const scores = [0.9, 0.5, 0.3, 0.7, 0.95, 0.4];

  it('drops the weakest boxes behind the front until a column holds its count', () => {
    const drop = surplusBoxes(
      columns,
      [
        { packs: 2, p: 0.9 },
        { packs: 2, p: 0.9 },
      ],
      scores,
      opts,
    );
    expect([...drop].sort()).toEqual([1, 2]);
  });

  it('never drops the front pack, even when the count says one pack', () => {
    const drop = surplusBoxes([columns[0]!], [{ packs: 1, p: 0.99 }], [0.1, 0.5, 0.3, 0.7], opts);
    expect([...drop].sort()).toEqual([1, 2, 3]);
  });

  it('leaves a column alone when the counter is unsure, counts more boxes than there are, or says "or more"', () => {
    expect(
      surplusBoxes(
        columns,
        [
          { packs: 1, p: 0.5 },
          { packs: 1, p: 0.59 },
        ],
        scores,
        opts,
      ).size,
    ).toBe(0);
    expect(
      surplusBoxes(
        columns,
        [
          { packs: 4, p: 0.99 },
          { packs: 3, p: 0.99 },
        ],
        scores,
        opts,
      ).size,
    ).toBe(0);
    expect(surplusBoxes([{ front: 0, behind: [1, 2, 3, 5] }], [{ packs: 4, p: 0.99 }], scores, opts).size).toBe(0);
  });
});

describe('missingBoxes', () => {
  const back = [
    { dx: 0.05, dy: -0.2, w: 0.9, h: 0.9 },
    { dx: 0.1, dy: -0.3, w: 0.6, h: 0.4 },
  ];
  // 0: a lone front; 1: a front with one box behind (2)
  const columns = [
    { front: 0, behind: [] },
    { front: 1, behind: [2] },
  ];
  const boxes: [number, number, number, number][] = [
    [100, 200, 50, 100],
    [200, 200, 40, 80],
    [202, 185, 36, 70],
  ];

  it('places the packs a confident count says are missing at the usual place behind the front', () => {
    const add = missingBoxes(
      columns,
      [
        { packs: 3, p: 0.9 },
        { packs: 3, p: 0.95 },
      ],
      boxes,
      back,
      { minConfidence: 0.8 },
    );
    expect(add).toEqual([
      { front: 0, k: 1, box: [102.5, 180, 45, 90], p: 0.9 },
      { front: 0, k: 2, box: [105, 170, 30, 40], p: 0.9 },
      // the detector's own back box stands for the 2nd pack: only the 3rd is added
      { front: 1, k: 2, box: [204, 176, 24, 32], p: 0.95 },
    ]);
  });

  it('shifts the places toward the image centre by the front box’s distance from it (dxPerX)', () => {
    const lens = [{ ...back[0]!, dxPerX: -2 }];
    const one = [{ packs: 2, p: 0.9 }];
    // Front centre at 0.25 of the image width: dx = 0.05 - 2 * (0.25 - 0.5) = 0.55 front widths right.
    expect(missingBoxes([columns[0]!], one, boxes, lens, { minConfidence: 0.8, centreX: [0.25] })[0]!.box).toEqual([
      127.5, 180, 45, 90,
    ]);
    // At the centre the slope does nothing; without centres it is taken as the centre.
    expect(missingBoxes([columns[0]!], one, boxes, lens, { minConfidence: 0.8, centreX: [0.5] })[0]!.box).toEqual([
      102.5, 180, 45, 90,
    ]);
    expect(missingBoxes([columns[0]!], one, boxes, lens, { minConfidence: 0.8 })[0]!.box).toEqual([102.5, 180, 45, 90]);
  });

  it('adds nothing to an unsure count, a column holding its count, or beyond the known geometry', () => {
    expect(
      missingBoxes(
        columns,
        [
          { packs: 3, p: 0.79 },
          { packs: 2, p: 0.99 },
        ],
        boxes,
        back,
        { minConfidence: 0.8 },
      ),
    ).toEqual([]);
    const deep = missingBoxes([columns[0]!], [{ packs: 4, p: 0.99 }], boxes, back, { minConfidence: 0.8 });
    expect(deep.map((a) => a.k)).toEqual([1, 2]);
    expect(missingBoxes([columns[0]!], [{ packs: 3, p: 0.99 }], boxes, [], { minConfidence: 0.8 })).toEqual([]);
  });

  describe("the counter's own places (boxOutput)", () => {
    // The net's `boxes` output for two columns of a 4-class counter: 3 packs x (dx, dy, w, h) each.
    const out = new Float32Array([
      ...[0, -0.1, 1, 0.5, 0.1, -0.2, 0.8, 0.25, 0.2, -0.3, 0.5, 0.125],
      ...[-0.1, -0.15, 0.75, 0.5, 0, -0.25, 0.5, 0.25, 0, -0.35, 0.5, 0.25],
    ]);
    // Places are float32: compare boxes to a thousandth of a pixel.
    const roundBox = (b: readonly number[]) => b.map((v) => Math.round(v * 1000) / 1000);

    it('reads one column’s row as places of the 1st, 2nd, 3rd pack behind the front', () => {
      expect(readPlaces(out, 1, 4)).toEqual([
        { dx: expect.closeTo(-0.1), dy: expect.closeTo(-0.15), w: 0.75, h: 0.5 },
        { dx: 0, dy: -0.25, w: 0.5, h: 0.25 },
        { dx: 0, dy: expect.closeTo(-0.35), w: 0.5, h: 0.25 },
      ]);
    });

    it('places missing packs where the column’s own places say, without the lens shift of the average places', () => {
      const places = [readPlaces(out, 0, 4), readPlaces(out, 1, 4)];
      const lens = back.map((b) => ({ ...b, dxPerX: -2 }));
      const add = missingBoxes(
        columns,
        [
          { packs: 3, p: 0.9 },
          { packs: 4, p: 0.95 },
        ],
        boxes,
        lens,
        { minConfidence: 0.8, centreX: [0.25, 0.75, 0.75], places },
      );
      expect(add.map((a) => ({ ...a, box: roundBox(a.box) }))).toEqual([
        { front: 0, k: 1, box: [100, 190, 50, 50], p: 0.9 },
        { front: 0, k: 2, box: [105, 180, 40, 25], p: 0.9 },
        // the detector's back box overlaps column 1's 1st place most: the 2nd and 3rd are added
        { front: 1, k: 2, box: [200, 180, 20, 20], p: 0.95 },
        { front: 1, k: 3, box: [200, 172, 20, 20], p: 0.95 },
      ]);
    });

    it('gives the detector’s back boxes the places they overlap most and adds the packs at the places left', () => {
      const places = [readPlaces(out, 1, 4)];
      // column 1's places: 1st [196, 188, 30, 40], 2nd [200, 180, 20, 20], 3rd [200, 172, 20, 20]
      const seenSecond: [number, number, number, number][] = [...boxes.slice(0, 2), [200, 179, 20, 22]];
      const count = { packs: 3, p: 0.9, probs: [0.02, 0.08, 0.9, 0] };
      const add = missingBoxes([columns[1]!], [count], seenSecond, [], { minConfidence: 0.8, places });
      expect(add.map((a) => ({ ...a, box: roundBox(a.box) }))).toEqual([
        { front: 1, k: 1, box: [196, 188, 30, 40], p: 0.9 },
      ]);
      // Each added pack carries the probability that the column holds it: at least 3, then at least 4 packs.
      const deeper = { packs: 4, p: 0.85, probs: [0, 0.05, 0.1, 0.85] };
      const two = missingBoxes([columns[1]!], [deeper], seenSecond, [], { minConfidence: 0.8, places });
      expect(two.map((a) => [a.k, Math.round(a.p * 100) / 100])).toEqual([
        [1, 0.95],
        [3, 0.85],
      ]);
    });

    it('skips a place the net gives no size, and places no more packs than it has places for', () => {
      const flat = [[{ dx: 0, dy: -0.1, w: 0, h: 0.5 }, ...readPlaces(out, 0, 4).slice(1)]];
      const add = missingBoxes([columns[0]!], [{ packs: 4, p: 0.99 }], boxes, [], { minConfidence: 0.8, places: flat });
      expect(add.map((a) => a.k)).toEqual([2, 3]);
      const two = [readPlaces(out, 0, 4).slice(0, 2)];
      const few = missingBoxes([columns[0]!], [{ packs: 4, p: 0.99 }], boxes, back, {
        minConfidence: 0.8,
        places: two,
      });
      expect(few.map((a) => a.k)).toEqual([1, 2]);
    });
  });
});

describe('unsure columns (CounterConfig.unsure)', () => {
  // Counter probabilities for 1, 2, 3, "4 or more" packs.
  const unsure = (probs: number[]) => ({ packs: probs.indexOf(Math.max(...probs)) + 1, p: Math.max(...probs), probs });

  it('reads the probability of at least m packs from the classes, the last one open-ended', () => {
    const n = unsure([0.1, 0.5, 0.3, 0.1]);
    expect(atLeast(n, 1)).toBeCloseTo(1);
    expect(atLeast(n, 3)).toBeCloseTo(0.4);
    expect(atLeast(n, 4)).toBeCloseTo(0.1);
    expect(atLeast(n, 6)).toBeCloseTo(0.1);
    expect(readCount([0, Math.log(3), 0, 0], 0, 4).probs).toEqual(
      [1 / 6, 3 / 6, 1 / 6, 1 / 6].map((v) => expect.closeTo(v)),
    );
  });

  it('drops boxes while the count is unlikely to reach them, weakest first', () => {
    const col = [{ front: 0, behind: [1, 2, 3] }];
    const scores = [0.9, 0.6, 0.35, 0.5];
    const opts = { classes: 4, minConfidence: 0.8, unsure: { dropBelow: 0.1, addFrom: 0.7 } };
    // P(>= 4) = 0.05 and P(>= 3) = 0.08 are below 0.1: two boxes go; P(>= 2) = 0.6 keeps the rest.
    const n = unsure([0.4, 0.52, 0.03, 0.05]);
    expect([...surplusBoxes(col, [n], scores, opts)].sort()).toEqual([2, 3]);
    // Without `unsure` (older model files) an unsure column keeps its boxes.
    expect(surplusBoxes(col, [n], scores, { classes: 4, minConfidence: 0.8 }).size).toBe(0);
  });

  it('adds one pack where one more than the boxes is likely enough', () => {
    const back = [{ dx: 0, dy: -0.2, w: 0.9, h: 0.9 }];
    const col = [{ front: 0, behind: [] }];
    const boxes: [number, number, number, number][] = [[100, 200, 50, 100]];
    const add = (probs: number[]) =>
      missingBoxes(col, [unsure(probs)], boxes, back, { minConfidence: 0.8, addFrom: 0.7 });
    expect(add([0.25, 0.45, 0.2, 0.1])).toEqual([{ front: 0, k: 1, box: [100, 180, 45, 90], p: expect.closeTo(0.75) }]);
    expect(add([0.35, 0.45, 0.1, 0.1])).toEqual([]); // P(>= 2) = 0.65
  });
});
