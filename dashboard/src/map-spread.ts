/**
 * Where to draw outlets on the overview map. Two outlets of one city lie a few kilometres apart,
 * which at country scale is the same pixel: one dot would hide the other and its grade. Outlets
 * closer than `radius` degrees to another are drawn on a small circle of that radius round their
 * group's centre instead (the tooltip still names each one); all others stay where they are.
 */
export interface MapPoint {
  key: string;
  lon: number;
  lat: number;
}

export const spreadColocated = (pts: readonly MapPoint[], radius: number): Map<string, [number, number]> => {
  // Groups by single linkage: an outlet near any member joins the group.
  const group = pts.map((_, i) => i);
  const root = (i: number): number => (group[i] === i ? i : (group[i] = root(group[i]!)));
  for (let i = 0; i < pts.length; i++)
    for (let j = i + 1; j < pts.length; j++)
      if (Math.hypot(pts[i]!.lon - pts[j]!.lon, pts[i]!.lat - pts[j]!.lat) < radius) group[root(j)] = root(i);
  const members = new Map<number, MapPoint[]>();
  pts.forEach((p, i) => {
    const r = root(i);
    members.set(r, [...(members.get(r) ?? []), p]);
  });
  const out = new Map<string, [number, number]>();
  for (const g of members.values()) {
    if (g.length === 1) {
      out.set(g[0]!.key, [g[0]!.lon, g[0]!.lat]);
      continue;
    }
    // Sorted by key so that an outlet keeps its place from one refresh to the next.
    const sorted = [...g].sort((a, b) => a.key.localeCompare(b.key));
    const cLon = sorted.reduce((s, p) => s + p.lon, 0) / g.length;
    const cLat = sorted.reduce((s, p) => s + p.lat, 0) / g.length;
    sorted.forEach((p, k) => {
      const a = (2 * Math.PI * k) / g.length + Math.PI / 2;
      out.set(p.key, [cLon + radius * Math.cos(a), cLat + radius * Math.sin(a)]);
    });
  }
  return out;
};
