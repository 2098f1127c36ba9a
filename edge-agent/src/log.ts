import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';

export interface LogFileOptions {
  /** Log file; rotated files get a numeric suffix next to it. */
  file: string;
  /** Rotate when the file reaches this size. */
  maxSizeMb: number;
  /** Rotated files kept; older ones are deleted, so logs can never fill the disk. */
  keep: number;
}

/**
 * Structured JSON logs to stdout (journald rotates them under systemd), or to a size-rotated file
 * on devices without a journal.
 */
export const createLogger = (level: string, name = 'shelfsight-agent', file?: LogFileOptions): Logger => {
  const base = { name, level, timestamp: pino.stdTimeFunctions.isoTime };
  if (!file) return pino(base);
  mkdirSync(path.dirname(file.file), { recursive: true });
  return pino(
    base,
    pino.transport({
      target: 'pino-roll',
      options: { file: file.file, size: `${file.maxSizeMb}m`, limit: { count: file.keep }, mkdir: true },
    }),
  );
};
