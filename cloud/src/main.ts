#!/usr/bin/env node
import { pino } from 'pino';
import { startCloud } from './app.js';
import { USAGE, parseCli } from './cli.js';

const main = async (): Promise<number> => {
  const cli = parseCli(process.argv.slice(2), process.env);
  if (cli.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cli.kind === 'error') {
    process.stderr.write(`shelfsight-cloud: ${cli.message}\n\n${USAGE}`);
    return 2;
  }
  const logger = pino({ level: cli.options.logLevel, name: 'shelfsight-cloud' });
  // The server requires log-in for API reads and live sockets unless SHELFSIGHT_REQUIRE_LOGIN=0:
  // without it every brand's data is readable anonymously and tenant scoping means nothing.
  const requireLogin = process.env.SHELFSIGHT_REQUIRE_LOGIN !== '0';
  if (!requireLogin) logger.warn('SHELFSIGHT_REQUIRE_LOGIN=0: API reads and live events are open to anyone');
  const cloud = await startCloud(cli.options, { logger, requireLogin });
  process.stdout.write(`ShelfSight cloud: dashboard ${cloud.httpUrl}/  MQTT ${cloud.mqttUrl}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      // A second signal means "now": skip the drain.
      process.once(signal, () => process.exit(130));
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await cloud.close();
  return 0;
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`shelfsight-cloud: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
