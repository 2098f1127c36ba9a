import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { topics, type DeviceStatus } from '@shelfsight/protocol';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/schema.js';

export interface SessionEvents {
  connect: [];
  offline: [];
  message: [topic: string, payload: Buffer];
}

/**
 * The agent's one MQTT connection. The client id is the device id (a duplicate id makes two agents
 * kick each other off in a reconnect loop), the session is persistent so QoS 1 subscriptions survive
 * a reconnect, and the last will marks the device offline when the link dies.
 */
export class DeviceSession extends EventEmitter<SessionEvents> {
  readonly client: MqttClient;

  constructor(
    private readonly cfg: AgentConfig,
    private readonly log: Logger,
  ) {
    super();
    const offline: DeviceStatus = { deviceId: cfg.deviceId, state: 'offline' };
    this.client = mqtt.connect(cfg.mqtt.url, {
      clientId: cfg.deviceId,
      clean: false,
      keepalive: cfg.mqtt.keepaliveS,
      reconnectPeriod: cfg.mqtt.reconnectPeriodMs,
      connectTimeout: 15_000,
      ...(cfg.mqtt.username !== undefined ? { username: cfg.mqtt.username } : {}),
      ...(cfg.mqtt.password !== undefined ? { password: cfg.mqtt.password } : {}),
      // Secrets from files are read here, once, and never logged.
      ...(cfg.mqtt.passwordFile !== undefined
        ? { password: readFileSync(cfg.mqtt.passwordFile, 'utf8').split('\n')[0]!.trim() }
        : {}),
      ...(cfg.mqtt.caFile !== undefined ? { ca: readFileSync(cfg.mqtt.caFile), rejectUnauthorized: true } : {}),
      will: { topic: topics.status(cfg.deviceId), payload: Buffer.from(JSON.stringify(offline)), qos: 1, retain: true },
    });
    this.client.on('connect', (ack) => {
      log.info({ broker: cfg.mqtt.url, sessionPresent: ack.sessionPresent }, 'mqtt connected');
      // Subscribing again is cheap and covers a broker that lost our persistent session.
      this.client.subscribe(
        [topics.config(cfg.deviceId), topics.commands(cfg.deviceId), topics.ota(cfg.deviceId)],
        { qos: 1 },
        (err) => {
          // Until the broker grants these, commands and configs sent to a new session are lost.
          if (err) log.error({ err }, 'subscribe failed');
          else log.info('mqtt subscribed');
        },
      );
      this.emit('connect');
    });
    this.client.on('offline', () => {
      log.warn({ broker: cfg.mqtt.url }, 'mqtt offline; will retry');
      this.emit('offline');
    });
    this.client.on('error', (err) => log.warn({ err: err.message }, 'mqtt error'));
    this.client.on('message', (topic, payload) => this.emit('message', topic, payload));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  async publish(topic: string, payload: string, opts: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: opts.qos, retain: opts.retain ?? false });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
