import { z } from 'zod';
import { DeviceId, Timestamp } from './ids.js';

/** A cooler door opened or closed; `durationS` on `closed` is how long it stood open. */
export const DoorEvent = z.strictObject({
  deviceId: DeviceId,
  kind: z.literal('door'),
  state: z.enum(['open', 'closed']),
  at: Timestamp,
  durationS: z.number().min(0).max(86_400).optional(),
});

export type DoorEvent = z.infer<typeof DoorEvent>;
