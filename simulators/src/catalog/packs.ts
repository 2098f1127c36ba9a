import type { PackFormat, PackSpec } from './types.js';

/** Typical real-world dimensions (mm), so mixed shelves look plausible at one camera scale. */
export const PACKS: Record<PackFormat, PackSpec> = {
  can330: { format: 'can330', widthMm: 66, heightMm: 122, depthMm: 66, volumeMl: 330 },
  can250: { format: 'can250', widthMm: 53, heightMm: 134, depthMm: 53, volumeMl: 250 },
  can500: { format: 'can500', widthMm: 66, heightMm: 168, depthMm: 66, volumeMl: 500 },
  pet500: { format: 'pet500', widthMm: 65, heightMm: 210, depthMm: 65, volumeMl: 500 },
  glass330: { format: 'glass330', widthMm: 60, heightMm: 228, depthMm: 60, volumeMl: 330 },
  carton250: { format: 'carton250', widthMm: 52, heightMm: 112, depthMm: 40, volumeMl: 250 },
  carton1000: { format: 'carton1000', widthMm: 72, heightMm: 200, depthMm: 72, volumeMl: 1000 },
};

/** SKU suffix letter per container kind: c=can, p=PET, g=glass, t=carton (tetra). */
export function formatSuffix(format: PackFormat): string {
  const spec = PACKS[format];
  const kind = format.startsWith('can') ? 'c' : format.startsWith('pet') ? 'p' : format.startsWith('glass') ? 'g' : 't';
  return `${spec.volumeMl}${kind}`;
}

/** Shelf rows hold one container family, like real coolers; these are the families. */
export const ROW_FAMILIES: PackFormat[][] = [
  ['can330'],
  ['can330', 'can250'],
  ['can500', 'can250'],
  ['pet500'],
  ['glass330'],
  ['carton250'],
  ['carton1000'],
];
