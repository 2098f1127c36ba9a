import { expandBrands, type Brand } from './brand.js';
import { syntheticProductBySku } from './synthetic.js';
import type { CatalogEntry, CatalogJsonEntry } from './types.js';

// Aurora is the customer that owns the coolers. Delta Cola is deliberately a look-alike of Aurora
// Cola (red can, white text) and Citra overlaps Aurora's citrus flavours, so recognition has to
// read the brand mark, not just the colour.
const BRANDS: Brand[] = [
  {
    prefix: 'aur',
    name: 'Aurora',
    own: true,
    logo: 'star',
    accent: '#ffd23f',
    cap: '#c8102e',
    text: '#ffffff',
    lines: [
      {
        flavour: 'cola',
        flavourText: 'COLA',
        body: '#c8102e',
        band: '#8e0b20',
        liquid: '#3b1f12',
        formats: ['can330', 'pet500', 'glass330'],
      },
      {
        flavour: 'cola-zero',
        flavourText: 'ZERO',
        body: '#1a1a1a',
        band: '#c8102e',
        liquid: '#3b1f12',
        formats: ['can330', 'pet500'],
      },
      {
        flavour: 'cherry',
        flavourText: 'CHERRY',
        body: '#c8102e',
        band: '#6d1b4b',
        liquid: '#4a1020',
        formats: ['can330'],
      },
      {
        flavour: 'lemon',
        flavourText: 'LEMON',
        body: '#c8102e',
        band: '#f2d600',
        liquid: '#e8e07a',
        formats: ['can330', 'pet500'],
      },
      {
        flavour: 'orange',
        flavourText: 'ORANGE',
        body: '#c8102e',
        band: '#ff7f11',
        liquid: '#ff9a2e',
        formats: ['can330', 'pet500'],
      },
      {
        flavour: 'tea-lemon',
        flavourText: 'LEMON TEA',
        body: '#7a4a1e',
        band: '#f2d600',
        liquid: '#a8641e',
        formats: ['pet500'],
      },
      {
        flavour: 'water',
        flavourText: 'PURE WATER',
        body: '#e8f4fb',
        band: '#2b7bb9',
        text: '#c8102e',
        liquid: '#dcecf5',
        formats: ['pet500'],
      },
      {
        flavour: 'juice-apple',
        flavourText: 'APPLE',
        body: '#f4f1e6',
        band: '#6cbf3a',
        text: '#c8102e',
        formats: ['carton250', 'carton1000'],
      },
      {
        flavour: 'juice-orange',
        flavourText: 'ORANGE',
        body: '#f4f1e6',
        band: '#ff9f1c',
        text: '#c8102e',
        formats: ['carton250'],
      },
      { flavour: 'energy', flavourText: 'ENERGY', body: '#1a1a1a', band: '#ffd23f', formats: ['can250'] },
    ],
  },
  {
    prefix: 'dlc',
    name: 'Delta Cola',
    own: false,
    logo: 'wave',
    accent: '#ffffff',
    cap: '#d7192a',
    text: '#ffffff',
    lines: [
      {
        flavour: 'cola',
        flavourText: 'CLASSIC',
        body: '#d7192a',
        band: '#a50f1d',
        liquid: '#3b1f12',
        formats: ['can330', 'pet500', 'glass330'],
      },
      {
        flavour: 'zero',
        flavourText: 'ZERO SUGAR',
        body: '#111111',
        band: '#d7192a',
        liquid: '#3b1f12',
        formats: ['can330', 'pet500'],
      },
      {
        flavour: 'cherry',
        flavourText: 'CHERRY',
        body: '#d7192a',
        band: '#7a1840',
        liquid: '#4a1020',
        formats: ['can330'],
      },
      {
        flavour: 'vanilla',
        flavourText: 'VANILLA',
        body: '#d7192a',
        band: '#e9d8a6',
        liquid: '#3b1f12',
        formats: ['can330'],
      },
    ],
  },
  {
    prefix: 'bor',
    name: 'Boreal',
    own: false,
    logo: 'leaf',
    accent: '#0b6e4f',
    cap: '#0b6e4f',
    text: '#0b3d2e',
    lines: [
      {
        flavour: 'water',
        flavourText: 'SPRING WATER',
        body: '#e6f5ee',
        band: '#3fa7d6',
        liquid: '#dcecf5',
        formats: ['pet500'],
      },
      {
        flavour: 'sparkling',
        flavourText: 'SPARKLING',
        body: '#e6f5ee',
        band: '#59c3c3',
        liquid: '#dcecf5',
        formats: ['can330', 'pet500'],
      },
      {
        flavour: 'tea-green',
        flavourText: 'GREEN TEA',
        body: '#cfe8b0',
        band: '#0b6e4f',
        liquid: '#c9b458',
        formats: ['pet500'],
      },
      {
        flavour: 'tea-lemon',
        flavourText: 'LEMON TEA',
        body: '#cfe8b0',
        band: '#f2d600',
        liquid: '#a8641e',
        formats: ['pet500'],
      },
      {
        flavour: 'tea-peach',
        flavourText: 'PEACH TEA',
        body: '#cfe8b0',
        band: '#ffa07a',
        liquid: '#c97b3a',
        formats: ['pet500'],
      },
      {
        flavour: 'juice-orange',
        flavourText: 'ORANGE',
        body: '#e6f5ee',
        band: '#ff9f1c',
        formats: ['carton250', 'carton1000'],
      },
    ],
  },
  {
    prefix: 'cit',
    name: 'Citra',
    own: false,
    logo: 'circle',
    accent: '#2e7d32',
    cap: '#2e7d32',
    text: '#1b5e20',
    lines: [
      {
        flavour: 'lemon',
        flavourText: 'LEMON',
        body: '#f7e03c',
        band: '#2e7d32',
        liquid: '#e8e07a',
        formats: ['can330', 'pet500'],
      },
      {
        flavour: 'orange',
        flavourText: 'ORANGE',
        body: '#ff8c1a',
        band: '#2e7d32',
        liquid: '#ff9a2e',
        formats: ['can330', 'pet500'],
      },
      {
        flavour: 'lime',
        flavourText: 'LIME',
        body: '#9ccc3c',
        band: '#2e7d32',
        liquid: '#cde67a',
        formats: ['can330'],
      },
      {
        flavour: 'grapefruit',
        flavourText: 'GRAPEFRUIT',
        body: '#f48fb1',
        band: '#2e7d32',
        liquid: '#f7b0b0',
        formats: ['can330'],
      },
    ],
  },
  {
    prefix: 'evf',
    name: 'Everfresh',
    own: false,
    logo: 'ring',
    accent: '#1565c0',
    cap: '#1565c0',
    text: '#0d47a1',
    lines: [
      {
        flavour: 'milk',
        flavourText: 'FRESH MILK',
        body: '#ffffff',
        band: '#1565c0',
        formats: ['carton250', 'carton1000'],
      },
      { flavour: 'milk-choco', flavourText: 'CHOCO MILK', body: '#ffffff', band: '#6d4c41', formats: ['carton250'] },
      {
        flavour: 'juice-apple',
        flavourText: 'APPLE',
        body: '#ffffff',
        band: '#7cb342',
        formats: ['carton250', 'carton1000'],
      },
      { flavour: 'juice-mango', flavourText: 'MANGO', body: '#ffffff', band: '#ffb300', formats: ['carton250'] },
      {
        flavour: 'coffee',
        flavourText: 'ICED COFFEE',
        body: '#4e342e',
        band: '#d7ccc8',
        text: '#ffffff',
        liquid: '#4e342e',
        formats: ['glass330'],
      },
    ],
  },
  {
    prefix: 'kdk',
    name: 'Kodiak',
    own: false,
    logo: 'bolt',
    accent: '#76ff03',
    cap: '#212121',
    text: '#76ff03',
    lines: [
      { flavour: 'energy', flavourText: 'ENERGY', body: '#212121', band: '#76ff03', formats: ['can250', 'can500'] },
      {
        flavour: 'energy-free',
        flavourText: 'SUGAR FREE',
        body: '#212121',
        band: '#00b0ff',
        formats: ['can250', 'can500'],
      },
    ],
  },
];

