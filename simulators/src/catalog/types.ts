/** Physical container formats. Dimensions drive both the art and the fixture geometry. */
export type PackFormat = 'can330' | 'can250' | 'can500' | 'pet500' | 'glass330' | 'carton250' | 'carton1000';

export type LogoShape = 'circle' | 'star' | 'wave' | 'diamond' | 'leaf' | 'bolt' | 'ring';

export interface PackSpec {
  format: PackFormat;
  /** Front-view width and height in mm; depth is the footprint front-to-back. */
  widthMm: number;
  heightMm: number;
  depthMm: number;
  volumeMl: number;
}

export interface PackArt {
  /** Main body / print colour. */
  body: string;
  /** Label band colour (flavour colour for look-alike variants). */
  band: string;
  /** Colour of brand text. */
  text: string;
  accent: string;
  cap: string;
  /** PET / glass bottles: colour of the visible liquid or glass. */
  liquid: string;
  logo: LogoShape;
  brandText: string;
  flavourText: string;
}

export interface CatalogEntry {
  sku: string;
  brand: string;
  /** True for the brand that owns the coolers (our customer); false for competitors. */
  own: boolean;
  name: string;
  pack: PackSpec;
  art: PackArt;
}

/** What the dataset export and demo publish as catalog.json. */
export interface CatalogJsonEntry {
  sku: string;
  brand: string;
  own: boolean;
  name: string;
  pack: { format: PackFormat; widthMm: number; heightMm: number; depthMm: number; volumeMl: number };
}

export const EMPTY_CATEGORY = '__empty__';
export const UNKNOWN_CATEGORY = '__unknown__';
