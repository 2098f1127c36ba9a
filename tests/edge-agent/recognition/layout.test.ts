import { describe, expect, it } from 'vitest';
import { groupRows, layOut, lyingOn, placeBoxes } from '../../../edge-agent/src/recognition/layout.js';
import type { Box } from '../../../edge-agent/src/recognition/letterbox.js';
import { buildGallery, matchEmbeddings } from '../../../edge-agent/src/recognition/gallery.js';
import { summarise } from '../../../edge-agent/src/recognition/summarise.js';
import { imageStats, qualityFlags } from '../../../edge-agent/src/recognition/quality.js';
import { DEFAULT_QUALITY } from '../../../edge-agent/src/recognition/config.js';

describe('groupRows', () => {
  it('clusters by bottom edge even when heights differ, numbering rows top-down', () => {
    const boxes: Box[] = [
      [0.1, 0.55, 0.05, 0.2], // bottom 0.75, lower shelf
      [0.1, 0.1, 0.05, 0.2], // bottom 0.30
      [0.2, 0.15, 0.05, 0.16], // shorter can on the same top shelf, bottom 0.31
      [0.3, 0.6, 0.05, 0.16], // bottom 0.76
    ];
    expect(groupRows(boxes)).toEqual([1, 0, 0, 1]);
  });

  it('puts the visible top of a pushed-back pack in the row of the pack in front of it', () => {
    const boxes: Box[] = [
      [0.1, 0.1, 0.05, 0.2], // top shelf front, bottom 0.30
      [0.2, 0.1, 0.05, 0.2],
      [0.1, 0.55, 0.05, 0.2], // lower shelf front, bottom 0.75
      [0.1, 0.5, 0.05, 0.1], // pack behind the lower front pack: its bottom edge is hidden by it
    ];
    expect(groupRows(boxes)).toEqual([0, 0, 1, 1]);
  });

  it('handles no boxes', () => {
    expect(groupRows([])).toEqual([]);
  });
});

describe('placeBoxes', () => {
  it('numbers columns left to right and marks only the front-most product of a column as a facing', () => {
    const boxes: Box[] = [
      [0.3, 0.1, 0.1, 0.2], // column 1 front (lowest bottom)
      [0.1, 0.1, 0.1, 0.2], // column 0
      [0.31, 0.08, 0.09, 0.18], // behind column 1 front: smaller and higher
    ];
    const placed = placeBoxes(boxes, [0, 0, 0]);
    expect(placed.map((p) => p.column)).toEqual([1, 0, 1]);
    expect(placed.map((p) => p.facing)).toEqual([true, true, false]);
  });
});

describe('top view (chest cooler)', () => {
  // Camera above the frame centre (0.5, 0.5): a pack on top of another is nearer, so larger, and
  // displaced outwards; the one under it peeks out on its inner side.
  const under: Box = [0.2, 0.2, 0.1, 0.1]; // centre (0.25, 0.25), upper left of the frame
  const onTop: Box = [0.18, 0.18, 0.12, 0.12]; // centre (0.24, 0.24): larger, further out
  const neighbour: Box = [0.32, 0.2, 0.1, 0.1]; // same level, beside `under`
  const nextRow: Box = [0.2, 0.42, 0.1, 0.1]; // a basket row further down
  const inward: Box = [0.6, 0.6, 0.1, 0.1]; // lower right, centre (0.65, 0.65)
  const largerInward: Box = [0.58, 0.58, 0.12, 0.12]; // larger but nearer the centre: not on top of it

  it('links a pack to the larger, outward-displaced pack lying on it, and nothing else', () => {
    expect(lyingOn([under, onTop, neighbour, nextRow])).toEqual([1, -1, -1, -1]);
    expect(lyingOn([inward, largerInward])).toEqual([-1, -1]);
  });

  it('ignores a slight overlap between packs on one level', () => {
    const touching: Box = [0.29, 0.2, 0.11, 0.1]; // larger, overlaps `under` by 10 % of its area
    expect(lyingOn([under, touching])).toEqual([-1, -1]);
  });

  it('groups basket rows by pack centre; a pack underneath takes the row of the one on it', () => {
    expect(groupRows([nextRow, under, onTop, neighbour], 'top')).toEqual([1, 0, 0, 0]);
  });

  it('makes only the top pack of a stack a facing, in the column of that stack', () => {
    const boxes = [neighbour, under, onTop, nextRow];
    const { placed, fronts } = layOut(boxes, 'top');
    expect(placed.map((p) => [p.row, p.column, p.facing])).toEqual([
      [0, 1, true],
      [0, 0, false],
      [0, 0, true],
      [1, 0, true],
    ]);
    expect(fronts).toEqual([0, 2, 2, 3]);
    // Read as a front view, no pack is in front of another: the pack underneath would count as a facing.
    expect(layOut(boxes, 'front').placed.every((p) => p.facing)).toBe(true);
  });
});

