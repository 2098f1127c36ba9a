import type { Request } from 'express';
import { z } from 'zod';

export interface ParamProblem {
  param: string;
  message: string;
}

/** Thrown by `parse*`; the error middleware turns it into `400 {error, details}`. */
export class BadRequestError extends Error {
  constructor(
    message: string,
    readonly details: ParamProblem[],
  ) {
    super(message);
    this.name = 'BadRequestError';
  }
}

const problems = (issues: readonly z.core.$ZodIssue[], fallback: string): ParamProblem[] =>
  issues.map((i) => ({ param: i.path.length ? i.path.join('.') : fallback, message: i.message }));

/**
 * Parses one request part. Query strings arrive as strings (or arrays when repeated), so schemas
 * coerce; unknown keys are refused so a typo like `fixture=` fails loudly instead of being ignored.
 */
export const parsePart = <S extends z.ZodType>(
  schema: S,
  value: unknown,
  part: 'query' | 'body' | 'path',
): z.infer<S> => {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new BadRequestError(`invalid ${part}`, problems(r.error.issues, part));
};

export const parseQuery = <S extends z.ZodType>(schema: S, req: Request): z.infer<S> =>
  parsePart(schema, req.query, 'query');

/** A date-time query parameter: ISO 8601 with an offset, like every timestamp in the protocol. */
export const isoDate = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with offset, e.g. 2024-05-01T10:00:00Z' })
  .transform((s) => new Date(s));