// Products a shop stocks that the catalog does not know. They appear in scenes as `__unknown__`,
// which is how a cooler loses "purity". Deliberately distinct colours and marks.
const FOREIGN_BRANDS: Brand[] = [
  {
    prefix: 'zz-moko',
    name: 'Moko',
    own: false,
    logo: 'diamond',
    accent: '#ffeb3b',
    cap: '#6a1b9a',
    text: '#ffeb3b',
    lines: [
      {
        flavour: 'grape',
        flavourText: 'GRAPE',
        body: '#6a1b9a',
        band: '#ab47bc',
        liquid: '#5e2a6e',
        formats: ['can330', 'pet500'],
      },
      {
        flavour: 'kvass',
        flavourText: 'KVASS',
        body: '#5d4037',
        band: '#ffca28',
        liquid: '#5d3a1a',
        formats: ['glass330', 'pet500'],
      },
    ],
  },
  {
    prefix: 'zz-tiko',
    name: 'Tiko',
    own: false,
    logo: 'ring',
    accent: '#00e5ff',
    cap: '#00838f',
    text: '#ffffff',
    lines: [
      {
        flavour: 'soda',
        flavourText: 'SODA',
        body: '#00838f',
        band: '#ff4081',
        liquid: '#b2ebf2',
        formats: ['can330', 'can500'],
      },
      {
        flavour: 'yogurt',
        flavourText: 'YOGURT',
        body: '#fce4ec',
        band: '#ec407a',
        text: '#880e4f',
        formats: ['carton250', 'carton1000'],
      },
    ],
  },
];

let catalogCache: CatalogEntry[] | undefined;
let foreignCache: CatalogEntry[] | undefined;

/** The product catalog, in a fixed order so COCO category ids are stable across exports. */
export function loadCatalog(): CatalogEntry[] {
  catalogCache ??= expandBrands(BRANDS);
  return catalogCache;
}

/** Products that exist in shops but not in the catalog; never listed in catalog.json. */
export function foreignProducts(): CatalogEntry[] {
  foreignCache ??= expandBrands(FOREIGN_BRANDS);
  return foreignCache;
}

export function catalogBrands(): { name: string; own: boolean }[] {
  return BRANDS.map((b) => ({ name: b.name, own: b.own }));
}

export function toCatalogJson(entries: CatalogEntry[]): CatalogJsonEntry[] {
  return entries.map((e) => ({
    sku: e.sku,
    brand: e.brand,
    own: e.own,
    name: e.name,
    pack: { ...e.pack },
  }));
}

const bySku = new Map<string, CatalogEntry>();
export function productBySku(sku: string): CatalogEntry | undefined {
  if (bySku.size === 0) for (const e of [...loadCatalog(), ...foreignProducts()]) bySku.set(e.sku, e);
  return bySku.get(sku) ?? syntheticProductBySku(sku);
}
