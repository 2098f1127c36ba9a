import { z } from 'zod';
import { DeviceId, FixtureId, MessageId, OutletId, SkuId, Timestamp } from './ids.js';
import { MAX_COUNT_PER_SKU, MAX_DETECTIONS_PER_OBSERVATION, MAX_SKUS_PER_OBSERVATION } from './limits.js';

const count = z.number().int().min(0).max(MAX_COUNT_PER_SKU);
const unit = z.number().min(0).max(1);

export const ModelRef = z.strictObject({
  name: z.string().min(1).max(64),
  version: z.string().min(1).max(64),
});

/** Why a frame may not be trustworthy. A frame with any flag set is still reported, flagged. */
export const ImageQualityFlag = z.enum([
  'too_dark',
  'too_bright',
  'blurred',
  'low_contrast',
  'door_open',
  'occluded',
  'low_confidence',
]);

export const ImageInfo = z.strictObject({
  width: z.number().int().min(1).max(20_000),
  height: z.number().int().min(1).max(20_000),
  /** Mean luma 0-1 and a normalised sharpness score, so the cloud can trend camera health. */
  brightness: unit.optional(),
  sharpness: z.number().min(0).max(1e6).optional(),
  qualityFlags: z.array(ImageQualityFlag).max(16).default([]),
});

/** Per-SKU tally of one capture. `facings` counts only front-most products, `count` every visible one. */
export const SkuCount = z.strictObject({
  sku: SkuId,
  count,
  facings: count,
  meanConfidence: unit.optional(),
});

/** Box in normalised image coordinates [x, y, width, height], origin top-left. */
export const NormBox = z
  .tuple([unit, unit, unit, unit])
  .refine(([x, y, w, h]) => x + w <= 1.0001 && y + h <= 1.0001, { message: 'box must lie inside the image' });

export const Detection = z.strictObject({
  kind: z.enum(['product', 'empty', 'unknown']),
  sku: SkuId.optional(),
  box: NormBox,
  confidence: unit,
  row: z.number().int().min(0).max(100),
  column: z.number().int().min(0).max(1000),
  facing: z.boolean(),
});

export const Observation = z
  .strictObject({
    messageId: MessageId,
    deviceId: DeviceId,
    outletId: OutletId,
    fixtureId: FixtureId,
    /** When the frame was captured (device clock). */
    capturedAt: Timestamp,
    /** Per-device capture counter; increases by one per published observation. */
    seq: z.number().int().min(0),
    model: ModelRef,
    gallery: ModelRef.optional(),
    image: ImageInfo,
    skus: z.array(SkuCount).max(MAX_SKUS_PER_OBSERVATION),
    emptyFacings: count,
    unknownProducts: count,
    detections: z.array(Detection).max(MAX_DETECTIONS_PER_OBSERVATION).optional(),
    /** What made the agent capture: its schedule, a door closing, a command, or its start. */
    trigger: z.enum(['interval', 'cron', 'door', 'command', 'startup']).optional(),
    inferenceMs: z.number().min(0).max(600_000),
  })
  .superRefine((obs, ctx) => {
    const seen = new Set<string>();
    obs.skus.forEach((s, i) => {
      if (seen.has(s.sku))
        ctx.addIssue({ code: 'custom', path: ['skus', i, 'sku'], message: `duplicate sku ${s.sku}` });
      seen.add(s.sku);
      if (s.facings > s.count)
        ctx.addIssue({ code: 'custom', path: ['skus', i, 'facings'], message: 'facings cannot exceed count' });
    });
  });

export type ModelRef = z.infer<typeof ModelRef>;
export type ImageQualityFlag = z.infer<typeof ImageQualityFlag>;
export type ImageInfo = z.infer<typeof ImageInfo>;
export type SkuCount = z.infer<typeof SkuCount>;
export type Detection = z.infer<typeof Detection>;
export type Observation = z.infer<typeof Observation>;
export type ObservationInput = z.input<typeof Observation>;
