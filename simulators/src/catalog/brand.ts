import { PACKS, formatSuffix } from './packs.js';
import type { CatalogEntry, LogoShape, PackFormat } from './types.js';

export interface Line {
  flavour: string;
  flavourText: string;
  /** Body and band colours; variants of one brand often share `body` and differ only in `band`. */
  body: string;
  band: string;
  text?: string;
  liquid?: string;
  formats: PackFormat[];
}

export interface Brand {
  prefix: string;
  name: string;
  own: boolean;
  logo: LogoShape;
  accent: string;
  cap: string;
  text: string;
  lines: Line[];
}

/** One catalog entry per brand line and format: SKU `<prefix>-<flavour>-<volume><kind>`. */
export function expandBrands(brands: Brand[]): CatalogEntry[] {
  const out: CatalogEntry[] = [];
  for (const b of brands) {
    for (const l of b.lines) {
      for (const f of l.formats) {
        const pack = PACKS[f];
        out.push({
          sku: `${b.prefix}-${l.flavour}-${formatSuffix(f)}`,
          brand: b.name,
          own: b.own,
          name: `${b.name} ${l.flavourText.toLowerCase().replace(/\b\w/g, (c) => c.toUpperCase())} ${pack.volumeMl} ml ${f.replace(/\d+/, '')}`,
          pack,
          art: {
            body: l.body,
            band: l.band,
            text: l.text ?? b.text,
            accent: b.accent,
            cap: b.cap,
            liquid: l.liquid ?? l.body,
            logo: b.logo,
            brandText: b.name.toUpperCase(),
            flavourText: l.flavourText,
          },
        });
      }
    }
  }
  return out;
}
