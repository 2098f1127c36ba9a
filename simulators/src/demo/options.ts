import { parseArgs } from 'node:util';
import { z } from 'zod';

const port = (name: string) =>
  z.coerce
    .number({ message: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(1, `${name} must be 1-65535`)
    .max(65535, `${name} must be 1-65535`);

export const DemoOptions = z.object({
  httpPort: port('--http-port'),
  mqttPort: port('--mqtt-port'),
  cameraPort: port('--camera-port'),
  host: z.string().min(1),
  dataDir: z.string().min(1),
  coolers: z.coerce
    .number()
    .int()
    .min(1, '--coolers must be at least 1')
    .max(32, '--coolers is at most 32 in the demo'),
  intervalS: z.coerce.number().int().min(1, '--interval must be at least 1 s').max(3600),
});
export type DemoOptions = z.infer<typeof DemoOptions>;

export const USAGE = `usage: npm start -- [options]

  --http-port N    dashboard and REST API port      (env SHELFSIGHT_HTTP_PORT, default 8080)
  --mqtt-port N    embedded MQTT broker port         (env SHELFSIGHT_MQTT_PORT, default 1883)
  --camera-port N  simulated cameras' HTTP port      (env SHELFSIGHT_CAMERA_PORT, default 8090)
  --host H         interface to listen on            (env SHELFSIGHT_HOST, default 127.0.0.1)
  --data-dir DIR   store, agent outboxes and logs    (env SHELFSIGHT_DATA_DIR, default ./data)
  --coolers N      simulated coolers, one agent each (default 4)
  --interval S     seconds between captures          (default 15)`;

/** Flags win over environment variables, which win over defaults. Throws with a readable message. */
export const parseDemoOptions = (argv: string[], env: NodeJS.ProcessEnv): DemoOptions => {
  const { values } = parseArgs({
    args: argv,
    options: {
      'http-port': { type: 'string' },
      'mqtt-port': { type: 'string' },
      'camera-port': { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      coolers: { type: 'string' },
      interval: { type: 'string' },
    },
    strict: true,
  });
  const parsed = DemoOptions.safeParse({
    httpPort: values['http-port'] ?? env.SHELFSIGHT_HTTP_PORT ?? 8080,
    mqttPort: values['mqtt-port'] ?? env.SHELFSIGHT_MQTT_PORT ?? 1883,
    cameraPort: values['camera-port'] ?? env.SHELFSIGHT_CAMERA_PORT ?? 8090,
    host: values.host ?? env.SHELFSIGHT_HOST ?? '127.0.0.1',
    dataDir: values['data-dir'] ?? env.SHELFSIGHT_DATA_DIR ?? './data',
    coolers: values.coolers ?? 4,
    intervalS: values.interval ?? 15,
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('\n'));
  return parsed.data;
};
