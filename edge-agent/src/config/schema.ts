import { z } from 'zod';
import { DeviceId, FixtureId, ImageQualityFlag, OutletId } from '@shelfsight/protocol';

const CameraConfig = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('http'),
    /** Snapshot URL that returns one JPEG per GET, as IP cameras and the simulator serve. */
    url: z.url({ message: 'camera.url must be an http(s) URL' }),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  }),
  z.strictObject({
    kind: z.literal('folder'),
    /** Folder the camera uploads stills into; the newest image is used. */
    dir: z.string().min(1),
    /** An image older than this means the camera stopped sending. */
    maxAgeS: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(600),
  }),
  z.strictObject({
    kind: z.literal('simulator'),
    /** In-process simulated cooler (needs @shelfsight/simulators); for development and fleet tests. */
    id: z.string().min(1).max(64),
    seed: z.number().int(),
    fixture: z.enum(['upright', 'chest', 'shelf']).default('upright'),
    difficulty: z.enum(['easy', 'default', 'hard']).default('default'),
    /** Simulated seconds per real second: how fast stock sells. */
    speed: z.number().min(0).max(100_000).default(60),
  }),
]);

export const AgentConfig = z.strictObject({
  deviceId: DeviceId,
  outletId: OutletId,
  fixtureId: FixtureId,
  mqtt: z
    .strictObject({
      url: z.string().regex(/^(mqtts?|tcp|ssl|wss?):\/\//, {
        message: 'mqtt.url must start with mqtt://, mqtts://, ws:// or wss://',
      }),
      username: z.string().optional(),
      password: z.string().optional(),
      /** File holding the MQTT password (first line); instead of `password`. */
      passwordFile: z.string().min(1).optional(),
      /** PEM CA certificate(s) to verify an mqtts:// broker with (e.g. a private CA); default: system CAs. */
      caFile: z.string().min(1).optional(),
      keepaliveS: z.number().int().min(5).max(3600).default(30),
      reconnectPeriodMs: z.number().int().min(100).max(600_000).default(2_000),
    })
    .refine((m) => m.password === undefined || m.passwordFile === undefined, {
      message: 'set mqtt.password or mqtt.passwordFile, not both',
    }),
  /**
   * First-start provisioning: without credentials in the config or in `<dataDir>/credentials.json`,
   * the agent exchanges this one-time claim token at the cloud (`url` = its HTTP base URL) for its own.
   */
  provisioning: z
    .strictObject({
      url: z.url({ protocol: /^https?$/, message: 'provisioning.url must be an http(s) URL' }),
      claimToken: z.string().min(1).optional(),
      claimTokenFile: z.string().min(1).optional(),
    })
    .refine((p) => (p.claimToken === undefined) !== (p.claimTokenFile === undefined), {
      message: 'set exactly one of claimToken and claimTokenFile',
    })
    .optional(),
  camera: CameraConfig,
  capture: z
    .strictObject({
      /** Seconds between scheduled captures; 0 = only on command. The cloud's retained config overrides it. */
      intervalS: z.number().int().min(0).max(86_400).default(60),
      /** Captures at set times, e.g. ["0 8-22 * * *"] = on the hour from 08:00 to 22:00. */
      cron: z.array(z.string()).max(16).default([]),
      timezone: z.string().optional(),
      /** A failed frame grab is retried this many times, this far apart, before the capture is given up. */
      retries: z.number().int().min(0).max(10).default(2),
      retryDelayMs: z.number().int().min(0).max(60_000).default(2_000),
      /** With a door sensor: capture this long after the door closes (lets the contents settle). */
      /** Frames with any of these flags are retried, and withheld if they stay bad. */
      rejectFlags: z.array(ImageQualityFlag).default(['too_dark', 'too_bright', 'blurred']),
      afterDoorCloseS: z.number().min(0).max(600).default(2),
      /** …but at most once per this many seconds, however busy the cooler. */
      doorMinIntervalS: z.number().int().min(0).max(86_400).default(60),
    })
    .default({
      intervalS: 60,
      cron: [],
      retries: 2,
      retryDelayMs: 2_000,
      rejectFlags: ['too_dark', 'too_bright', 'blurred'],
      afterDoorCloseS: 2,
      doorMinIntervalS: 60,
    }),
  /** Door sensor of the fixture, if it has one: server-sent events from the fixture controller. */
  door: z.strictObject({ kind: z.literal('sse'), url: z.url() }).optional(),
  /**
   * How the camera sees the fixture, which decides which pack hides which: `front` (upright cooler or
   * shelf, camera above the front looking in) or `top` (straight down into a chest cooler). Default:
   * `top` for a simulated chest cooler, else `front`.
   */
  view: z.enum(['front', 'top']).optional(),
  /** Folder with model.json and the files it names (detector.onnx, embedder.onnx, counter.onnx, gallery.json). */
  modelDir: z.string().min(1),
  /** Where the agent keeps its outbox and last applied config; must survive reboots. */
  dataDir: z.string().min(1),
  /** Defaults hold well over 24 h of one capture a minute (≈ 1,440 observations of a few KB each). */
  outbox: z
    .strictObject({
      maxMessages: z.number().int().min(1).max(10_000_000).default(100_000),
      maxBytes: z
        .number()
        .int()
        .min(1024)
        .default(512 * 1024 * 1024),
      maxAgeS: z
        .number()
        .int()
        .min(60)
        .default(30 * 86_400),
    })
    .default({ maxMessages: 100_000, maxBytes: 512 * 1024 * 1024, maxAgeS: 30 * 86_400 }),
  /** Ed25519 keys whose signatures the agent accepts on model and gallery updates; none = refuse all. */
  ota: z
    .strictObject({
      publicKeys: z.array(z.string().min(16)).max(8).default([]),
      publicKeyFiles: z.array(z.string().min(1)).max(8).default([]),
    })
    .default({ publicKeys: [], publicKeyFiles: [] }),
  statusIntervalS: z.number().int().min(1).max(3600).default(30),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Write logs to a size-rotated file instead of stdout (for devices without journald). */
  logFile: z
    .strictObject({
      file: z.string().min(1),
      maxSizeMb: z.number().int().min(1).max(1024).default(10),
      keep: z.number().int().min(1).max(100).default(5),
    })
    .optional(),
});

export type AgentConfig = z.infer<typeof AgentConfig>;

/** The configured view, or the one the camera implies (see AgentConfig.view). */
export const viewOf = (c: Pick<AgentConfig, 'view' | 'camera'>): 'front' | 'top' =>
  c.view ?? (c.camera.kind === 'simulator' && c.camera.fixture === 'chest' ? 'top' : 'front');
export type AgentConfigInput = z.input<typeof AgentConfig>;
