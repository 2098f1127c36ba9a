import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MAX_PAYLOAD_BYTES } from '@shelfsight/protocol';

const port = z.coerce
  .number({ error: 'must be a port number 0-65535 (0 picks a free port)' })
  .int()
  .min(0, 'must be 0-65535 (0 picks a free port)')
  .max(65_535, 'must be 0-65535');

/** Everything `startCloud` needs; the CLI maps flags and env onto this. */
export const CloudOptions = z.strictObject({
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
});

export type CloudOptions = z.infer<typeof CloudOptions>;
export type CloudOptionsInput = z.input<typeof CloudOptions>;
