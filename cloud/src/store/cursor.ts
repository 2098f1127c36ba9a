/**
 * Keyset cursor for observation pages: (capture time in µs, messageId) of the last item served.
 * Opaque to clients (base64url JSON) so its shape can change without an API version bump.
 */
export interface ObservationCursor {
  us: bigint;
  id: string;
}

export const encodeCursor = (c: ObservationCursor): string =>
  Buffer.from(JSON.stringify({ us: c.us.toString(), id: c.id })).toString('base64url');

/** Throws on anything malformed; the API turns that into a 400 for `cursor`. */
export const decodeCursor = (raw: string): ObservationCursor => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as { us?: unknown }).us !== 'string' ||
    !/^-?\d{1,20}$/.test((parsed as { us: string }).us) ||
    typeof (parsed as { id?: unknown }).id !== 'string'
  )
    throw new InvalidCursorError();
  const { us, id } = parsed as { us: string; id: string };
  return { us: BigInt(us), id };
};

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not one this server issued');
    this.name = 'InvalidCursorError';
  }
}
