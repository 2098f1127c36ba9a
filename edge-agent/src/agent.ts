import type { KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { access, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import {
  Command,
  DeviceConfig,
  OtaAnnouncement,
  decodePayload,
  parseDeviceTopic,
  topics,
  type CommandReply,
  type DeviceStatus,
  type DoorEvent,
  type Observation,
  type OtaState,
  type OtaStateName,
} from '@shelfsight/protocol';
import type { Logger } from 'pino';
import { CameraError, type CameraSource } from './camera/source.js';
import { viewOf, type AgentConfig } from './config/schema.js';
import { SseDoorSource, type DoorSignal } from './door/sse-door.js';
import { CpuMeter, diskFreeMb, rssMb } from './health/sample.js';
import { DeviceSession } from './mqtt/session.js';
import { buildObservation } from './observation/build.js';
import { applyRoi } from './observation/roi.js';
import { FileOutbox } from './outbox/file-outbox.js';
import { applyUpdate, modelStoreFor } from './ota/index.js';
import { ImageDecodeError } from './recognition/image.js';
import type { Recognizer, RecognizerOptions } from './recognition/types.js';
import { CaptureScheduler, ScheduleError, validateSchedule, type ScheduleSpec } from './schedule/scheduler.js';
import { StateFile } from './state.js';
import { isDiskFull, writeDurably } from './util/durable-write.js';
import { sleep, withTimeout } from './util/time.js';

export const AGENT_VERSION = '0.1.0';

/** How many outbox messages may await their PUBACK at once. */
const PUBLISH_WINDOW = 8;
const PUBACK_TIMEOUT_MS = 30_000;
const STOP_DRAIN_MS = 5_000;

export interface AgentDeps {
  config: AgentConfig;
  camera: CameraSource;
  recognizer: Recognizer;
  log: Logger;
  /** Folder `recognizer` was loaded from (default: config.modelDir). */
  modelDir?: string;
  /** Loads a model folder; needed for over-the-air updates. */
  loadRecognizer?: (opts: RecognizerOptions) => Promise<Recognizer>;
  /** Keys trusted to sign updates; empty refuses every update. */
  trustedKeys?: KeyObject[];
}

export type CaptureTrigger = 'interval' | 'cron' | 'door' | 'command' | 'startup';

export interface CaptureResult {
  observation: Observation;
  latencyMs: number;
}

const scheduleOf = (cfg: DeviceConfig): ScheduleSpec => ({
  intervalS: cfg.capture.intervalS,
  cron: cfg.capture.cron ?? [],
  timezone: cfg.capture.timezone,
});

/**
 * The edge agent: captures on a schedule or on command, recognises, writes the observation to the
 * durable outbox and drains the outbox to the broker in order. Only one inference runs at a time.
 */
export interface EdgeAgentEvents {
  /** The cloud asked for a restart; the owner stops this agent and starts a fresh one. */
  restart: [];
}

export class EdgeAgent extends EventEmitter<EdgeAgentEvents> {
  private session!: DeviceSession;
  private outbox!: FileOutbox;
  private state!: StateFile;
  private readonly cpu = new CpuMeter();
  private readonly startedAt = Date.now();
  private timers: NodeJS.Timeout[] = [];
  private readonly scheduler = new CaptureScheduler((source) => this.onTick(source));
  private inference: Promise<unknown> = Promise.resolve();
  private scheduledPending = false;
  private ticksSkipped = 0;
  private draining = false;
  private stopped = false;
  private schedule: ScheduleSpec;
  private capturesOk = 0;
  private capturesFailed = 0;
  private lastCaptureLatencyMs: number | undefined;
  private readonly log: Logger;
  private recognizer: Recognizer;
  private modelDir: string;
  /** Which pack hides which in this camera's frames (config.view, or what the camera implies). */
  private readonly view: 'front' | 'top';
  private door: SseDoorSource | undefined;
  private doorOpen = false;
  private doorTimer: NodeJS.Timeout | undefined;
  private lastDoorCaptureAt = 0;
  private badFrames = 0;
  private capturesLostDiskFull = 0;
  private lastError: string | undefined;

  constructor(private readonly deps: AgentDeps) {
    super();
    this.recognizer = deps.recognizer;
    this.modelDir = deps.modelDir ?? deps.config.modelDir;
    this.view = viewOf(deps.config);
    const { intervalS, cron, timezone } = deps.config.capture;
    this.schedule = { intervalS, cron, timezone };
    this.log = deps.log;
  }

  get outboxDepth(): number {
    return this.outbox.depth;
  }

  async start(): Promise<void> {
    const { config } = this.deps;
    this.state = await StateFile.open(config.dataDir);
    this.outbox = await FileOutbox.open(path.join(config.dataDir, 'outbox'), {
      maxMessages: config.outbox.maxMessages,
    });
    const applied = this.state.state.appliedConfig;
    if (applied) this.schedule = scheduleOf(applied);
    this.log.info(
      {
        deviceId: config.deviceId,
        camera: this.deps.camera.description,
        outboxDepth: this.outbox.depth,
        schedule: this.schedule,
      },
      'agent starting',
    );
    this.session = new DeviceSession(config, this.log);
    this.session.on('connect', () => {
      void this.publishStatus();
      void this.drain();
    });
    this.session.on(
      'message',
      (topic, payload) =>
        // A handler that throws (e.g. a config that cannot be saved on a full disk) must not become an
        // unhandled rejection, which would end the process.
        void this.onMessage(topic, payload).catch((err: NodeJS.ErrnoException) =>
          this.log.error({ topic, err: err.message, code: err.code, path: err.path }, 'message handling failed'),
        ),
    );
    this.timers.push(setInterval(() => void this.publishStatus(), config.statusIntervalS * 1000));
    // Age bounds must bite even while nothing new is captured (e.g. a long outage with the camera off).
    this.timers.push(setInterval(() => void this.outbox.enforceBounds().catch(() => undefined), 60_000));
    this.scheduler.apply(this.schedule);
    this.startDoorSensor();
    // A fresh picture on boot, so the cloud sees the fixture's state without waiting for the schedule.
    this.onTick('startup');
  }

  /** Runs one capture now, queued behind any inference in progress. */
  capture(trigger: CaptureTrigger): Promise<CaptureResult> {
    const run = this.inference.then(() => this.captureOnce(trigger));
    this.inference = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timers.forEach(clearInterval);
    this.scheduler.stop();
    this.door?.stop();
    if (this.doorTimer) clearTimeout(this.doorTimer);
    await this.inference;
    if (this.session?.connected && this.outbox.depth > 0) {
      // Flush what is queued while the link is up; whatever is left stays on disk for the next start.
      await withTimeout(this.drain(true), STOP_DRAIN_MS, 'drain on stop').catch(() => undefined);
    }
    if (this.session?.connected) {
      // A clean stop says so itself; the last will only fires on an unclean disconnect.
      await this.publishStatus('offline').catch(() => undefined);
    }
    await this.session?.close();
    await this.deps.camera.close();
    await this.recognizer.close();
    this.log.info({ outboxDepth: this.outbox?.depth }, 'agent stopped');
  }

  private startDoorSensor(): void {
    const cfg = this.deps.config.door;
    if (!cfg) return;
    this.door = new SseDoorSource(cfg.url, this.log);
    this.door.on('door', (e) => void this.onDoor(e));
    this.door.start();
  }

  /** Door closed → one capture shortly after, at most once per doorMinIntervalS; every event is reported. */
  private async onDoor(e: DoorSignal): Promise<void> {
    const { deviceId, capture } = this.deps.config;
    this.doorOpen = e.state === 'open';
    const event: DoorEvent = {
      deviceId,
      kind: 'door',
      state: e.state,
      at: new Date().toISOString(),
      ...(e.durationS !== undefined ? { durationS: e.durationS } : {}),
    };
    if (this.session.connected)
      await this.session.publish(topics.events(deviceId), JSON.stringify(event), { qos: 1 }).catch(() => undefined);
    if (e.state !== 'closed') return;
    const since = (Date.now() - this.lastDoorCaptureAt) / 1000;
    if (since < capture.doorMinIntervalS || this.doorTimer) return;
    this.doorTimer = setTimeout(() => {
      this.doorTimer = undefined;
      this.lastDoorCaptureAt = Date.now();
      this.onTick('door');
    }, capture.afterDoorCloseS * 1000);
  }

  private onTick(trigger: 'interval' | 'cron' | 'door' | 'startup'): void {
    if (this.stopped) return;
    // A slow device must not pile up captures: a tick that finds one still queued is skipped.
    if (this.scheduledPending) {
      this.ticksSkipped++;
      this.log.warn({ trigger, ticksSkipped: this.ticksSkipped }, 'capture still running; tick skipped');
      return;
    }
    this.scheduledPending = true;
    this.capture(trigger)
      .catch(() => undefined)
      .finally(() => (this.scheduledPending = false));
  }

  private async grabWithRetry() {
    const { retries, retryDelayMs } = this.deps.config.capture;
    let lastErr: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        // A frame with the door open shows the door, not the shelves: wait for it to close.
        if (this.doorOpen) throw new CameraError('door is open');
        return await this.deps.camera.grab();
      } catch (err) {
        lastErr = err;
        this.log.warn({ attempt: attempt + 1, err: (err as Error).message }, 'frame grab failed');
        if (attempt < retries && !this.stopped) await sleep(retryDelayMs);
      }
    }
    throw lastErr instanceof Error ? lastErr : new CameraError(String(lastErr));
  }

  private async captureOnce(trigger: CaptureTrigger): Promise<CaptureResult> {
    const { config } = this.deps;
    const recognizer = this.recognizer;
    const t0 = performance.now();
    let seq: number | undefined;
    try {
      const { frame, rec: raw } = await this.grabGoodFrame(recognizer);
      const rec = applyRoi(raw, this.state.state.appliedConfig?.roi);
      seq = this.state.state.nextSeq;
      const observation = buildObservation(rec, {
        deviceId: config.deviceId,
        outletId: config.outletId,
        fixtureId: config.fixtureId,
        seq,
        capturedAt: frame.capturedAt,
        model: recognizer.model,
        gallery: recognizer.gallery,
        trigger,
      });
      this.state.state.nextSeq = seq + 1;
      await this.state.save();
      // On disk before it is sent: from here on a crash cannot lose it.
      await this.outbox.append(topics.observations(config.deviceId), JSON.stringify(observation));
      const latencyMs = performance.now() - t0;
      this.capturesOk++;
      if (observation.skus.length > 0) await this.keepReferenceFrame(frame.image);
      this.lastCaptureLatencyMs = latencyMs;
      this.log.info(
        {
          trigger,
          seq,
          messageId: observation.messageId,
          products: observation.skus.reduce((n, s) => n + s.count, 0),
          skus: observation.skus.length,
          empty: observation.emptyFacings,
          unknown: observation.unknownProducts,
          inferenceMs: observation.inferenceMs,
          // Where the inference time went on this device (decode, detect, count, identify).
          stagesMs: rec.stagesMs,
          latencyMs: Math.round(latencyMs),
          outboxDepth: this.outbox.depth,
        },
        'captured',
      );
      void this.drain();
      return { observation, latencyMs };
    } catch (err) {
      this.capturesFailed++;
      if (isDiskFull(err)) {
        // Dropped and counted, never published without the outbox (D19): the sequence number or the
        // observation could not be made durable. Queued entries are untouched and still drain.
        this.capturesLostDiskFull++;
        this.lastError = `disk full (${err.code}) writing ${err.path ?? '?'}`.slice(0, 500);
        this.log.error(
          { trigger, seq, reason: err.code, path: err.path, capturesLostDiskFull: this.capturesLostDiskFull },
          'capture lost: disk full',
        );
        throw err;
      }
      this.lastError = (err as Error).message.slice(0, 500);
      this.log.error({ trigger, err: (err as Error).message }, 'capture failed; nothing published');
      throw err;
    }
  }

  /**
   * A frame that is too dark, too bright or blurred would read as an empty cooler: try again,
   * and publish nothing if it stays bad (the failure shows in status health instead). So too a
   * frame that does not decode: a camera upload still in progress, a snapshot cut short.
   */
  private async grabGoodFrame(recognizer: Recognizer) {
    const { retries, retryDelayMs, rejectFlags } = this.deps.config.capture;
    for (let attempt = 0; ; attempt++) {
      const frame = await this.grabWithRetry();
      // What is wrong with a frame that is not returned: for the error and for the log line.
      let problem: { what: string; log: Record<string, unknown>; msg: string };
      try {
        const rec = await recognizer.recognize(frame.image, { view: this.view });
        const bad = rec.image.qualityFlags.filter((f) => rejectFlags.includes(f));
        if (bad.length === 0) return { frame, rec };
        problem = { what: `bad frame (${bad.join(', ')})`, log: { flags: bad }, msg: 'bad frame; trying again' };
      } catch (err) {
        if (!(err instanceof ImageDecodeError)) throw err;
        problem = {
          what: `corrupt frame${frame.frameId ? ` ${frame.frameId}` : ''} (${err.message})`,
          log: { frameId: frame.frameId, err: err.message },
          msg: 'corrupt frame; trying again',
        };
      }
      this.badFrames++;
      if (attempt >= retries || this.stopped) throw new CameraError(`${problem.what} after ${attempt + 1} tries`);
      this.log.warn({ ...problem.log, attempt: attempt + 1 }, problem.msg);
      await sleep(retryDelayMs);
    }
  }

  /** Sends outbox entries in order, a window at a time, removing each only after its PUBACK. */
  private async drain(final = false): Promise<void> {
    // The final drain on stop waits for a running one rather than skipping.
    while (final && this.draining) await sleep(20);
    if (this.draining) return;
    this.draining = true;
    try {
      while ((final || !this.stopped) && this.session.connected && this.outbox.depth > 0) {
        const batch = await this.outbox.peek(PUBLISH_WINDOW);
        await Promise.all(
          batch.map(async (entry) => {
            await withTimeout(
              this.session.publish(entry.topic, entry.payload, { qos: 1 }),
              PUBACK_TIMEOUT_MS,
              'PUBACK',
            );
            await this.outbox.remove(entry.id);
          }),
        );
      }
    } catch (err) {
      // The entries stay in the outbox; the next connect drains them again (the cloud dedupes by messageId).
      this.log.warn({ err: (err as Error).message, outboxDepth: this.outbox.depth }, 'drain interrupted');
    } finally {
      this.draining = false;
    }
  }

  private async publishStatus(state: DeviceStatus['state'] = 'online'): Promise<void> {
    const { config } = this.deps;
    const recognizer = this.recognizer;
    if (!this.session.connected) return;
    const status: DeviceStatus = {
      deviceId: config.deviceId,
      state,
      at: new Date().toISOString(),
      agentVersion: AGENT_VERSION,
      model: recognizer.model,
      gallery: recognizer.gallery,
      health: {
        cpuPercent: this.cpu.sample(),
        rssMb: rssMb(),
        ...(await diskFreeMb(config.dataDir).then((v) => (v === undefined ? {} : { diskFreeMb: v }))),
        outboxDepth: this.outbox.depth,
        outboxDropped: this.outbox.stats().dropped,
        outboxOldestAgeS: this.outbox.stats().oldestAgeS,
        ...(this.lastCaptureLatencyMs !== undefined
          ? { lastCaptureLatencyMs: Math.round(this.lastCaptureLatencyMs) }
          : {}),
        uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
        capturesOk: this.capturesOk,
        capturesFailed: this.capturesFailed,
        badFrames: this.badFrames,
        ...(this.capturesLostDiskFull > 0 ? { capturesLostDiskFull: this.capturesLostDiskFull } : {}),
        ...(this.lastError ? { lastError: this.lastError } : {}),
      },
    };
    try {
      await this.session.publish(topics.status(config.deviceId), JSON.stringify(status), { qos: 1, retain: true });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'status publish failed');
    }
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseDeviceTopic(topic);
    if (!parsed || parsed.deviceId !== this.deps.config.deviceId) return;
    if (parsed.kind === 'config') await this.applyConfig(payload);
    else if (parsed.kind === 'commands') await this.runCommand(payload);
    else if (parsed.kind === 'ota') await this.onOta(payload);
  }

  private get referencePath(): string {
    return path.join(this.deps.config.dataDir, 'reference.jpg');
  }

  /** Options for loading a model folder, with the thresholds the cloud configured. */
  private recognizerOptions(modelDir: string): RecognizerOptions {
    const t = this.state.state.appliedConfig?.thresholds ?? {};
    return {
      modelDir,
      logger: this.log,
      ...(t.detection !== undefined ? { scoreThreshold: t.detection } : {}),
      ...(t.unknown !== undefined ? { unknownThreshold: t.unknown } : {}),
    };
  }

  /** Reloads the running model folder (new thresholds), queued behind any capture. */
  private async reloadRecognizer(): Promise<void> {
    const load = this.deps.loadRecognizer;
    if (!load) throw new Error('this agent cannot load models at run time');
    const run = this.inference.then(async () => {
      const next = await load(this.recognizerOptions(this.modelDir));
      const old = this.recognizer;
      this.recognizer = next;
      await old.close();
      this.log.info({ thresholds: this.state.state.appliedConfig?.thresholds }, 'thresholds applied');
    });
    this.inference = run.catch(() => undefined);
    await run;
  }

  /** Keeps one frame the running model handled, for the self-test of the next update. */
  private async keepReferenceFrame(image: Buffer): Promise<void> {
    try {
      await access(this.referencePath);
    } catch {
      // Via a temporary file: a frame cut short by a full disk would otherwise stay as the reference.
      const tmp = `${this.referencePath}.tmp`;
      await writeDurably(tmp, image)
        .then(() => rename(tmp, this.referencePath))
        .catch(() => undefined);
    }
  }

  private async onOta(payload: Buffer): Promise<void> {
    if (payload.byteLength === 0) return; // announcement withdrawn
    const decoded = decodePayload(OtaAnnouncement, payload);
    const { deviceId } = this.deps.config;
    if (!decoded.ok) {
      this.log.error({ reason: decoded.reason, detail: decoded.detail }, 'ignoring invalid OTA announcement');
      return;
    }
    const ann = decoded.value;
    const { kind, version } = ann.manifest;
    const running = kind === 'model' ? this.recognizer.model.version : this.recognizer.gallery.version;
    if (version === running) return; // retained announcement of what already runs
    if (this.state.state.otaFailed[kind] === version) {
      this.log.warn({ kind, version }, 'OTA version failed before; not retrying until a new one is announced');
      return;
    }
    const load = this.deps.loadRecognizer;
    const report = async (state: OtaStateName, detail: { error?: string; running?: string } = {}) => {
      const msg: OtaState = { deviceId, kind, version, state, at: new Date().toISOString(), ...detail };
      this.log.info({ ota: msg }, 'ota state');
      await this.session
        .publish(topics.otaState(deviceId), JSON.stringify(msg), { qos: 1 })
        .catch((err: Error) => this.log.warn({ err: err.message }, 'ota state publish failed'));
    };
    if (!load) {
      await report('FAILED', { error: 'this agent cannot load models at run time', running });
      return;
    }
    // Queued like a capture: one inference at a time, and never a swap under a running capture.
    const run = this.inference.then(() =>
      applyUpdate(ann, {
        store: modelStoreFor(this.deps.config),
        trustedKeys: this.deps.trustedKeys ?? [],
        log: this.log,
        active: () => ({ recognizer: this.recognizer, dir: this.modelDir }),
        load: (modelDir) => load(this.recognizerOptions(modelDir)),
        swap: (recognizer, dir) => {
          this.recognizer = recognizer;
          this.modelDir = dir;
        },
        referenceFrame: () => readFile(this.referencePath).catch(() => undefined),
        report,
      }),
    );
    this.inference = run.catch(() => undefined);
    const outcome = await run;
    if (outcome === 'FAILED') this.state.state.otaFailed[kind] = version;
    else delete this.state.state.otaFailed[kind];
    await this.state.save();
    await this.publishStatus();
  }

  private async applyConfig(payload: Buffer): Promise<void> {
    if (payload.byteLength === 0) return; // retained config cleared
    const decoded = decodePayload(DeviceConfig, payload);
    if (!decoded.ok) {
      this.log.error({ reason: decoded.reason, detail: decoded.detail }, 'ignoring invalid config from cloud');
      return;
    }
    const cfg = decoded.value;
    const current = this.state.state.appliedConfig;
    if (current && cfg.revision < current.revision) {
      this.log.warn({ revision: cfg.revision, current: current.revision }, 'ignoring older config revision');
      return;
    }
    const schedule = scheduleOf(cfg);
    try {
      validateSchedule(schedule);
    } catch (err) {
      if (!(err instanceof ScheduleError)) throw err;
      this.log.error({ revision: cfg.revision, err: err.message }, 'ignoring config with a bad schedule');
      return;
    }
    const before = this.state.state.appliedConfig?.thresholds ?? {};
    this.state.state.appliedConfig = cfg;
    await this.state.save();
    if (before.detection !== cfg.thresholds.detection || before.unknown !== cfg.thresholds.unknown)
      await this.reloadRecognizer().catch((err: Error) =>
        this.log.error({ err: err.message }, 'could not apply new thresholds; keeping the running model'),
      );
    this.schedule = schedule;
    this.scheduler.apply(schedule);
    this.log.info({ revision: cfg.revision, schedule, nextCron: this.scheduler.nextRun() }, 'config applied');
  }

  private async runCommand(payload: Buffer): Promise<void> {
    const { deviceId } = this.deps.config;
    const decoded = decodePayload(Command, payload);
    if (!decoded.ok) {
      this.log.error({ reason: decoded.reason, detail: decoded.detail }, 'ignoring invalid command');
      return;
    }
    const cmd = decoded.value;
    const reply = (r: Omit<CommandReply, 'commandId' | 'deviceId' | 'at'>) =>
      this.session
        .publish(
          topics.replies(deviceId),
          JSON.stringify({ commandId: cmd.id, deviceId, at: new Date().toISOString(), ...r } satisfies CommandReply),
          { qos: 1 },
        )
        .catch((err: Error) => this.log.warn({ err: err.message }, 'reply publish failed'));
    if (cmd.expiresAt && Date.parse(cmd.expiresAt) < Date.now()) {
      await reply({ ok: false, error: 'expired' });
      return;
    }
    this.log.info({ command: cmd.name, id: cmd.id }, 'command received');
    switch (cmd.name) {
      case 'capture-now': {
        try {
          const { observation, latencyMs } = await this.capture('command');
          await reply({
            ok: true,
            observationId: observation.messageId,
            result: {
              latencyMs: Math.round(latencyMs),
              products: observation.skus.reduce((n, s) => n + s.count, 0),
              emptyFacings: observation.emptyFacings,
              unknownProducts: observation.unknownProducts,
            },
          });
        } catch (err) {
          await reply({ ok: false, error: (err as Error).message });
        }
        return;
      }
      case 'restart': {
        // Reply first: after the restart nobody would remember the command.
        await reply({ ok: true, result: { restarting: true } });
        this.emit('restart');
        return;
      }
      case 'upload-diagnostics': {
        await reply({ ok: true, result: await this.diagnostics() });
        return;
      }
      default:
        await reply({ ok: false, error: `command ${cmd.name} is not supported by agent ${AGENT_VERSION}` });
    }
  }

  /** What support needs to see without shell access; secrets are left out. */
  async diagnostics(): Promise<Record<string, unknown>> {
    const { config } = this.deps;
    const { mqtt: mqttCfg, ...rest } = config;
    return {
      agentVersion: AGENT_VERSION,
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      loadAvg: os.loadavg().map((l) => Math.round(l * 100) / 100),
      memTotalMb: Math.round(os.totalmem() / 1048576),
      memFreeMb: Math.round(os.freemem() / 1048576),
      rssMb: rssMb(),
      diskFreeMb: await diskFreeMb(config.dataDir),
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      config: { ...rest, mqtt: { url: mqttCfg.url, username: mqttCfg.username, keepaliveS: mqttCfg.keepaliveS } },
      model: this.recognizer.model,
      gallery: this.recognizer.gallery,
      modelDir: this.modelDir,
      schedule: { ...this.schedule, nextCron: this.scheduler.nextRun()?.toISOString() ?? null },
      appliedConfigRevision: this.state.state.appliedConfig?.revision ?? null,
      nextSeq: this.state.state.nextSeq,
      otaFailed: this.state.state.otaFailed,
      outbox: this.outbox.stats(),
      captures: {
        ok: this.capturesOk,
        failed: this.capturesFailed,
        badFrames: this.badFrames,
        lostDiskFull: this.capturesLostDiskFull,
        ticksSkipped: this.ticksSkipped,
        lastLatencyMs: this.lastCaptureLatencyMs ?? null,
      },
      mqttConnected: this.session.connected,
    };
  }
}
