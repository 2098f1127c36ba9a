import type { Detection, ImageInfo, ModelRef, SkuCount } from '@shelfsight/protocol';
import type { Logger } from 'pino';
import type { View } from './layout.js';

/** What recognition makes of one frame: everything an observation carries about the image. */
export interface Recognition {
  image: ImageInfo;
  skus: SkuCount[];
  emptyFacings: number;
  unknownProducts: number;
  detections: Detection[];
  /** Wall time of decode + detect + identify + facings, in milliseconds. */
  inferenceMs: number;
  /** Where inferenceMs went, in milliseconds (they add up to it). */
  stagesMs: RecognitionStages;
  /**
   * With RecognizeOptions.identities: per detection (same order), the embedder's nearest gallery SKU
   * and its cosine similarity before any threshold; undefined for empty slots and added packs.
   */
  identities?: ({ sku: string; similarity: number } | undefined)[];
}

export interface RecognitionStages {
  /** Image decode, letterbox, the detector's input and the frame-quality statistics. */
  decode: number;
  /** Detector passes (both with the flip test), peak picking, NMS and the shelf layout. */
  detect: number;
  /** The column counter's pass and its corrections (0 without a counter, or in a top view). */
  count: number;
  /** Crops, the embedder, gallery matching, SKU assignment and the per-SKU counts and facings. */
  identify: number;
}

export interface RecognizerOptions {
  /** Folder holding model.json and the files it names (detector.onnx, embedder.onnx, counter.onnx, gallery.json). */
  modelDir: string;
  /** onnxruntime intra-op threads; 1 is fastest on small devices (see docs/decisions.md). */
  intraOpNumThreads?: number;
  /** Overrides model.json embedder.unknownThreshold (cosine below which a product is `unknown`). */
  unknownThreshold?: number;
  /** Overrides model.json detector.scoreThreshold and classThresholds: one threshold for every class. */
  scoreThreshold?: number;
  /** Parent logger; defaults to a module pino logger. */
  logger?: Logger;
}

/** Per-frame facts about the camera that the layout step needs. */
export interface RecognizeOptions {
  /** How the camera sees the fixture (see layout.ts): `front` unless it looks down into a chest cooler. */
  view?: View;
  /** Also return each detection's nearest SKU and similarity (Recognition.identities), for calibration. */
  identities?: boolean;
}

export interface Recognizer {
  readonly model: ModelRef;
  readonly gallery: ModelRef;
  /** Runs the full pipeline on an encoded image (JPEG or PNG). One call at a time per recognizer. */
  recognize(image: Buffer, opts?: RecognizeOptions): Promise<Recognition>;
  close(): Promise<void>;
}
