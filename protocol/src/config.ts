import { z } from 'zod';
import { Timestamp } from './ids.js';

/**
 * Retained on the device's config topic (cloud → device). The device applies it on receipt and
 * keeps its last applied copy, so a restart without network still runs the latest schedule.
 */
export const DeviceConfig = z.strictObject({
  /** Monotonic; the device ignores a config whose revision is lower than the one it runs. */
  revision: z.number().int().min(0),
  issuedAt: Timestamp,
  capture: z.strictObject({
    /** Seconds between scheduled captures; 0 turns interval capture off. */
    intervalS: z.number().int().min(0).max(86_400),
    /** Cron expressions (minute hour day month weekday, optional leading seconds) for set-time captures. */
    cron: z.array(z.string().min(9).max(120)).max(16).optional(),
    /** IANA time zone the cron expressions are read in, e.g. "Asia/Shanghai"; default: the device's. */
    timezone: z.string().min(1).max(64).optional(),
  }),
  thresholds: z
    .strictObject({
      detection: z.number().min(0).max(1),
      unknown: z.number().min(0).max(1),
    })
    .partial()
    .default({}),
  /** Region of interest [x, y, w, h], normalised; detections outside are ignored. */
  roi: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional(),
});

export type DeviceConfig = z.infer<typeof DeviceConfig>;
