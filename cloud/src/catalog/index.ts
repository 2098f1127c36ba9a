export {
  CatalogService,
  CatalogError,
  type CatalogOptions,
  type ReferenceImage,
  type GalleryChange,
} from './service.js';
export { createCatalogRouter } from './router.js';
