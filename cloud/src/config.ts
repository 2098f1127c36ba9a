import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MAX_PAYLOAD_BYTES } from '@shelfsight/protocol';

const port = z.coerce
  .number({ error: 'must be a port number 0-65535 (0 picks a free port)' })
  .int()
  .min(0, 'must be 0-65535 (0 picks a free port)')
  .max(65_535, 'must be 0-65535');

/** Everything `startCloud` needs; the CLI maps flags and env onto this. */
export const CloudOptions = z
  .strictObject({
    /**
     * Interface for both HTTP and MQTT. Loopback by default: there is no device auth yet, so
     * exposing the broker on a network is an explicit decision (`--host 0.0.0.0`).
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
  });

export type CloudOptions = z.infer<typeof CloudOptions>;
export type CloudOptionsInput = z.input<typeof CloudOptions>;
