import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SameDepthRule } from './nms.js';
import type { CounterConfig } from './recount.js';
import type { StackPrior } from './prior.js';

/** Contents of models/model.json: the one source of preprocessing constants for Python and TypeScript. */
export interface ModelConfig {
  name: string;
  version: string;
  /** Detector input (letterboxed) and the normalisation shared by both nets. */
  input: { width: number; height: number; pad: number; mean: [number, number, number]; std: [number, number, number] };
  /** Letterboxed image the crops are sampled from (finer than the detector input); defaults to `input`. */
  work?: { width: number; height: number };
  detector: {
    file: string;
    stride: number;
    classes: string[];
    scoreThreshold: number;
    /** Per-class score thresholds by class name, where a class needs its own (e.g. empty slots: D30). */
    classThresholds?: Record<string, number>;
    /** Score from which a cell beside a stronger one is a centre too (see decodeCenters); absent: peaks only. */
    shoulderThreshold?: number;
    nmsIou: number;
    /**
     * Products whose boxes overlap by at least `iou` and whose predicted depths (the detector's `depth`
     * output: packs in front of this one) differ by less than `gap` are one pack seen twice; the weaker
     * box goes; products a depth apart suppress each other only from `apartIou` (see nms). Absent: NMS by
     * `nmsIou` only.
     */
    depthSuppression?: SameDepthRule;
    maxDetections: number;
    /** Also run the detector on the mirrored frame and average the two sets of maps (D29). */
    flipTest?: boolean;
  };
  embedder: {
    file: string;
    sha256?: string;
    width: number;
    height: number;
    dim: number;
    cropPad: number;
    unknownThreshold: number;
    /** How readily a pack behind a front takes the front's SKU (prior.ts); absent: DEFAULT_STACK_PRIOR. */
    stackPrior?: StackPrior;
  };
  gallery: { file: string };
  /** Column counter for front views (recount.ts); absent: columns keep every box the detector gives. */
  counter?: CounterConfig;
  quality?: Partial<QualityThresholds>;
}

export interface QualityThresholds {
  /** Mean luma (0-1) below which a frame is too dark. */
  darkBelow: number;
  brightAbove: number;
  /** Standard deviation of luma (0-1) below which a frame has too little contrast. */
  contrastBelow: number;
  /** Mean absolute Laplacian (luma 0-255 units) below which a frame is blurred. */
  sharpnessBelow: number;
}

export const DEFAULT_QUALITY: QualityThresholds = {
  darkBelow: 0.15,
  brightAbove: 0.85,
  contrastBelow: 0.06,
  // Sensor noise keeps mean |Laplacian| at 8-22 on sharp and motion-blurred simulator frames alike, so this
  // only catches grossly defocused frames; a better blur cue is future work.
  sharpnessBelow: 4,
};

const positive = (v: unknown): boolean => typeof v === 'number' && v > 0;
const nonNegative = (v: unknown): boolean => typeof v === 'number' && v >= 0;
const inUnit = (v: unknown): boolean => typeof v === 'number' && v >= 0 && v <= 1;

function need(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`model.json: ${what}`);
}

