import { pino, type Logger } from 'pino';

/** Module logger; the agent passes its own child logger through RecognizerOptions.logger. */
export const logger: Logger = pino({ name: 'recognition', level: process.env.LOG_LEVEL ?? 'info' });
