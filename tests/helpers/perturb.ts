import type { PerturbParams } from '@shelfsight/simulators';

/** A frame with no perturbation at all: nominal exposure, no glare, blur, noise, bars, lens or hand. */
export const CLEAN_PERTURB: PerturbParams = {
  exposure: 1,
  whiteBalance: [1, 1, 1],
  glare: [],
  haze: 0,
  motionBlurPx: 1,
  noiseSd: 0,
  jpegQuality: 95,
  doorBars: [],
  lens: null,
  hand: null,
};