describe('gallery matching', () => {
  const gallery = buildGallery({
    name: 'g',
    version: '1',
    dim: 2,
    entries: [
      { sku: 'cola', vector: [1, 0] },
      { sku: 'lemon', vector: [0, 2] }, // re-normalised on load
    ],
  });

  it('returns the nearest SKU by cosine and the runner-up', () => {
    const [m] = matchEmbeddings(new Float32Array([0.6, 0.8]), gallery, 0.5);
    expect(m!.sku).toBe('lemon');
    expect(m!.similarity).toBeCloseTo(0.8);
    expect(m!.secondSimilarity).toBeCloseTo(0.6);
  });

  it('calls a crop unknown below the threshold', () => {
    const r = matchEmbeddings(new Float32Array([0.7071, 0.7071, 1, 0]), gallery, 0.9);
    expect(r[0]!.sku).toBeUndefined();
    expect(r[1]!.sku).toBe('cola');
  });

  it('rejects entries of the wrong dimension', () => {
    expect(() => buildGallery({ name: 'g', version: '1', dim: 3, entries: [{ sku: 'x', vector: [1, 0] }] })).toThrow();
    expect(() =>
      buildGallery({
        name: 'g',
        version: '1',
        dim: 2,
        entries: [{ sku: 'x', vector: [1, 0], shotVectors: [[1, 0], [1]] }],
      }),
    ).toThrow(/x shot 2 has 1 dims/);
  });

  it('matches a SKU through its nearest shot, and the runner-up is another SKU', () => {
    // Two shots of cola far apart (lit, shaded): their mean [0.71, 0.71] would lose to lemon.
    const g = buildGallery({
      name: 'g',
      version: '1',
      dim: 2,
      entries: [
        {
          sku: 'cola',
          vector: [0.7071, 0.7071],
          shotVectors: [
            [1, 0],
            [0, 1],
          ],
        },
        { sku: 'lemon', vector: [0.8, 0.6] },
      ],
    });
    expect(g.skus).toEqual(['cola', 'cola', 'lemon']);
    const [m] = matchEmbeddings(new Float32Array([0.995, 0.0998]), g, 0.5);
    expect(m!.sku).toBe('cola');
    expect(m!.similarity).toBeCloseTo(0.995, 3);
    expect(m!.secondSimilarity).toBeCloseTo(0.8559, 3); // lemon, not cola's other shot
  });
});

describe('summarise', () => {
  it('counts products, facings, empty and unknown', () => {
    const base = { box: [0, 0, 0.1, 0.1] as Box, row: 0, column: 0 };
    const s = summarise([
      { ...base, kind: 'product', sku: 'b', confidence: 0.8, facing: true },
      { ...base, kind: 'product', sku: 'b', confidence: 0.6, facing: false },
      { ...base, kind: 'product', sku: 'a', confidence: 1, facing: true },
      { ...base, kind: 'empty', confidence: 0.9, facing: true },
      { ...base, kind: 'unknown', confidence: 0.9, facing: true },
    ]);
    expect(s.skus).toEqual([
      { sku: 'a', count: 1, facings: 1, meanConfidence: 1 },
      { sku: 'b', count: 2, facings: 1, meanConfidence: 0.7 },
    ]);
    expect(s.emptyFacings).toBe(1);
    expect(s.unknownProducts).toBe(1);
  });
});

describe('quality flags', () => {
  const flat = (v: number) => ({ width: 16, height: 16, data: new Uint8Array(16 * 16 * 3).fill(v) });
  const checker = () => {
    const img = flat(0);
    for (let y = 0; y < 16; y++)
      for (let x = 0; x < 16; x++) if ((x + y) % 2) img.data.fill(255, (y * 16 + x) * 3, (y * 16 + x) * 3 + 3);
    return img;
  };

  it('flags dark, bright and flat frames', () => {
    expect(qualityFlags(imageStats(flat(10)), DEFAULT_QUALITY)).toContain('too_dark');
    expect(qualityFlags(imageStats(flat(250)), DEFAULT_QUALITY)).toContain('too_bright');
    expect(qualityFlags(imageStats(flat(128)), DEFAULT_QUALITY)).toEqual(['low_contrast']);
  });

  it('passes a sharp, well-exposed frame', () => {
    const s = imageStats(checker());
    expect(s.brightness).toBeCloseTo(0.5, 1);
    expect(qualityFlags(s, DEFAULT_QUALITY)).toEqual([]);
  });
});
