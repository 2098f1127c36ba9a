export type { Recognition, RecognitionStages, RecognizeOptions, Recognizer, RecognizerOptions } from './types.js';
export { loadRecognizer } from './recognizer.js';
export { ImageDecodeError } from './image.js';
export { loadModelConfig, type ModelConfig, type QualityThresholds } from './config.js';
export { letterboxParams, toNormalised, type Box, type Letterbox } from './letterbox.js';
export { nms, iou, intersection, type Candidate } from './nms.js';
export { decodeCenters } from './decode.js';
export { coverOf, groupRows, layOut, placeBoxes, stackFronts, type Placed, type View } from './layout.js';
export {
  buildGallery,
  loadGallery,
  matchEmbeddings,
  type Gallery,
  type GalleryEntry,
  type GalleryFile,
  type Match,
} from './gallery.js';
export { imageStats, qualityFlags } from './quality.js';
export { summarise } from './summarise.js';
export {
  enrollSku,
  enrollIntoGallery,
  withEntry,
  nextGalleryVersion,
  nearestSkus,
  checkGalleryMatchesModel,
  EnrollError,
  MAX_ENROLL_SHOTS,
  type EnrollShot,
  type EnrollResult,
  type Neighbour,
} from './enroll.js';
export { decodeLetterboxed } from './image.js';
