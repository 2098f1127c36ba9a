import { z } from 'zod';
import { MessageId, Timestamp } from './ids.js';

export const CommandName = z.enum(['capture-now', 'restart', 'upload-diagnostics']);

/** Sent on the device's commands topic; answered exactly once on its replies topic with the same id. */
export const Command = z.strictObject({
  id: MessageId,
  name: CommandName,
  issuedAt: Timestamp,
  /** A command received after this moment is answered with `expired` and not run. */
  expiresAt: Timestamp.optional(),
  args: z.record(z.string(), z.unknown()).optional(),
});

export const CommandReply = z.strictObject({
  commandId: MessageId,
  deviceId: z.string().min(1).max(64),
  ok: z.boolean(),
  at: Timestamp,
  /** For capture-now: the messageId of the observation it produced. */
  observationId: MessageId.optional(),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z.string().max(2000).optional(),
});

export type CommandName = z.infer<typeof CommandName>;
export type Command = z.infer<typeof Command>;
export type CommandReply = z.infer<typeof CommandReply>;
