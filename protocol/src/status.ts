import { z } from 'zod';
import { DeviceId, Timestamp } from './ids.js';
import { ModelRef } from './observation.js';

export const DeviceHealth = z.strictObject({
  cpuPercent: z.number().min(0).max(100_00),
  rssMb: z.number().min(0),
  diskFreeMb: z.number().min(0).optional(),
  outboxDepth: z.number().int().min(0),
  /** Observations dropped because the outbox hit a bound (count, bytes or age) since the agent started. */
  outboxDropped: z.number().int().min(0).optional(),
  outboxOldestAgeS: z.number().min(0).optional(),
  lastCaptureLatencyMs: z.number().min(0).optional(),
  uptimeS: z.number().min(0),
  capturesOk: z.number().int().min(0),
  capturesFailed: z.number().int().min(0),
  /** Frames withheld because they were too dark, too bright or blurred (after retries). */
  badFrames: z.number().int().min(0).optional(),
  /**
   * Captures lost because the outbox could not be written (disk full, ENOSPC) since the agent started:
   * never published (docs/decisions.md D19). Sent only when above 0, so a cloud that predates it still
   * accepts every status of a healthy device.
   */
  capturesLostDiskFull: z.number().int().min(0).optional(),
  /** Why the last failed capture failed, e.g. "camera unreachable …" or "bad frame (too_dark)". */
  lastError: z.string().max(500).optional(),
});

/**
 * Retained on the device's status topic. The agent registers `{state:"offline"}` as its MQTT last
 * will, so a device that drops off the network is marked offline by the broker itself.
 */
export const DeviceStatus = z.strictObject({
  deviceId: DeviceId,
  state: z.enum(['online', 'offline']),
  /** Absent on the last-will message, whose content is fixed at connect time. */
  at: Timestamp.optional(),
  agentVersion: z.string().max(64).optional(),
  model: ModelRef.optional(),
  gallery: ModelRef.optional(),
  health: DeviceHealth.optional(),
});

export type DeviceHealth = z.infer<typeof DeviceHealth>;
export type DeviceStatus = z.infer<typeof DeviceStatus>;
