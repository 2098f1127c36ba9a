import { pino, type Logger } from 'pino';

export const createLogger = (level: string, name = 'shelfsight-agent'): Logger =>
  pino({ name, level, timestamp: pino.stdTimeFunctions.isoTime });
