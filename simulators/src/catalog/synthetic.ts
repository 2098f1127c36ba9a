import { Rng } from '../util/rng.js';
import { expandBrands, type Brand, type Line } from './brand.js';
import { ROW_FAMILIES } from './packs.js';
import type { CatalogEntry, LogoShape, PackFormat } from './types.js';

// Invented brands that exist only in training scenes (`sim dataset --extra-brands N`). An SKU
// embedder trained on the catalog's 44 SKUs alone learns those SKUs; one trained on hundreds of
// made-up packs more nearly learns what tells packs apart (band colour, flavour text, mark), which
// is what a SKU enrolled later from a few photos needs. They are never in catalog.json, and their
// SKUs start with `syn` so nothing can mistake them for catalog products.

const LOGOS: LogoShape[] = ['circle', 'star', 'wave', 'diamond', 'leaf', 'bolt', 'ring'];
const FLAVOURS = [
  'COLA',
  'LEMON',
  'ORANGE',
  'MANGO',
  'APPLE',
  'BERRY',
  'PEACH',
  'GRAPE',
  'LIME',
  'CHERRY',
  'MINT',
  'GINGER',
  'TONIC',
  'MELON',
  'GUAVA',
  'ZERO',
  'LIGHT',
  'CLASSIC',
  'TROPIC',
  'ENERGY',
  'ICE TEA',
  'PLUM',
  'KIWI',
  'YUZU',
];
const CONSONANTS = 'BDFGKLMNPRSTVZ';
const VOWELS = 'AEIOU';
export const SYNTHETIC_PREFIX = 'syn';
const SKU_PATTERN = new RegExp(`^${SYNTHETIC_PREFIX}(\\d{3})-`);

function hex(h: number, s: number, l: number): string {
  // HSL (degrees, 0-1, 0-1) to #rrggbb.
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(c * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

const colour = (rng: Rng) => hex(rng.range(0, 360), rng.range(0.35, 0.95), rng.range(0.12, 0.85));

function name(rng: Rng): string {
  let s = '';
  for (let k = rng.int(2, 3); k > 0; k--) s += rng.pick([...CONSONANTS]) + rng.pick([...VOWELS]);
  return s[0] + s.slice(1).toLowerCase();
}

/** Brand `index` is the same whatever else is drawn: it depends on its index alone. */
export function syntheticBrand(index: number): Brand {
  const rng = new Rng(`synthetic-brand|${index}`);
  const body = colour(rng);
  const lines: Line[] = [];
  const flavours = rng.shuffle([...FLAVOURS]);
  const nLines = rng.int(2, 4);
  for (let k = 0; k < nLines; k++) {
    // The first line covers a row family in turn, so any 7 brands stock every kind of shelf row.
    const family = k === 0 ? ROW_FAMILIES[index % ROW_FAMILIES.length]! : rng.pick(ROW_FAMILIES);
    const formats = rng.shuffle([...family]).slice(0, rng.int(1, family.length)) as PackFormat[];
    const flavourText = flavours[k]!;
    lines.push({
      flavour: flavourText.toLowerCase().replace(/\s+/g, '-'),
      flavourText,
      // Most brands keep one body colour and tell flavours apart by the band, like real ranges.
      body: rng.chance(0.6) ? body : colour(rng),
      band: colour(rng),
      liquid: colour(rng),
      formats,
    });
  }
  return {
    prefix: `${SYNTHETIC_PREFIX}${String(index).padStart(3, '0')}`,
    name: name(rng),
    own: false,
    logo: rng.pick(LOGOS),
    accent: colour(rng),
    cap: colour(rng),
    text: rng.pick(['#ffffff', '#111111', colour(rng)]),
    lines,
  };
}

const cache = new Map<number, CatalogEntry[]>();
function brandProducts(index: number): CatalogEntry[] {
  let list = cache.get(index);
  if (!list) {
    list = expandBrands([syntheticBrand(index)]);
    cache.set(index, list);
  }
  return list;
}

/** The products of the first `brands` invented brands. */
export function syntheticProducts(brands: number): CatalogEntry[] {
  return Array.from({ length: brands }, (_, i) => brandProducts(i)).flat();
}

/** An invented product by SKU (`syn007-mango-330c`), or undefined. */
export function syntheticProductBySku(sku: string): CatalogEntry | undefined {
  const m = SKU_PATTERN.exec(sku);
  return m ? brandProducts(Number(m[1])).find((e) => e.sku === sku) : undefined;
}
