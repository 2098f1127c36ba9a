export * from './catalog/types.js';
export { loadCatalog, foreignProducts, productBySku, toCatalogJson, catalogBrands } from './catalog/catalog.js';
export { PACKS, ROW_FAMILIES } from './catalog/packs.js';
export { syntheticProducts, syntheticBrand } from './catalog/synthetic.js';
export { packPng } from './render/sprites.js';
export * from './fixtures/types.js';
export { fixtureGeometry, IMAGE_WIDTH, IMAGE_HEIGHT } from './fixtures/geometry.js';
export {
  makePlanogram,
  makeStock,
  fullStock,
  DEFAULT_STOCK,
  type PlanogramOptions,
  type StockOptions,
} from './fixtures/planogram.js';
export {
  renderScene,
  POSE_RATES,
  type PoseRates,
  type Pose,
  type SceneSpec,
  type SceneTruth,
  type TruthObject,
  type RenderedScene,
  type Box,
} from './render/scene.js';
export { samplePerturb, type Difficulty, type PerturbParams, type HandParams } from './perturb/params.js';
export {
  lensMap,
  distortPoint,
  quantiseLens,
  remapRgb,
  remapOwner,
  nearestSource,
  type LensMap,
  type LensParams,
} from './render/lens.js';
export { chestGeometry, type ChestGeometry } from './fixtures/chest.js';
export { Rng } from './util/rng.js';
export {
  exportDataset,
  currentDataset,
  cocoCategories,
  renderDatasetScene,
  imageSetup,
  FIXTURE_MIX,
  DIFFICULTY_MIX,
  type FixtureChoice,
  type DifficultyChoice,
  type DatasetProgress,
  type CocoImage,
  type CocoDataset,
  type CocoAnnotation,
  type DatasetOptions,
} from './dataset/export.js';
export { exportCatalog } from './dataset/catalogExport.js';
export * from './cameras/index.js';
