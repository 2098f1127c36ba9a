import type { Planogram } from '../fixtures/types.js';
import type { PerturbParams } from '../perturb/params.js';
import type { ComposeLayer } from './compose.js';
import type { Sprite } from './sprites.js';

export type Box = [x: number, y: number, w: number, h: number];

export type Pose = 'upright' | 'tilted' | 'toppled';

export interface TruthObject {
  /** `product` is a catalog SKU, `unknown` a product not in the catalog, `empty` a sold-out slot. */
  kind: 'product' | 'unknown' | 'empty';
  /** COCO category name: the SKU, `__unknown__` or `__empty__`. */
  category: string;
  /** The real SKU, also for foreign products (never shown to recognition). */
  sku: string | null;
  /** Planned SKU of this column. */
  plannedSku: string;
  /** Shelf row, 0 = top (chest: basket row, 0 = far side). */
  row: number;
  /** Column (facing index), 0 = left. */
  column: number;
  /** Position front to back, 0 = at the shelf front (chest: stack position, 0 = top-most). */
  depth: number;
  /** Front-most (chest: top-most) product of its column: what counts as a facing. */
  facing: boolean;
  /** `tilted` leans in the image plane, `toppled` lies on its side (front fixtures only). */
  pose: Pose;
  /** In-image-plane rotation of the pack art, degrees (chest: the item's in-plane orientation). */
  rotationDeg: number;
  /** Visible part of the object in final-image pixels (what a detector can see), after the lens. */
  bbox: Box;
  /** Whole object as if nothing were in front of it, after the lens. */
  amodalBbox: Box;
  /** Fraction of the object's opaque pixels hidden by nearer packs, shelf edges, bars and hands. */
  occlusion: number;
  /** False when fully hidden (kept so stock counts stay complete; excluded from COCO). */
  visible: boolean;
}

export interface SceneTruth {
  width: number;
  height: number;
  fixture: Planogram['fixture'];
  rows: number;
  cols: number;
  planogram: Planogram;
  objects: TruthObject[];
  perturb: PerturbParams;
}

/** Where an object's pixels come from in the pinhole image, for exact truth after the lens. */
export type ObjectShape =
  | { kind: 'sprite'; sprite: Sprite; left: number; top: number }
  | { kind: 'rect'; x: number; y: number; w: number; h: number };

/** A fixture renderer's output: opaque RGB background, layers in draw order, truth per object. */
export interface BuiltScene {
  width: number;
  height: number;
  cols: number;
  background: Sprite;
  layers: ComposeLayer[];
  objects: TruthObject[];
  /** shapes[i] belongs to objects[i]. */
  shapes: ObjectShape[];
}
