import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import type { z } from 'zod';
import type { Logger } from 'pino';
import {
  CommandReply,
  DeviceStatus,
  DoorEvent,
  OtaState,
  MAX_FUTURE_SKEW_MS,
  MAX_PAYLOAD_BYTES,
  Observation,
  cloudSubscriptions,
  decodePayload,
  parseDeviceTopic,
  type RejectReason,
} from '@shelfsight/protocol';
import { summarise, type DeviceStatusRecord, type FixtureSummary, type TimeSeriesStore } from '../store/index.js';
import { RejectLog } from './reject-log.js';
import { IngestStats, type IngestStatsSnapshot } from './stats.js';

export type { IngestStatsSnapshot } from './stats.js';
export { RejectLog } from './reject-log.js';

export interface IngestOptions {
  brokerUrl: string;
  /** Fixed, so that with `clean: false` a restarted cloud resumes its broker session. */
  clientId: string;
  password?: string;
  store: TimeSeriesStore;
  logger: Logger;
  /**
   * With an external broker and several cloud instances, set e.g. 'cloud' to subscribe through
   * `$share/cloud/…` so each message goes to one instance. Unset for the embedded broker.
   */
  sharedGroup?: string;
  /** Of `topics`, those taken through the shared group; default all of them. */
  sharedTopics?: string[];
  maxPayloadBytes?: number;
  /**
   * Subscribe to device topics (default). The embedded broker sets false and calls `ingestDirect`
   * from its publish hook instead, so the device's PUBACK waits for the store write.
   */
  subscribe?: boolean;
  /** Topic filters to subscribe to (before the `$share` prefix); default every device→cloud kind. */
  topics?: string[];
  /**
   * 4 (default) or 5. With 5 and `clean: false` the session is kept `sessionExpirySeconds` after a
   * disconnect (v5 sessions otherwise end with the connection, and their queued messages with it).
   */
  protocolVersion?: 4 | 5;
  sessionExpirySeconds?: number;
  /** Username for `password`; default the client id. */
  username?: string;
}

export interface IngestEvents {
  observation: [FixtureSummary];
  'device-status': [DeviceStatusRecord];
  reply: [CommandReply];
  'ota-state': [OtaState];
  'door-event': [DoorEvent];
  reject: [{ reason: RejectReason; detail: string; topic: string }];
}

/** Redeliveries and relays arrive within seconds; this many ids cover minutes at the ingest rates measured. */
const ANNOUNCED_IDS = 50_000;

/** 'ack': done with it (stored, duplicate or rejected for good); 'hold': not stored, must come again. */
export type IngestOutcome = 'ack' | 'hold';
type Outcome = IngestOutcome;

/**
 * Subscribes to everything devices send, validates it and writes it to the store. The PUBACK for
 * each QoS 1 message is sent only after its store write finished (see `handleMessage` below), so
 * the broker keeps — and redelivers — anything not yet durable.
 */
export class Ingest extends EventEmitter<IngestEvents> {
  private readonly stats = new IngestStats();
  private readonly rejectLog: RejectLog;
  private client: MqttClient | null = null;
  private inFlight = new Set<Promise<unknown>>();
  private closing = false;
  private redeliverTimer: NodeJS.Timeout | null = null;
  private subscribed: string[] = [];
  private lastMessageAt = 0;
  /** messageIds of the observations announced lately, oldest first (see `announce`). */
  private readonly announced = new Set<string>();

  constructor(private readonly opts: IngestOptions) {
    super();
    this.rejectLog = new RejectLog(opts.logger);
  }

  statsSnapshot(): IngestStatsSnapshot {
    return this.stats.snapshot();
  }

