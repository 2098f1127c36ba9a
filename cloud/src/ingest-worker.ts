#!/usr/bin/env node
/**
 * `node cloud/dist/ingest-worker.js --mqtt-url mqtt://broker:1883 --worker-id 1 --store influx --influx-url …`
 *
 * One ingest worker of a scaled-out deployment: consumes observations from an external broker
 * through an MQTT v5 shared subscription and writes them to a shared store. Run N of them with
 * distinct, stable worker ids (see `startIngestWorker` and docs/decisions.md D16).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { formatIssues } from '@shelfsight/protocol';
import { CloudOptions, RedisUrl } from './config.js';
import { clusterRelay } from './cluster/index.js';
import { startIngestWorker, WORKER_ID } from './ingest/worker.js';
import { openStore } from './store/factory.js';

export const WORKER_USAGE = `Usage: shelfsight-ingest-worker [options]

  --mqtt-url <url>     external broker, e.g. mqtt://127.0.0.1:1883 (env SHELFSIGHT_MQTT_URL; required)
  --worker-id <id>     stable id of this worker, 1-40 of [A-Za-z0-9_-] (env SHELFSIGHT_WORKER_ID; required).
                       A restarted worker must keep its id: the broker holds its unacknowledged messages.
  --group <name>       shared-subscription group (env SHELFSIGHT_INGEST_GROUP, default ingest)
  --sessions <n>       MQTT sessions of this worker (env SHELFSIGHT_INGEST_SESSIONS, default 64;
                       more sessions = larger store batches, see docs/benchmarks.md)
  --mqtt-username <u>  (env SHELFSIGHT_MQTT_USERNAME); the password only from env SHELFSIGHT_MQTT_PASSWORD
  --redis-url <url>    Redis of the cloud cluster (env SHELFSIGHT_REDIS_URL): relay each stored
                       observation to the cloud processes for their alerts and live push (D21)
  --retire             scale down: resume this id's sessions, store what the broker kept for them,
                       end them (so the broker stops queueing for this id) and exit. Run it after
                       stopping a worker that will not come back.
  --stats-every <s>    log ingest counts every s seconds, 0 = never (default 10)
  --log-level <level>  (env SHELFSIGHT_LOG_LEVEL, default info)
  --store, --influx-url, --influx-db, --influx-org, --influx-bucket, --data-dir: as for shelfsight-cloud
                       (same env vars; the token only from env SHELFSIGHT_INFLUX_TOKEN). Several workers
                       need a shared store (influx): a DuckDB file can be opened by one process only.
  -h, --help
`;

const main = async (): Promise<number> => {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        'mqtt-url': { type: 'string' },
        'worker-id': { type: 'string' },
        group: { type: 'string' },
        sessions: { type: 'string' },
        'mqtt-username': { type: 'string' },
        'redis-url': { type: 'string' },
        'stats-every': { type: 'string' },
        retire: { type: 'boolean' },
        'log-level': { type: 'string' },
        store: { type: 'string' },
        'influx-url': { type: 'string' },
        'influx-db': { type: 'string' },
        'influx-org': { type: 'string' },
        'influx-bucket': { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`shelfsight-ingest-worker: ${(err as Error).message}\n\n${WORKER_USAGE}`);
    return 2;
  }
  const env = process.env;
  if (values.help) {
    process.stdout.write(WORKER_USAGE);
    return 0;
  }
  const fail = (message: string) => {
    process.stderr.write(`shelfsight-ingest-worker: ${message}\n\n${WORKER_USAGE}`);
    return 2;
  };
  const mqttUrl = (values['mqtt-url'] as string | undefined) ?? env.SHELFSIGHT_MQTT_URL;
  const workerId = (values['worker-id'] as string | undefined) ?? env.SHELFSIGHT_WORKER_ID;
  if (!mqttUrl || !/^(mqtts?|wss?):\/\/\S+$/.test(mqttUrl))
    return fail('--mqtt-url must be an mqtt(s):// or ws(s):// URL');
  if (!workerId || !WORKER_ID.test(workerId)) return fail('--worker-id must be 1-40 of letters, digits, _ and -');
  const sessions = Number((values.sessions as string | undefined) ?? env.SHELFSIGHT_INGEST_SESSIONS ?? 64);
  if (!Number.isInteger(sessions) || sessions < 1 || sessions > 1000) return fail('--sessions must be 1-1000');
  const statsEvery = Number((values['stats-every'] as string | undefined) ?? 10);
  if (!Number.isFinite(statsEvery) || statsEvery < 0) return fail('--stats-every must be ≥ 0');
  const group = (values.group as string | undefined) ?? env.SHELFSIGHT_INGEST_GROUP ?? 'ingest';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(group)) return fail('--group must be 1-64 of letters, digits, _ and -');
  const redisUrl = (values['redis-url'] as string | undefined) ?? env.SHELFSIGHT_REDIS_URL;
  if (redisUrl !== undefined) {
    const checked = RedisUrl.safeParse(redisUrl);
    if (!checked.success) return fail(`--redis-url ${checked.error.issues[0]!.message}`);
  }
  const storeOpts = CloudOptions.safeParse(
    Object.fromEntries(
      Object.entries({
        logLevel: values['log-level'] ?? env.SHELFSIGHT_LOG_LEVEL,
        store: values.store ?? env.SHELFSIGHT_STORE,
        influxUrl: values['influx-url'] ?? env.SHELFSIGHT_INFLUX_URL,
        influxDb: values['influx-db'] ?? env.SHELFSIGHT_INFLUX_DB,
        influxToken: env.SHELFSIGHT_INFLUX_TOKEN,
        influxOrg: values['influx-org'] ?? env.SHELFSIGHT_INFLUX_ORG,
        influxBucket: values['influx-bucket'] ?? env.SHELFSIGHT_INFLUX_BUCKET,
        dataDir: values['data-dir'] ?? env.SHELFSIGHT_DATA_DIR,
      }).filter(([, v]) => v !== undefined && v !== ''),
    ),
  );
  if (!storeOpts.success) return fail(`invalid configuration: ${formatIssues(storeOpts.error.issues)}`);
  const opts = storeOpts.data;

  const logger = pino({ level: opts.logLevel, name: 'shelfsight-ingest-worker' });
  const store = await openStore(opts);
  let relay: Awaited<ReturnType<typeof clusterRelay>> | undefined;
  let worker;
  try {
    if (redisUrl) relay = await clusterRelay(redisUrl, logger);
    else
      logger.warn(
        'no --redis-url: the cloud processes do not hear of the observations this worker stores, so their alerts, live push and caches miss its share (D21)',
      );
    worker = await startIngestWorker({
      brokerUrl: mqttUrl,
      workerId,
      group,
      sessions,
      store,
      logger,
      ...(((values['mqtt-username'] as string | undefined) ?? env.SHELFSIGHT_MQTT_USERNAME)
        ? { username: ((values['mqtt-username'] as string | undefined) ?? env.SHELFSIGHT_MQTT_USERNAME)! }
        : {}),
      ...(env.SHELFSIGHT_MQTT_PASSWORD ? { password: env.SHELFSIGHT_MQTT_PASSWORD } : {}),
      ...(relay ? { onStored: relay.observation } : {}),
    });
  } catch (err) {
    await relay?.close();
    await store.close();
    throw err;
  }
  if (values.retire) {
    await worker.leave();
    await relay?.close();
    await store.close();
    logger.info({ stats: worker.stats() }, 'ingest worker retired');
    return 0;
  }
  const timer =
    statsEvery > 0
      ? setInterval(() => logger.info({ stats: worker.stats() }, 'ingest stats'), statsEvery * 1000)
      : null;
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      process.once(signal, () => process.exit(130));
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  if (timer) clearInterval(timer);
  await worker.close();
  await relay?.close();
  await store.close();
  logger.info({ stats: worker.stats() }, 'ingest worker stopped');
  return 0;
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`shelfsight-ingest-worker: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
