import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { InvalidCursorError } from '../store/index.js';
import { BadRequestError } from './validation.js';

export const notFound: RequestHandler = (req, res) => {
  res
    .status(404)
    .json({ error: 'not found', details: [{ param: 'path', message: `no route for ${req.method} ${req.path}` }] });
};

export const errorHandler =
  (logger: Logger): ErrorRequestHandler =>
  (err: unknown, req, res, _next) => {
    if (err instanceof BadRequestError) {
      res.status(400).json({ error: err.message, details: err.details });
      return;
    }
    if (err instanceof InvalidCursorError) {
      res.status(400).json({ error: 'invalid query', details: [{ param: 'cursor', message: err.message }] });
      return;
    }
    // express.json() errors carry an HTTP status (malformed JSON 400, too large 413).
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res
        .status(status)
        .json({ error: (err as Error).message, details: [{ param: 'body', message: (err as Error).message }] });
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'request failed');
    res.status(500).json({ error: 'internal error', details: [] });
  };
