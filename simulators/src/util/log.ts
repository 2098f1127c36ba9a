import { pino } from 'pino';

/** CLI output (stdout) stays machine-readable, so logs always go to stderr. */
export const log = pino(
  { name: 'simulators', level: process.env.LOG_LEVEL ?? 'info' },
  pino.destination({ dest: 2, sync: true }),
);