  async start(): Promise<void> {
    const v5 = this.opts.protocolVersion === 5;
    const client = mqtt.connect(this.opts.brokerUrl, {
      clientId: this.opts.clientId,
      clean: false,
      protocolVersion: v5 ? 5 : 4,
      ...(v5 ? { properties: { sessionExpiryInterval: this.opts.sessionExpirySeconds ?? 7 * 24 * 3600 } } : {}),
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(this.opts.password !== undefined
        ? { username: this.opts.username ?? this.opts.clientId, password: this.opts.password }
        : {}),
    });
    this.client = client;
    // mqtt.js sends the PUBACK when this callback is called, so calling it only after the store
    // write is what makes an acknowledged observation durable. It handles one message at a time.
    client.handleMessage = (packet, done) => {
      // Never acked: the broker redelivers it to the next session. Not calling done() also stops
      // mqtt.js from handing us more messages while we shut down.
      if (this.closing) return;
      this.lastMessageAt = Date.now();
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const work = this.handle(packet.topic, payload).then(
        // 'hold' passes an error: mqtt.js then skips the PUBACK but moves on to the next message.
        (outcome) => {
          if (outcome === 'ack') return done();
          done(new Error('not stored'));
          this.redeliverLater();
        },
        (err: unknown) => {
          this.opts.logger.error({ err, topic: packet.topic }, 'ingest handler failed');
          done(err instanceof Error ? err : new Error(String(err)));
        },
      );
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    };
    client.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'ingest mqtt error'));
    client.on('reconnect', () => this.opts.logger.info('ingest reconnecting to broker'));
    client.on('connect', (ack) => this.opts.logger.info({ sessionPresent: ack.sessionPresent }, 'ingest connected'));

    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    if (this.opts.subscribe === false) return;
    const prefix = this.opts.sharedGroup ? `$share/${this.opts.sharedGroup}/` : '';
    const shared = this.opts.sharedTopics;
    this.subscribed = (this.opts.topics ?? Object.values(cloudSubscriptions)).map((t) =>
      shared === undefined || shared.includes(t) ? prefix + t : t,
    );
    const granted = await client.subscribeAsync(this.subscribed, { qos: 1 });
    const refused = granted.filter((g) => g.qos !== 1);
    if (refused.length) throw new Error(`broker refused subscriptions: ${refused.map((g) => g.topic).join(', ')}`);
  }

  /**
   * A broker resends an unacknowledged message only when the session reconnects (MQTT 5 forbids
   * it otherwise), so after a store failure the connection is dropped once, a little later, and the
   * session resumes with the held messages.
   */
  private redeliverLater(): void {
    if (this.redeliverTimer || this.closing) return;
    this.redeliverTimer = setTimeout(() => {
      this.redeliverTimer = null;
      if (this.closing || !this.client) return;
      this.opts.logger.warn('reconnecting so that the broker redelivers messages not stored');
      // Drops the socket without DISCONNECT; mqtt.js reconnects after reconnectPeriod.
      this.client.stream.destroy();
    }, 2000);
  }

  /**
   * An observation another process of the cluster stored (cluster/index.ts): announced to this
   * process's listeners (alerts, live push, analytics caches) as if stored here, but not written.
   */
  relay(summary: FixtureSummary): void {
    this.announce(summary);
  }

  /**
   * Emits `observation` once per messageId. In a cluster two members can both store a redelivered
   * message (their duplicate checks race on the shared store, which still holds it once), and a
   * peer's relay can arrive before or after this process's own copy; listeners must see it once.
   */
  private announce(summary: FixtureSummary): void {
    if (this.announced.has(summary.messageId)) return;
    this.announced.add(summary.messageId);
    if (this.announced.size > ANNOUNCED_IDS) this.announced.delete(this.announced.values().next().value!);
    this.emit('observation', summary);
  }

  /** Publishes as the cloud (commands, later config); resolves once the broker has acknowledged it. */
  async publish(topic: string, payload: string, opts: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    if (!this.client) throw new Error('ingest not started');
    await this.client.publishAsync(topic, payload, { qos: opts.qos, retain: opts.retain ?? false });
  }

  /** Stops taking messages, lets in-flight store writes finish (and be acked), then disconnects. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.redeliverTimer) clearTimeout(this.redeliverTimer);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.client?.endAsync();
    this.client = null;
  }

  /**
   * Leaves for good (scaling down a shared-subscription group): unsubscribes, keeps storing what the
   * broker still delivers from this session's queue until nothing has arrived for `quietMs`, then
   * disconnects with session expiry 0 so the broker forgets the session instead of queueing for it.
   */
  async leave(quietMs = 2000): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (this.subscribed.length > 0) await client.unsubscribeAsync(this.subscribed);
    this.lastMessageAt = Math.max(this.lastMessageAt, Date.now());
    while (this.inFlight.size > 0 || Date.now() - this.lastMessageAt < quietMs)
      await new Promise((r) => setTimeout(r, 100));
    this.closing = true;
    if (this.redeliverTimer) clearTimeout(this.redeliverTimer);
    await client.endAsync(false, this.opts.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 0 } } : {});
    this.client = null;
  }

  /**
   * Ingests one device message handed over by an embedded broker before it acknowledges the
   * publish. Resolves 'hold' when the message was not stored and must be refused.
   */
  async ingestDirect(topic: string, payload: Buffer): Promise<IngestOutcome> {
    if (this.closing) return 'hold';
    const work = this.handle(topic, payload);
    this.inFlight.add(work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(work);
    }
  }

  private async handle(topic: string, payload: Buffer): Promise<Outcome> {
    const receivedAt = new Date();
    const parsed = parseDeviceTopic(topic);
    if (!parsed) return this.reject('bad_topic', 'not a v1 per-device topic', topic);
    const maxBytes = this.opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;

    /** Decodes the payload and checks it speaks for the topic's device; a reject otherwise. */
    const decode = <S extends z.ZodType<{ deviceId: string }>>(schema: S): z.infer<S> | Outcome => {
      const d = decodePayload(schema, payload, maxBytes);
      if (!d.ok) return this.reject(d.reason, d.detail, topic);
      if (d.value.deviceId !== parsed.deviceId)
        return this.reject(
          'device_mismatch',
          `payload deviceId ${d.value.deviceId} on ${parsed.deviceId}'s topic`,
          topic,
        );
      return d.value;
    };

    switch (parsed.kind) {
      case 'observations': {
        const obs = decode(Observation);
        if (typeof obs === 'string') return obs;
        // A capture dated ahead of now comes from a wrong device clock. Stored, it would stay the
        // fixture's "latest" until real time caught up and land in future analytics windows; its
        // time cannot be corrected deterministically (D20), so it is refused, counted and logged.
        const aheadMs = Date.parse(obs.capturedAt) - receivedAt.getTime();
        if (aheadMs > MAX_FUTURE_SKEW_MS)
          return this.reject(
            'clock_skew',
            `capturedAt ${obs.capturedAt} is ${Math.round(aheadMs / 1000)} s ahead of the cloud clock (device ${obs.deviceId}, seq ${obs.seq})`,
            topic,
          );
        let inserted: boolean;
        try {
          ({ inserted } = await this.opts.store.writeObservation(obs, receivedAt));
        } catch (err) {
          return this.storeFailed(err, topic);
        }
        if (!inserted) {
          this.stats.duplicates++;
          return 'ack';
        }
        this.stats.accepted++;
        this.announce(summarise(obs, receivedAt));
        return 'ack';
      }
      case 'status': {
        // An empty retained payload clears the retained status; nothing to record.
        if (payload.byteLength === 0) return 'ack';
        const status = decode(DeviceStatus);
        if (typeof status === 'string') return status;
        let record: DeviceStatusRecord;
        try {
          record = await this.opts.store.upsertDeviceStatus(status, receivedAt);
        } catch (err) {
          return this.storeFailed(err, topic);
        }
        this.stats.statusUpdates++;
        this.emit('device-status', record);
        return 'ack';
      }
      case 'replies': {
        const reply = decode(CommandReply);
        if (typeof reply === 'string') return reply;
        this.stats.replies++;
        this.emit('reply', reply);
        return 'ack';
      }
      case 'events': {
        const event = decode(DoorEvent);
        if (typeof event === 'string') return event;
        this.emit('door-event', event);
        return 'ack';
      }
      case 'ota-state': {
        const state = decode(OtaState);
        if (typeof state === 'string') return state;
        this.emit('ota-state', state);
        return 'ack';
      }
      default:
        // cloud→device kinds are not subscribed to; seeing one means a misrouted subscription.
        return this.reject('bad_topic', `unexpected kind ${parsed.kind}`, topic);
    }
  }

  /** A reject is acked: redelivering a payload that can never be valid would only loop. */
  private reject(reason: RejectReason, detail: string, topic: string): Outcome {
    this.stats.reject(reason);
    this.rejectLog.log(reason, detail, topic);
    this.emit('reject', { reason, detail, topic });
    return 'ack';
  }

  private storeFailed(err: unknown, topic: string): Outcome {
    this.stats.storeErrors++;
    this.opts.logger.error({ err, topic }, 'store write failed; message left unacknowledged for redelivery');
    return 'hold';
  }
}
