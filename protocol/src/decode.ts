import type { z } from 'zod';
import { MAX_PAYLOAD_BYTES } from './limits.js';

/** Why a payload was refused; used as a metric label, so the set is closed. */
export type RejectReason = 'oversized' | 'bad_json' | 'schema' | 'device_mismatch' | 'bad_topic' | 'clock_skew';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: RejectReason; detail: string };

/**
 * Decodes one MQTT payload against a schema: size, UTF-8 JSON, then schema. Never throws, so a
 * hostile payload can only ever produce a counted reject.
 */
export const decodePayload = <S extends z.ZodType>(
  schema: S,
  payload: Uint8Array | string,
  maxBytes = MAX_PAYLOAD_BYTES,
): Decoded<z.infer<S>> => {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > maxBytes) return { ok: false, reason: 'oversized', detail: `payload is ${size} bytes, limit ${maxBytes}` };
  let json: unknown;
  try {
    const text = typeof payload === 'string' ? payload : new TextDecoder('utf-8', { fatal: true }).decode(payload);
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: 'bad_json', detail: (err as Error).message.slice(0, 200) };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'schema', detail: formatIssues(parsed.error.issues) };
  return { ok: true, value: parsed.data };
};

/** One line per problem, with the path where it is: `skus.2.count: Too small: expected number to be >=0`. */
export const formatIssues = (issues: readonly z.core.$ZodIssue[]): string =>
  issues
    .slice(0, 10)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
