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
  /** Door frame / mullion bars in front of the shelves: x and width in px. Occludes packs. */
  doorBars: { x: number; w: number }[];
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
  },
};

export function samplePerturb(rng: Rng, difficulty: Difficulty, width: number, height: number): PerturbParams {
  const k = KNOBS[difficulty];
  const glare: PerturbParams['glare'] = [];
  if (rng.chance(k.glareP)) {
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
    doorBars.push({ x: Math.round(rng.range(0.25, 0.75) * width - w / 2), w });
  }
  return {
    exposure: rng.range(...k.exposure),
    whiteBalance: [1 + rng.range(-k.wb, k.wb), 1 + rng.range(-k.wb, k.wb) / 2, 1 + rng.range(-k.wb, k.wb)],
    glare,
    haze: rng.chance(k.hazeP) ? rng.range(...k.haze) : 0,
    motionBlurPx: rng.chance(k.blurP) ? Math.round(rng.range(...k.blur)) : 1,
    noiseSd: rng.range(...k.noise),
    jpegQuality: Math.round(rng.range(...k.jpeg)),
    doorBars,
  };
}
