import { describe, expect, it } from 'vitest';
import { spreadColocated } from '../../dashboard/src/map-spread.js';

const dist = (a: [number, number], b: [number, number]) => Math.hypot(a[0] - b[0], a[1] - b[1]);

describe('spreadColocated (outlets on the overview map)', () => {
  it('leaves outlets that are apart where they are', () => {
    const m = spreadColocated(
      [
        { key: 'nanjing', lon: 118.8, lat: 32.06 },
        { key: 'chongqing', lon: 106.55, lat: 29.56 },
      ],
      0.5,
    );
    expect(m.get('nanjing')).toEqual([118.8, 32.06]);
    expect(m.get('chongqing')).toEqual([106.55, 29.56]);
  });

  it('draws two outlets of one city apart, round their middle, and the same way on every refresh', () => {
    const pts = [
      { key: 'o4', lon: 121.49, lat: 31.2 },
      { key: 'o3', lon: 121.45, lat: 31.25 },
      { key: 'o1', lon: 118.8, lat: 32.06 },
    ];
    const m = spreadColocated(pts, 0.5);
    const a = m.get('o3')!;
    const b = m.get('o4')!;
    expect(dist(a, b)).toBeCloseTo(1, 6); // opposite ends of a circle of radius 0.5
    expect((a[0] + b[0]) / 2).toBeCloseTo(121.47, 6);
    expect((a[1] + b[1]) / 2).toBeCloseTo(31.225, 6);
    expect(m.get('o1')).toEqual([118.8, 32.06]);
    expect(spreadColocated([...pts].reverse(), 0.5)).toEqual(m);
  });

  it('spreads a chain of near outlets as one group, every one distinct', () => {
    const pts = [0, 1, 2, 3].map((k) => ({ key: `s${k}`, lon: 121 + 0.3 * k, lat: 31 }));
    const m = spreadColocated(pts, 0.5);
    const placed = [...m.values()];
    for (let i = 0; i < placed.length; i++)
      for (let j = i + 1; j < placed.length; j++) expect(dist(placed[i]!, placed[j]!)).toBeGreaterThan(0.5);
  });
});
