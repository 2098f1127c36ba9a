import { renderScene, type RenderedScene } from '../render/scene.js';
import type { Difficulty } from '../perturb/params.js';
import { marketPlanogram, marketStock, type FixtureSnapshot } from './scene.js';
import type { FixtureMaster } from './types.js';

/** Renders what a fixture's camera saw at a capture (exact truth in `truth`). */
export const renderMarketCapture = (
  fixture: Pick<FixtureMaster, 'kind' | 'positions'>,
  snap: FixtureSnapshot,
  seed: number,
  difficulty: Difficulty = 'default',
): Promise<RenderedScene> => {
  const planogram = marketPlanogram(fixture);
  return renderScene({ planogram, stock: marketStock(planogram, snap), seed, difficulty });
};
