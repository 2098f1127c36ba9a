import { parseArgs } from 'node:util';
import { formatIssues } from '@shelfsight/protocol';
import { CloudOptions } from './config.js';

export const USAGE = `Usage: shelfsight-cloud [options]

  --host <addr>        interface for HTTP and MQTT (env SHELFSIGHT_HOST, default 127.0.0.1)
  --http-port <n>      HTTP + socket.io port   (env SHELFSIGHT_HTTP_PORT, default 8080; 0 = any free)
  --mqtt-port <n>      MQTT broker port        (env SHELFSIGHT_MQTT_PORT, default 1883; 0 = any free)
  --data-dir <dir>     where the DuckDB file lives (env SHELFSIGHT_DATA_DIR, default ./data)
  --model-dir <dir>    model folder whose embedder enrols new SKUs (env SHELFSIGHT_MODEL_DIR,
                       default the repository's models/)
  --log-level <level>  pino level (env SHELFSIGHT_LOG_LEVEL, default info)
  --store <name>       duckdb | influx (env SHELFSIGHT_STORE, default duckdb)
  --influx-url <url>   InfluxDB base URL, required with --store influx (env SHELFSIGHT_INFLUX_URL)
  --influx-db <name>   InfluxQL database (env SHELFSIGHT_INFLUX_DB, default shelfsight)
  --influx-token <t>   API token (env SHELFSIGHT_INFLUX_TOKEN; prefer the env var)
  --influx-org <org>   with --influx-bucket: write via /api/v2/write (2.x/3.x) (env SHELFSIGHT_INFLUX_ORG)
  --influx-bucket <b>  (env SHELFSIGHT_INFLUX_BUCKET)
  --auth <mode>        required | off: per-device MQTT credentials and topic ACLs (env SHELFSIGHT_AUTH,
                       default required; off only for tests and trusted labs)
  --admin-token-file <f>  admin bearer token for /api/v1/claims etc. (env SHELFSIGHT_ADMIN_TOKEN_FILE, or
                       the token itself in SHELFSIGHT_ADMIN_TOKEN; default: generated into
                       <data-dir>/admin-token, mode 0600)
  --mqtts-port <n>     TLS MQTT listener port (env SHELFSIGHT_MQTTS_PORT; needs --tls-cert and --tls-key)
  --tls-cert <file>    PEM certificate chain (env SHELFSIGHT_TLS_CERT)
  --tls-key <file>     PEM private key (env SHELFSIGHT_TLS_KEY)
  --public-mqtt-url <u>  broker URL given to provisioned devices (env SHELFSIGHT_PUBLIC_MQTT_URL;
                       default the mqtts listener if any, else the mqtt one)
  --mqtt-url <url>     external broker instead of the embedded one (env SHELFSIGHT_MQTT_URL); the cloud
                       subscribes to it as SHELFSIGHT_MQTT_USERNAME / SHELFSIGHT_MQTT_PASSWORD (env only)
  --ingest-group <g>   with --mqtt-url: take observations through $share/<g>/… alongside ingest workers
                       (env SHELFSIGHT_INGEST_GROUP; see shelfsight-ingest-worker)
  --redis-url <url>    with --ingest-group: Redis joining several cloud processes into one cluster
                       (env SHELFSIGHT_REDIS_URL; live push and alerts across processes, docs D21)
  -h, --help           show this help

API reads and live sockets need a dashboard log-in or the admin token; env SHELFSIGHT_REQUIRE_LOGIN=0
opens them (and writes) to anonymous clients, unscoped: tests and local development only.
`;

export type CliResult = { kind: 'run'; options: CloudOptions } | { kind: 'help' } | { kind: 'error'; message: string };

/** Flags win over env; unset values fall through to the schema defaults. Pure, so it is unit-tested. */
export const parseCli = (argv: string[], env: NodeJS.ProcessEnv): CliResult => {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' },
        'http-port': { type: 'string' },
        'mqtt-port': { type: 'string' },
        'data-dir': { type: 'string' },
        'model-dir': { type: 'string' },
        'log-level': { type: 'string' },
        store: { type: 'string' },
        'influx-url': { type: 'string' },
        'influx-db': { type: 'string' },
        'influx-token': { type: 'string' },
        'influx-org': { type: 'string' },
        'influx-bucket': { type: 'string' },
        auth: { type: 'string' },
        'admin-token-file': { type: 'string' },
        'mqtts-port': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'public-mqtt-url': { type: 'string' },
        'mqtt-url': { type: 'string' },
        'ingest-group': { type: 'string' },
        'redis-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const raw = Object.fromEntries(
    Object.entries({
      host: values.host ?? env.SHELFSIGHT_HOST,
      httpPort: values['http-port'] ?? env.SHELFSIGHT_HTTP_PORT,
      mqttPort: values['mqtt-port'] ?? env.SHELFSIGHT_MQTT_PORT,
      dataDir: values['data-dir'] ?? env.SHELFSIGHT_DATA_DIR,
      modelDir: values['model-dir'] ?? env.SHELFSIGHT_MODEL_DIR,
      logLevel: values['log-level'] ?? env.SHELFSIGHT_LOG_LEVEL,
      store: values.store ?? env.SHELFSIGHT_STORE,
      influxUrl: values['influx-url'] ?? env.SHELFSIGHT_INFLUX_URL,
      influxDb: values['influx-db'] ?? env.SHELFSIGHT_INFLUX_DB,
      influxToken: values['influx-token'] ?? env.SHELFSIGHT_INFLUX_TOKEN,
      influxOrg: values['influx-org'] ?? env.SHELFSIGHT_INFLUX_ORG,
      influxBucket: values['influx-bucket'] ?? env.SHELFSIGHT_INFLUX_BUCKET,
      auth: values.auth ?? env.SHELFSIGHT_AUTH,
      // The admin token itself is accepted only from the environment, never as a flag (ps would show it).
      adminToken: env.SHELFSIGHT_ADMIN_TOKEN,
      adminTokenFile: values['admin-token-file'] ?? env.SHELFSIGHT_ADMIN_TOKEN_FILE,
      mqttsPort: values['mqtts-port'] ?? env.SHELFSIGHT_MQTTS_PORT,
      tlsCert: values['tls-cert'] ?? env.SHELFSIGHT_TLS_CERT,
      tlsKey: values['tls-key'] ?? env.SHELFSIGHT_TLS_KEY,
      publicMqttUrl: values['public-mqtt-url'] ?? env.SHELFSIGHT_PUBLIC_MQTT_URL,
      mqttUrl: values['mqtt-url'] ?? env.SHELFSIGHT_MQTT_URL,
      mqttUsername: env.SHELFSIGHT_MQTT_USERNAME,
      mqttPassword: env.SHELFSIGHT_MQTT_PASSWORD,
      ingestGroup: values['ingest-group'] ?? env.SHELFSIGHT_INGEST_GROUP,
      redisUrl: values['redis-url'] ?? env.SHELFSIGHT_REDIS_URL,
    }).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = CloudOptions.safeParse(raw);
  if (parsed.success) return { kind: 'run', options: parsed.data };
  const flag = (k: string) =>
    k === 'adminToken'
      ? 'SHELFSIGHT_ADMIN_TOKEN'
      : k === 'mqttPassword'
        ? 'SHELFSIGHT_MQTT_PASSWORD'
        : k === 'mqttUsername'
          ? 'SHELFSIGHT_MQTT_USERNAME'
          : `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const issues = parsed.error.issues.map((i) => ({ ...i, path: i.path.map((p) => flag(String(p))) }));
  return { kind: 'error', message: `invalid configuration: ${formatIssues(issues)}` };
};
