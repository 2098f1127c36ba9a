import type { FixtureKind } from '../fixtures/types.js';
import { quantiseLens, type LensParams } from '../render/lens.js';
import type { Rng } from '../util/rng.js';

export type Difficulty = 'easy' | 'default' | 'hard';

/** Everything that degrades a frame without changing what is on the shelf. Recorded in truth. */
export interface PerturbParams {
  /** Overall gain (1 = nominal exposure). */
  exposure: number;
  /** Per-channel gains for white balance (multiplied with exposure). */
  whiteBalance: [number, number, number];
  /** Specular reflections on the glass door: centre, radii (px) and peak opacity. */
  glare: { cx: number; cy: number; rx: number; ry: number; opacity: number }[];
  /** Condensation: opacity of a blotchy white veil, 0 = none. */
  haze: number;
  /** Horizontal motion blur length in px (1 = none). */
  motionBlurPx: number;
  /** Sensor noise standard deviation in 8-bit levels. */
  noiseSd: number;
  jpegQuality: number;
  /**
   * Door frame / mullion bars in front of the shelves (chest: the frame where the sliding glass lids
   * overlap): x and width in px. Occludes packs.
   */
  doorBars: { x: number; w: number }[];
  /** Wide-angle lens (Brown–Conrady k1/k2 barrel distortion, see render/lens.ts); null = pinhole. */
  lens?: LensParams | null;
  /** A shopper's hand and arm reaching in, in front of everything; null = none. */
  hand?: HandParams | null;
}

export interface HandParams {
  /** Fingertip position (px, pinhole image). */
  x: number;
  y: number;
  /** Direction from the fingertips towards the shoulder, degrees (0 = +x, 90 = down). */
  angleDeg: number;
  /** Hand width in px. */
  widthPx: number;
  skin: string;
  sleeve: string;
}

interface Knob {
  exposure: [number, number];
  wb: number;
  glareP: number;
  glareMax: number;
  glareOpacity: [number, number];
  hazeP: number;
  haze: [number, number];
  blurP: number;
  blur: [number, number];
  noise: [number, number];
  jpeg: [number, number];
  barP: number;
  /** Lens k1 range (barrel, negative) and extra k2 above the monotonicity floor 0.45·k1². */
  k1: [number, number];
  k2Extra: [number, number];
  handP: number;
}

// `default` is a cheap camera that works; `hard` is a fogged, glaring door at dusk.
const KNOBS: Record<Difficulty, Knob> = {
  easy: {
    exposure: [0.95, 1.05],
    wb: 0.02,
    glareP: 0,
    glareMax: 0,
    glareOpacity: [0, 0],
    hazeP: 0,
    haze: [0, 0],
    blurP: 0,
    blur: [1, 1],
    noise: [0, 2],
    jpeg: [90, 95],
    barP: 0,
    k1: [-0.12, -0.06],
    k2Extra: [0, 0.01],
    handP: 0,
  },
  default: {
    exposure: [0.8, 1.2],
    wb: 0.07,
    glareP: 0.5,
    glareMax: 2,
    glareOpacity: [0.15, 0.45],
    hazeP: 0.3,
    haze: [0.05, 0.18],
    blurP: 0.2,
    blur: [2, 5],
    noise: [1, 5],
    jpeg: [70, 90],
    barP: 0.3,
    k1: [-0.21, -0.09],
    k2Extra: [0, 0.02],
    handP: 0.05,
  },
  hard: {
    exposure: [0.5, 1.5],
    wb: 0.15,
    glareP: 0.9,
    glareMax: 4,
    glareOpacity: [0.35, 0.8],
    hazeP: 0.7,
    haze: [0.15, 0.45],
    blurP: 0.5,
    blur: [3, 13],
    noise: [4, 12],
    jpeg: [35, 75],
    barP: 0.7,
    k1: [-0.3, -0.18],
    k2Extra: [0, 0.02],
    handP: 0.4,
  },
};

/** Lens strength per fixture: the upright door camera is the wide-angle one. */
const LENS_STRENGTH: Record<FixtureKind, number> = { upright: 1, chest: 0.6, shelf: 0.5 };
const SKIN = ['#f1c7a5', '#e0ac84', '#c68a62', '#a86f4c', '#8a5636', '#f5d3b8'];
const SLEEVE = ['#243b55', '#3a3a3a', '#7b1e1e', '#2e5e3e', '#c9c9c9', '#5a4a8a', '#d08a2c'];

export function samplePerturb(
  rng: Rng,
  difficulty: Difficulty,
  width: number,
  height: number,
  fixture: FixtureKind = 'upright',
): PerturbParams {
  const k = KNOBS[difficulty];
  // Chest coolers are shot through a glass lid under shop lights: more and bigger reflections.
  const glareP = fixture === 'chest' && k.glareP > 0 ? Math.min(1, k.glareP + 0.3) : k.glareP;
  const glare: PerturbParams['glare'] = [];
  if (rng.chance(glareP)) {
    const n = rng.int(1, k.glareMax);
    for (let i = 0; i < n; i++) {
      glare.push({
        cx: Math.round(rng.range(0.1, 0.9) * width),
        cy: Math.round(rng.range(0.1, 0.9) * height),
        rx: Math.round(rng.range(40, 180)),
        ry: Math.round(rng.range(80, 320)),
        opacity: rng.range(...k.glareOpacity),
      });
    }
  }
  const doorBars: PerturbParams['doorBars'] = [];
  if (rng.chance(k.barP)) {
    const w = Math.round(rng.range(18, 46));
    // The chest's lid-overlap frame runs near the middle; an upright's mullion anywhere.
    const at = fixture === 'chest' ? rng.range(0.42, 0.58) : rng.range(0.25, 0.75);
    doorBars.push({ x: Math.round(at * width - w / 2), w });
  }
  const base = {
    exposure: rng.range(...k.exposure),
    whiteBalance: [1 + rng.range(-k.wb, k.wb), 1 + rng.range(-k.wb, k.wb) / 2, 1 + rng.range(-k.wb, k.wb)] as [
      number,
      number,
      number,
    ],
    glare,
    haze: rng.chance(k.hazeP) ? rng.range(...k.haze) : 0,
    motionBlurPx: rng.chance(k.blurP) ? Math.round(rng.range(...k.blur)) : 1,
    noiseSd: rng.range(...k.noise),
    jpegQuality: Math.round(rng.range(...k.jpeg)),
    doorBars,
  };
  // Lens and hand draw from their own stream so the knobs above keep their values.
  const x = rng.fork('lens+hand');
  const lens = quantiseLens(x.range(...k.k1) * LENS_STRENGTH[fixture], x.range(...k.k2Extra));
  let hand: HandParams | null = null;
  if (x.chance(k.handP)) {
    // Arms come from the bottom (most often) or a side, fingertips somewhere over the products.
    const from = x.weighted(['bottom', 'left', 'right'] as const, (f) => (f === 'bottom' ? 3 : 1));
    const base = from === 'bottom' ? 90 : from === 'left' ? 180 : 0;
    hand = {
      x: Math.round(x.range(0.2, 0.8) * width),
      y: Math.round(x.range(0.3, 0.8) * height),
      angleDeg: Math.round(base + x.range(-35, 35)),
      widthPx: Math.round(x.range(90, 150)),
      skin: x.pick(SKIN),
      sleeve: x.pick(SLEEVE),
    };
  }
  return { ...base, lens: lens.k1 === 0 ? null : lens, hand };
}