/** Reads and sanity-checks model.json; a mismatched file must fail at load, not produce garbage boxes. */
export async function loadModelConfig(modelDir: string): Promise<ModelConfig> {
  const raw = JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8')) as ModelConfig;
  need(typeof raw.name === 'string' && typeof raw.version === 'string', 'name and version are required');
  need(raw.input?.width > 0 && raw.input?.height > 0, 'input.width/height must be positive');
  need(raw.input.mean?.length === 3 && raw.input.std?.length === 3, 'input.mean/std need 3 channels');
  need(raw.detector?.stride > 0 && raw.detector.classes?.length >= 2, 'detector.stride/classes');
  const shoulder = raw.detector.shoulderThreshold;
  need(
    shoulder === undefined || (typeof shoulder === 'number' && shoulder > 0 && shoulder <= 1),
    'detector.shoulderThreshold must be a number in (0, 1]',
  );
  const ds = raw.detector.depthSuppression;
  need(
    ds === undefined ||
      (typeof ds === 'object' &&
        ds !== null &&
        typeof ds.iou === 'number' &&
        ds.iou > 0 &&
        ds.iou <= 1 &&
        typeof ds.gap === 'number' &&
        ds.gap > 0 &&
        (ds.apartIou === undefined || (typeof ds.apartIou === 'number' && ds.apartIou > 0 && ds.apartIou <= 1))),
    'detector.depthSuppression must be {iou in (0, 1], gap > 0, apartIou? in (0, 1]}',
  );
  const ct = raw.detector.classThresholds;
  need(
    ct === undefined ||
      (typeof ct === 'object' &&
        ct !== null &&
        !Array.isArray(ct) &&
        Object.entries(ct).every(
          ([k, v]) => raw.detector.classes.includes(k) && typeof v === 'number' && v > 0 && v <= 1,
        )),
    `detector.classThresholds must map class names (${raw.detector.classes.join(', ')}) to numbers in (0, 1]`,
  );
  const flip = raw.detector.flipTest;
  need(flip === undefined || typeof flip === 'boolean', 'detector.flipTest must be true or false');
  // Mirrored maps line up cell for cell only when the input width is a whole number of cells.
  need(!flip || raw.input.width % raw.detector.stride === 0, 'detector.flipTest needs input.width divisible by stride');
  need(raw.embedder?.width > 0 && raw.embedder.height > 0 && raw.embedder.dim > 0, 'embedder size/dim');
  const sp = raw.embedder.stackPrior;
  need(
    sp === undefined || (typeof sp === 'object' && sp !== null && nonNegative(sp.margin) && nonNegative(sp.slack)),
    'embedder.stackPrior must be {margin >= 0, slack >= 0}',
  );
  const cc = raw.counter;
  need(
    cc === undefined ||
      (typeof cc === 'object' &&
        cc !== null &&
        typeof cc.file === 'string' &&
        positive(cc.width) &&
        positive(cc.height) &&
        Number.isInteger(cc.classes) &&
        cc.classes >= 2 &&
        inUnit(cc.minConfidence) &&
        ['left', 'up', 'width', 'height'].every(
          (k) => typeof cc.region?.[k as keyof CounterConfig['region']] === 'number',
        ) &&
        positive(cc.region.width) &&
        positive(cc.region.height)),
    'counter must be {file, width > 0, height > 0, classes >= 2, minConfidence in [0, 1], region {left, up, width > 0, height > 0}}',
  );
  const unsure = cc?.unsure;
  need(
    unsure === undefined ||
      (typeof unsure === 'object' && unsure !== null && inUnit(unsure.dropBelow) && inUnit(unsure.addFrom)),
    'counter.unsure must be {dropBelow in [0, 1], addFrom in [0, 1]}',
  );
  need(cc?.boxOutput === undefined || typeof cc.boxOutput === 'boolean', 'counter.boxOutput must be true or false');
  const back = cc?.backBoxes;
  need(
    back === undefined ||
      (Array.isArray(back) &&
        back.length < cc!.classes &&
        back.every(
          (b) =>
            typeof b === 'object' &&
            b !== null &&
            Number.isFinite(b.dx) &&
            Number.isFinite(b.dy) &&
            positive(b.w) &&
            positive(b.h) &&
            (b.dxPerX === undefined || Number.isFinite(b.dxPerX)),
        )),
    'counter.backBoxes must be a list of {dx, dy, w > 0, h > 0, dxPerX?}, at most classes - 1 long (one per pack behind the front)',
  );
  return raw;
}

/**
 * Every file a model folder needs, by the names its model.json gives (model.json first). An update
 * must bring them all, and a gallery update keeps all but the gallery.
 */
export function modelFileNames(cfg: ModelConfig): string[] {
  return [
    'model.json',
    cfg.detector.file,
    cfg.embedder.file,
    cfg.gallery.file,
    ...(cfg.counter ? [cfg.counter.file] : []),
  ];
}
