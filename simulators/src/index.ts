export * from './catalog/types.js';
export { loadCatalog, foreignProducts, productBySku, toCatalogJson, catalogBrands } from './catalog/catalog.js';
export { PACKS } from './catalog/packs.js';
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
  type SceneSpec,
  type SceneTruth,
  type TruthObject,
  type RenderedScene,
  type Box,
} from './render/scene.js';
export type { Difficulty, PerturbParams } from './perturb/params.js';
export { Rng } from './util/rng.js';
export {
  exportDataset,
  cocoCategories,
  renderDatasetScene,
  type CocoDataset,
  type CocoAnnotation,
  type DatasetOptions,
} from './dataset/export.js';
export { exportCatalog } from './dataset/catalogExport.js';
export * from './cameras/index.js';
