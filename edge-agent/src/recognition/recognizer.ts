import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { Detection } from '@shelfsight/protocol';
import { DEFAULT_QUALITY, loadModelConfig } from './config.js';
import { decodeCenters } from './decode.js';
import { mergeMirrored } from './flip.js';
import { loadGallery } from './gallery.js';
import { assignSkus, bestPerRow, DEFAULT_STACK_PRIOR, similarityMatrix } from './prior.js';
import { applySizeEvidence } from './size.js';
import { layOut } from './layout.js';
import {
  columnsOf,
  counterRegion,
  missingBoxes,
  readPlaces,
  readCount,
  surplusBoxes,
  type BackBox,
  type CounterConfig,
  type MissingPack,
} from './recount.js';
import { toNormalised, type Box } from './letterbox.js';
import { decodeLetterboxed, resizeRgb } from './image.js';
import { nms } from './nms.js';
import { cropInto, expandBox, toChw, type RgbImage } from './preprocess.js';
import { imageStats, qualityFlags } from './quality.js';
import { round, summarise } from './summarise.js';
import type { Recognition, RecognizeOptions, Recognizer, RecognizerOptions } from './types.js';
import { logger as defaultLogger } from './log.js';

/** An added pack whose box, clipped to the image, is thinner than this share of it is not reported. */
const MIN_ADDED_SIDE = 0.002;

