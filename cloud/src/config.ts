import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MAX_PAYLOAD_BYTES } from '@shelfsight/protocol';

const port = z.coerce
  .number({ error: 'must be a port number 0-65535 (0 picks a free port)' })
  .int()
  .min(0, 'must be 0-65535 (0 picks a free port)')
  .max(65_535, 'must be 0-65535');

/** Redis of a cloud cluster (D21); shared by the cloud's and the ingest worker's flags. */
export const RedisUrl = z
  .string()
  .regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379');

/** Everything `startCloud` needs; the CLI maps flags and env onto this. */
export const CloudOptions = z
  .strictObject({
    /**
     * Interface for HTTP and MQTT(S). Loopback by default, so exposing the cloud on a network is an
     * explicit decision (`--host 0.0.0.0`); do that with `auth: 'required'` and TLS.
     */
    host: z.string().min(1).default('127.0.0.1'),
    httpPort: port.default(8080),
    mqttPort: port.default(1883),
    /** ':memory:' keeps nothing (tests); otherwise a directory that will hold shelfsight.duckdb. */
    dataDir: z.string().min(1).default('./data'),
    /** Transport cap per MQTT packet; above the payload limit so slightly-too-big payloads are counted. */
    maxPacketBytes: z
      .number()
      .int()
      .min(1024)
      .default(MAX_PAYLOAD_BYTES * 4),
    commandTimeoutMs: z.number().int().min(1).max(600_000).default(15_000),
    dashboardDir: z
      .string()
      .min(1)
      .default(fileURLToPath(new URL('../../dashboard/dist', import.meta.url))),
    /**
     * Model folder whose embedder enrols new SKUs into the gallery (the devices' model). Default: the
     * repository's models/; a folder that does not exist disables enrolment, nothing else.
     */
    modelDir: z
      .string()
      .min(1)
      .default(fileURLToPath(new URL('../../models', import.meta.url))),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Time-series store adapter: embedded DuckDB (default) or an InfluxDB server. Configuration only. */
    store: z.enum(['duckdb', 'influx'], { error: 'must be duckdb or influx' }).default('duckdb'),
    /** InfluxDB base URL, e.g. http://127.0.0.1:8086 (required with store=influx). */
    influxUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** Database for InfluxQL `/query` (and 1.x `/write`); on 2.x a DBRP mapping to the bucket. */
    influxDb: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,128}$/, 'must be 1-128 of letters, digits, _ . -')
      .default('shelfsight'),
    /** `Authorization: Token …` (2.x/3.x token; 1.8+ also takes user:password). */
    influxToken: z.string().min(1).optional(),
    /** With influxBucket: write through /api/v2/write (2.x, 3.x) instead of the 1.x /write. */
    influxOrg: z.string().min(1).optional(),
    influxBucket: z.string().min(1).optional(),
    /**
     * `required`: devices authenticate with per-device credentials and are confined to their own
     * topics (see README "Security"); `off`: any client id may connect (tests and trusted labs only).
     */
    auth: z.enum(['required', 'off'], { error: 'must be required or off' }).default('required'),
    /** Admin bearer token (env SHELFSIGHT_ADMIN_TOKEN). Without it and the file, one is generated in dataDir. */
    adminToken: z.string().min(16, 'must be at least 16 characters').optional(),
    adminTokenFile: z.string().min(1).optional(),
    /** TLS listener (mqtts) port; needs tlsCert and tlsKey (PEM file paths). */
    mqttsPort: port.optional(),
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    /**
     * External broker (Mosquitto, EMQX) instead of the embedded one: devices connect there, and the
     * cloud's ingest subscribes to it (docs/decisions.md D5, D16). Its device auth is the broker's own.
     */
    mqttUrl: z
      .string()
      .regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL')
      .optional(),
    /** The cloud's credentials on the external broker (password from env SHELFSIGHT_MQTT_PASSWORD only). */
    mqttUsername: z.string().min(1).optional(),
    mqttPassword: z.string().min(1).optional(),
    /**
     * With an external broker: observations are taken through `$share/<group>/…` together with the
     * ingest workers of that group instead of by this process alone. Status, replies, OTA states
     * and door events are always subscribed to directly.
     */
    ingestGroup: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 of letters, digits, _ and -')
      .optional(),
    /**
     * Redis of a cluster of cloud processes (D21): socket.io's Redis adapter joins their live
     * push, and each process relays the observations it stored to the others, so every process
     * keeps complete alerts, live state and analytics caches. Needs --ingest-group.
     */
    redisUrl: RedisUrl.optional(),
    /** Broker URL handed to provisioned devices; default: the mqtts listener if any, else the mqtt one. */
    publicMqttUrl: z
      .string()
      .regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL')
      .optional(),
  })
  .superRefine((o, ctx) => {
    if (o.store === 'influx' && o.influxUrl === undefined)
      ctx.addIssue({ code: 'custom', path: ['influxUrl'], message: 'is required with --store influx' });
    if ((o.influxOrg === undefined) !== (o.influxBucket === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['influxBucket'],
        message: 'set --influx-org and --influx-bucket together',
      });
    if (o.ingestGroup !== undefined && o.mqttUrl === undefined)
      ctx.addIssue({ code: 'custom', path: ['ingestGroup'], message: 'needs an external broker (--mqtt-url)' });
    // Without a shared group every process already receives every observation; relaying them
    // as well would count each one twice in the peers' caches.
    if (o.redisUrl !== undefined && o.ingestGroup === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['redisUrl'],
        message: 'joins a cluster that shares observations, so it needs --ingest-group (and --mqtt-url)',
      });
    const tls = [o.mqttsPort, o.tlsCert, o.tlsKey].filter((v) => v !== undefined).length;
    if (tls !== 0 && tls !== 3)
      ctx.addIssue({
        code: 'custom',
        path: ['mqttsPort'],
        message: 'set --mqtts-port, --tls-cert and --tls-key together',
      });
  });

export type CloudOptions = z.infer<typeof CloudOptions>;
export type CloudOptionsInput = z.input<typeof CloudOptions>;
