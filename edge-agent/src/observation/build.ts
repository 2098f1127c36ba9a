import { randomUUID } from 'node:crypto';
import { Observation, formatIssues, type ModelRef } from '@shelfsight/protocol';
import type { Recognition } from '../recognition/types.js';

export interface CaptureContext {
  deviceId: string;
  outletId: string;
  fixtureId: string;
  seq: number;
  capturedAt: Date;
  model: ModelRef;
  gallery?: ModelRef;
  trigger?: Observation['trigger'];
}

/**
 * Turns one recognition into the wire message. Validating here, at the boundary, means the agent
 * never publishes something the cloud would have to reject.
 */
export const buildObservation = (rec: Recognition, ctx: CaptureContext): Observation => {
  const parsed = Observation.safeParse({
    messageId: randomUUID(),
    deviceId: ctx.deviceId,
    outletId: ctx.outletId,
    fixtureId: ctx.fixtureId,
    capturedAt: ctx.capturedAt.toISOString(),
    seq: ctx.seq,
    model: ctx.model,
    ...(ctx.gallery ? { gallery: ctx.gallery } : {}),
    image: rec.image,
    skus: rec.skus,
    emptyFacings: rec.emptyFacings,
    unknownProducts: rec.unknownProducts,
    detections: rec.detections,
    inferenceMs: Math.round(rec.inferenceMs * 10) / 10,
    ...(ctx.trigger ? { trigger: ctx.trigger } : {}),
  });
  if (!parsed.success)
    throw new Error(`recognition produced an invalid observation: ${formatIssues(parsed.error.issues)}`);
  return parsed.data;
};
