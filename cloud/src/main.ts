#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { formatIssues } from '@shelfsight/protocol';
import { startCloud } from './app.js';
import { CloudOptions } from './config.js';

const USAGE = `Usage: shelfsight-cloud [options]

  --host <addr>        interface for HTTP and MQTT (default 127.0.0.1; there is no device auth
                       yet, so use 0.0.0.0 only on a trusted network)
  --http-port <n>      HTTP + socket.io port   (env SHELFSIGHT_HTTP_PORT, default 8080; 0 = any free)
  --mqtt-port <n>      MQTT broker port        (env SHELFSIGHT_MQTT_PORT, default 1883; 0 = any free)
  --data-dir <dir>     where the DuckDB file lives (env SHELFSIGHT_DATA_DIR, default ./data)
  --log-level <level>  pino level (env SHELFSIGHT_LOG_LEVEL, default info)
  -h, --help           show this help
`;

const main = async (): Promise<number> => {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: 'string' },
        'http-port': { type: 'string' },
        'mqtt-port': { type: 'string' },
        'data-dir': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`shelfsight-cloud: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const env = process.env;
  // Flags win over env; unset values fall through to the schema defaults.
  const raw = Object.fromEntries(
    Object.entries({
      host: values.host ?? env.SHELFSIGHT_HOST,
      httpPort: values['http-port'] ?? env.SHELFSIGHT_HTTP_PORT,
      mqttPort: values['mqtt-port'] ?? env.SHELFSIGHT_MQTT_PORT,
      dataDir: values['data-dir'] ?? env.SHELFSIGHT_DATA_DIR,
      logLevel: values['log-level'] ?? env.SHELFSIGHT_LOG_LEVEL,
    }).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = CloudOptions.safeParse(raw);
  if (!parsed.success) {
    const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const issues = parsed.error.issues.map((i) => ({ ...i, path: i.path.map((p) => flag(String(p))) }));
    process.stderr.write(`shelfsight-cloud: invalid configuration: ${formatIssues(issues)}\n\n${USAGE}`);
    return 2;
  }

  const logger = pino({ level: parsed.data.logLevel, name: 'shelfsight-cloud' });
  const cloud = await startCloud(parsed.data, { logger });
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
