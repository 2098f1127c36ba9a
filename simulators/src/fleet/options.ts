import { parseArgs } from 'node:util';
import { z } from 'zod';

export const FleetOptions = z.object({
  devices: z.coerce.number().int().min(1, '--devices must be at least 1').max(20_000, '--devices is at most 20000'),
  cloud: z.url({ message: '--cloud must be the cloud HTTP base URL, e.g. http://127.0.0.1:8080' }),
  mqtt: z
    .string()
    .regex(/^(mqtts?|tcp|ssl):\/\//, { message: '--mqtt must be an mqtt:// or mqtts:// URL' })
    .optional(),
  mode: z.enum(['light', 'full'], { message: '--mode must be light or full' }),
  intervalS: z.coerce.number().int().min(1, '--interval must be at least 1 s').max(86_400),
  durationS: z.coerce.number().int().min(0, '--duration must be ≥ 0 (0 = until Ctrl-C)'),
  connectPerSecond: z.coerce.number().int().min(1).max(10_000),
  seed: z.coerce.number().int(),
  dataDir: z.string().min(1),
  auth: z.enum(['required', 'off'], { message: '--auth must be required or off' }),
  adminToken: z
    .string()
    .min(16, 'the admin token (--admin-token-file or SHELFSIGHT_ADMIN_TOKEN) is too short')
    .optional(),
  prefix: z.string().regex(/^[a-z0-9-]{1,20}$/, { message: '--prefix must be 1-20 of a-z, 0-9, -' }),
});
export type FleetOptions = z.infer<typeof FleetOptions>;

export const USAGE = `usage: npm run fleet -- --devices N --cloud URL [options]

  --devices N            virtual devices (camera + edge agent each)
  --cloud URL            cloud HTTP base URL (provisioning and status), e.g. http://127.0.0.1:8080
  --mqtt URL             broker URL (default mqtt://<cloud host>:1883)
  --mode light|full      light (default): counts read from the simulated cooler, no rendering or
                         inference, for large N; full: rendered frames through the real ONNX models
  --interval S           seconds between captures per device (default 60)
  --duration S           stop after S seconds (default 0 = until Ctrl-C)
  --connect-rate N       devices started per second (default 100)
  --auth required|off    provision each device with a claim token (default) or connect anonymously
  --admin-token-file F   admin token for creating claims (or env SHELFSIGHT_ADMIN_TOKEN)
  --data-dir DIR         outboxes and credentials (default ./data/fleet)
  --prefix P             device id prefix (default fleet)
  --seed S               simulation seed (default 1)`;

export const parseFleetOptions = async (
  argv: string[],
  env: NodeJS.ProcessEnv,
  readFile: (f: string) => Promise<string>,
): Promise<FleetOptions> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string' },
      cloud: { type: 'string' },
      mqtt: { type: 'string' },
      mode: { type: 'string', default: 'light' },
      interval: { type: 'string', default: '60' },
      duration: { type: 'string', default: '0' },
      'connect-rate': { type: 'string', default: '100' },
      auth: { type: 'string', default: 'required' },
      'admin-token-file': { type: 'string' },
      'data-dir': { type: 'string', default: './data/fleet' },
      prefix: { type: 'string', default: 'fleet' },
      seed: { type: 'string', default: '1' },
    },
    strict: true,
  });
  const token = values['admin-token-file']
    ? (await readFile(values['admin-token-file'])).trim()
    : env.SHELFSIGHT_ADMIN_TOKEN?.trim();
  const parsed = FleetOptions.safeParse({
    devices: values.devices,
    cloud: values.cloud,
    mqtt: values.mqtt,
    mode: values.mode,
    intervalS: values.interval,
    durationS: values.duration,
    connectPerSecond: values['connect-rate'],
    auth: values.auth,
    adminToken: token || undefined,
    dataDir: values['data-dir'],
    prefix: values.prefix,
    seed: values.seed,
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('\n'));
  if (parsed.data.auth === 'required' && !parsed.data.adminToken)
    throw new Error('--auth required needs the admin token: --admin-token-file FILE or SHELFSIGHT_ADMIN_TOKEN');
  return parsed.data;
};