/** Loads detector, embedder, gallery and constants from `opts.modelDir` and returns a ready pipeline. */
export async function loadRecognizer(opts: RecognizerOptions): Promise<Recognizer> {
  const log = opts.logger ?? defaultLogger;
  const cfg = await loadModelConfig(opts.modelDir);
  const gallery = await loadGallery(join(opts.modelDir, cfg.gallery.file));
  if (gallery.dim !== cfg.embedder.dim)
    throw new Error(`gallery dim ${gallery.dim} does not match embedder dim ${cfg.embedder.dim}`);
  const sessionOpts: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: opts.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const detector = await ort.InferenceSession.create(join(opts.modelDir, cfg.detector.file), sessionOpts);
  const embedder = await ort.InferenceSession.create(join(opts.modelDir, cfg.embedder.file), sessionOpts);
  const counter =
    cfg.counter && (await ort.InferenceSession.create(join(opts.modelDir, cfg.counter.file), sessionOpts));
  if (counter && cfg.counter?.boxOutput && !counter.outputNames.includes('boxes'))
    throw new Error(`${cfg.counter.file} has no output "boxes", but model.json says counter.boxOutput: true`);
  const quality = { ...DEFAULT_QUALITY, ...cfg.quality };
  const unknownThreshold = opts.unknownThreshold ?? cfg.embedder.unknownThreshold;
  // A configured threshold (the cloud's or --score-threshold) is one threshold for every class.
  const scoreThreshold =
    opts.scoreThreshold ??
    cfg.detector.classes.map((name) => cfg.detector.classThresholds?.[name] ?? cfg.detector.scoreThreshold);
  const { width: IW, height: IH, mean, std, pad } = cfg.input;
  const { width: WW, height: WH } = cfg.work ?? cfg.input;
  const emptyCls = cfg.detector.classes.indexOf('empty');
  const productCls = cfg.detector.classes.indexOf('product');
  const depthSuppression = cfg.detector.depthSuppression;
  if (depthSuppression && !detector.outputNames.includes('depth'))
    throw new Error(`model.json asks for detector.depthSuppression but ${cfg.detector.file} has no depth output`);
  const detInput = new Float32Array(3 * IW * IH);
  const mirrorInput = cfg.detector.flipTest ? new Float32Array(3 * IW * IH) : undefined;
  // Crop batches are megabytes per frame; kept between frames so the agent does not churn the heap.
  const counterCrops = reusable();
  const embedderCrops = reusable();
  const numClasses = cfg.detector.classes.length;
  const gridW = Math.floor(IW / cfg.detector.stride);
  const gridH = Math.floor(IH / cfg.detector.stride);
  log.info(
    {
      model: `${cfg.name}@${cfg.version}`,
      gallery: gallery.version,
      skus: new Set(gallery.skus).size,
      prototypes: gallery.skus.length,
      input: [IW, IH],
    },
    'recognizer loaded',
  );

  /** Detector maps for the frame in detInput; with flipTest, averaged with those of mirrorInput (its mirror). */
  async function detect(): Promise<{ heat: Float32Array; reg: Float32Array; depth?: Float32Array }> {
    const run = async (input: Float32Array) => {
      const out = await detector.run({ images: new ort.Tensor('float32', input, [1, 3, IH, IW]) });
      return {
        heat: out.heat!.data as Float32Array,
        reg: out.reg!.data as Float32Array,
        depth: out.depth?.data as Float32Array | undefined,
      };
    };
    const direct = await run(detInput);
    if (!mirrorInput) return direct;
    const mirrored = await run(mirrorInput);
    return {
      heat: mergeMirrored(direct.heat, mirrored.heat, numClasses, gridH, gridW),
      reg: mergeMirrored(direct.reg, mirrored.reg, 4, gridH, gridW, 0),
      depth: direct.depth && mirrored.depth && mergeMirrored(direct.depth, mirrored.depth, 1, gridH, gridW),
    };
  }

  /** Boxes the column counter finds surplus, and packs it finds missing: see recount.ts. */
  async function recountColumns(
    net: ort.InferenceSession,
    cc: CounterConfig,
    work: RgbImage,
    kept: readonly { cls: number; score: number; box: Box }[],
    fronts: readonly number[],
    centreX: readonly number[],
  ): Promise<{ drop: Set<number>; add: MissingPack[] }> {
    const back = cc.backBoxes ?? [];
    const canAdd = back.length > 0 || cc.boxOutput === true;
    // A column of one box has nothing to drop; where no pack can be placed it is not looked at.
    const columns = columnsOf(
      fronts,
      kept.map((c) => c.cls !== emptyCls),
    ).filter((c) => c.behind.length > 0 || canAdd);
    if (columns.length === 0) return { drop: new Set(), add: [] };
    const size = 3 * cc.width * cc.height;
    const crops = counterCrops(columns.length * size);
    columns.forEach((c, k) =>
      cropInto(work, counterRegion(kept[c.front]!.box, cc.region), cc.width, cc.height, mean, std, crops, k * size),
    );
    const out = await net.run({ crops: new ort.Tensor('float32', crops, [columns.length, 3, cc.height, cc.width]) });
    const logits = out.logits!.data as Float32Array;
    if (logits.length !== columns.length * cc.classes) throw new Error('counter output has unexpected size');
    const counts = columns.map((_, k) => readCount(logits, k * cc.classes, cc.classes));
    let places: BackBox[][] | undefined;
    if (cc.boxOutput) {
      const b = out.boxes!.data as Float32Array;
      if (b.length !== columns.length * (cc.classes - 1) * 4)
        throw new Error('counter boxes output has unexpected size');
      places = columns.map((_, k) => readPlaces(b, k, cc.classes));
    }
    return {
      drop: surplusBoxes(
        columns,
        counts,
        kept.map((c) => c.score),
        cc,
      ),
      add: missingBoxes(
        columns,
        counts,
        kept.map((c) => c.box),
        back,
        { minConfidence: cc.minConfidence, addFrom: cc.unsure?.addFrom, centreX, places },
      ),
    };
  }

  async function recognize(image: Buffer, opts: RecognizeOptions = {}): Promise<Recognition> {
    const view = opts.view ?? 'front';
    const t0 = performance.now();
    const { image: work, letterbox: lb, srcWidth: srcW, srcHeight: srcH } = await decodeLetterboxed(image, WW, WH, pad);
    const img = await resizeRgb(work, IW, IH);
    const kx = IW / WW;
    const ky = IH / WH;

    const stats = imageStats(
      img,
      Math.round(lb.padLeft * kx),
      Math.round(lb.padTop * ky),
      Math.round(lb.width * kx),
      Math.round(lb.height * ky),
    );
    const flags = qualityFlags(stats, quality);

    toChw(img, mean, std, detInput, mirrorInput);
    const t1 = performance.now();
    const { heat, reg, depth } = await detect();
    const cands = decodeCenters(heat, reg, numClasses, gridH, gridW, cfg.detector.stride, {
      threshold: scoreThreshold,
      shoulder: cfg.detector.shoulderThreshold,
      depth: depthSuppression ? depth : undefined,
      depthClass: productCls,
    });
    // `inferredFrom`: a pack the column counter added behind that front (no box of the detector's).
    let kept: { cls: number; score: number; box: Box; depth?: number; inferredFrom?: number }[] = nms(
      cands,
      cfg.detector.nmsIou,
      cfg.detector.maxDetections,
      depthSuppression,
    )
      .filter((c) => c.box[2] > 1 && c.box[3] > 1)
      // From detector-input to work pixels, where crops are taken and the letterbox is defined.
      .map((c) => ({ ...c, box: [c.box[0] / kx, c.box[1] / ky, c.box[2] / kx, c.box[3] / ky] as Box }));
    let boxes: Box[] = kept.map((c) => toNormalised(c.box, lb, srcW, srcH));
    let layout = layOut(boxes, view);
    const t2 = performance.now();
    if (counter && cfg.counter && view === 'front') {
      const centreX = boxes.map((b) => b[0] + b[2] / 2);
      const { drop, add } = await recountColumns(counter, cfg.counter, work, kept, layout.fronts, centreX);
      if (drop.size > 0 || add.length > 0) {
        // The layout stands as it was: only boxes behind a front go, and laying out again could turn a
        // pack whose in-front link ran through a dropped box into a facing.
        let next = 0;
        const renumbered = kept.map((_, i) => (drop.has(i) ? -1 : next++));
        const stays = (_: unknown, i: number) => !drop.has(i);
        kept = kept.filter(stays);
        boxes = boxes.filter(stays);
        const placed = layout.placed;
        layout = {
          placed: placed.filter(stays),
          fronts: layout.fronts.filter(stays).map((f) => renumbered[f]!),
        };
        for (const a of add) {
          const box = toNormalised(a.box, lb, srcW, srcH);
          if (box[2] < MIN_ADDED_SIDE || box[3] < MIN_ADDED_SIDE) continue; // off the image
          const front = renumbered[a.front]!;
          // Half the counter's certainty: no detector box backs the pack, so it ranks below seen ones.
          kept.push({ cls: productCls, score: a.p / 2, box: a.box, depth: a.k, inferredFrom: front });
          boxes.push(box);
          layout.placed.push({ ...placed[a.front]!, facing: false });
          layout.fronts.push(front);
        }
      }
    }

    const t3 = performance.now();
    // One embedder run for all product crops: per-call overhead dominates for tiny batches. A pack
    // the counter added shows only as a sliver behind its front and takes the front's identity.
    const products = kept.filter((c) => c.cls !== emptyCls && c.inferredFrom === undefined);
    const { width: EW, height: EH, dim } = cfg.embedder;
    let sims: Float32Array = new Float32Array(0);
    if (products.length > 0) {
      const crops = embedderCrops(products.length * 3 * EW * EH);
      products.forEach((p, i) =>
        cropInto(work, expandBox(p.box, cfg.embedder.cropPad), EW, EH, mean, std, crops, i * 3 * EW * EH),
      );
      const embOut = await embedder.run({ crops: new ort.Tensor('float32', crops, [products.length, 3, EH, EW]) });
      const emb = embOut.embeddings!.data as Float32Array;
      if (emb.length !== products.length * dim) throw new Error('embedder output has unexpected size');
      sims = similarityMatrix(emb, gallery);
    }

    const placed = layout.placed;
    // Stack fronts among product crops only (an empty slot is never in front of a pack).
    const productIdx = kept
      .map((c, i) => (c.cls === emptyCls || c.inferredFrom !== undefined ? -1 : i))
      .filter((i) => i >= 0);
    const rowOf = new Map(productIdx.map((i, r) => [i, r]));
    const fronts = layout.fronts.map((f) => rowOf.get(f) ?? -1);
    // Seen from the front, a shelf's packs share one scale, which tells size variants apart.
    if (view === 'front' && gallery.sizes.size > 0 && productIdx.length > 0)
      sims = applySizeEvidence(
        sims,
        gallery,
        productIdx.map((i) => ({
          x: kept[i]!.box[0] + kept[i]!.box[2] / 2,
          w: kept[i]!.box[2],
          h: kept[i]!.box[3],
          row: placed[i]!.row,
          facing: placed[i]!.facing,
          depth: kept[i]!.depth,
        })),
        unknownThreshold,
      );
    const matches = assignSkus(
      sims,
      gallery.skus,
      productIdx.map((i) => fronts[i]!),
      unknownThreshold,
      cfg.embedder.stackPrior ?? DEFAULT_STACK_PRIOR,
      gallery.floors,
    );
    const nearest = opts.identities ? bestPerRow(sims, productIdx.length, gallery.skus.length) : [];
    const identityOf = new Map<Detection, { sku: string; similarity: number }>();
    let pi = 0;
    const detections: Detection[] = [];
    kept.forEach((c, i) => {
      const row = pi; // the embedder row of this detection, if detectionOf takes one
      const d = detectionOf(c, i);
      const near = pi > row ? nearest[row] : undefined;
      if (near && near.g >= 0) identityOf.set(d, { sku: gallery.skus[near.g]!, similarity: near.s });
      detections.push(d);
    });
    function detectionOf(c: (typeof kept)[number], i: number): Detection {
      const where = placed[i]!;
      const base = { box: boxes[i]!.map((v) => round(v, 5)) as Box, ...where };
      if (c.cls === emptyCls) return { kind: 'empty', confidence: round(c.score), ...base };
      if (c.inferredFrom !== undefined) {
        const front = detections[c.inferredFrom]!; // added packs come after every detector box
        return front.sku
          ? { kind: 'product', sku: front.sku, confidence: round(c.score), ...base }
          : { kind: 'unknown', confidence: round(c.score), ...base };
      }
      const m = matches[pi++]!;
      // Confidence of a product = detector certainty x identity certainty (cosine, clipped to 0-1).
      const conf = round(Math.min(1, Math.max(0, c.score * Math.max(0, m.similarity))));
      return m.sku
        ? { kind: 'product', sku: m.sku, confidence: conf, ...base }
        : { kind: 'unknown', confidence: round(c.score), ...base };
    }
    detections.sort((a, b) => a.row - b.row || a.column - b.column || Number(b.facing) - Number(a.facing));
    const summary = summarise(detections);
    const t4 = performance.now();

    return {
      image: {
        width: srcW,
        height: srcH,
        brightness: round(stats.brightness),
        sharpness: round(stats.sharpness, 3),
        qualityFlags: flags,
      },
      ...summary,
      detections,
      inferenceMs: round(t4 - t0, 2),
      stagesMs: {
        decode: round(t1 - t0, 2),
        detect: round(t2 - t1, 2),
        count: round(t3 - t2, 2),
        identify: round(t4 - t3, 2),
      },
      ...(opts.identities ? { identities: detections.map((d) => identityOf.get(d)) } : {}),
    };
  }

  return {
    model: { name: cfg.name, version: cfg.version },
    gallery: { name: gallery.name, version: gallery.version },
    recognize,
    async close() {
      await detector.release();
      await embedder.release();
      await counter?.release();
    },
  };
}

/**
 * A Float32Array of length n on a buffer kept between calls and grown when a call needs more
 * (recognize runs one call at a time, so a batch is never overwritten while in use).
 */
function reusable(): (n: number) => Float32Array {
  let buf = new Float32Array(0);
  return (n) => {
    if (buf.length < n) buf = new Float32Array(n);
    return buf.subarray(0, n);
  };
}
