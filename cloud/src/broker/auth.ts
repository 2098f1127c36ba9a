import { timingSafeEqual } from 'node:crypto';
import type { AedesOptions, AuthenticateError, Client, PublishPacket } from 'aedes';
import { DeviceId, TOPIC_KINDS, parseDeviceTopic } from '@shelfsight/protocol';
import type { Logger } from 'pino';

/** The cloud's own MQTT clients (ingest, commands) use this clientId prefix; devices use their deviceId. */
export const INTERNAL_CLIENT_PREFIX = 'shelfsight-cloud-';

export interface AuthPolicyOptions {
  /**
   * Password the cloud's internal clients present. Without it, anyone could claim the internal
   * prefix and publish commands to every device; real device credentials come with the auth issue.
   */
  internalSecret: string;
  logger: Logger;
  /**
   * Called for every allowed device publish (including last wills) before aedes acknowledges it;
   * 'hold' refuses the publish, which drops the connection so the device resends from its outbox.
   */
  onDevicePublish?: (topic: string, payload: Buffer) => Promise<'ack' | 'hold'>;
  /**
   * Device authentication. When set, a device must connect with username = clientId = its
   * deviceId and a password this accepts, may subscribe only to its own cloud→device topics,
   * and is forwarded nothing else. When absent, any device may connect (the `--auth off` mode) and
   * only the publish rules apply.
   */
  verifyDevice?: (deviceId: string, password: Buffer) => Promise<boolean>;
}

export const isInternalClientId = (id: string): boolean => id.startsWith(INTERNAL_CLIENT_PREFIX);

const refuse = (message: string, returnCode: 4 | 5): AuthenticateError => {
  const err = new Error(message) as AuthenticateError;
  // 4 = BAD_USERNAME_OR_PASSWORD, 5 = NOT_AUTHORIZED (a const enum in aedes types, unusable under isolatedModules)
  err.returnCode = returnCode as AuthenticateError['returnCode'];
  return err;
};

/**
 * The broker's security policy (see cloud/README.md, "Security"):
 * - internal clients (`shelfsight-cloud-…`) need the per-process internal secret and may do anything;
 * - with `verifyDevice`, a device authenticates as username = clientId = deviceId with its own
 *   password, subscribes only to its own cloud→device topics (`config`, `commands`, `ota`) and receives nothing else;
 * - a device publishes only the device→cloud kinds under its own `shelfsight/v1/devices/<id>/…`,
 *   and may retain only its own status (so it cannot plant retained messages anywhere else).
 * Passwords are never logged.
 */
export const createAuthHooks = (
  opts: AuthPolicyOptions,
): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'> => {
  const secret = Buffer.from(opts.internalSecret);
  const verifyDevice = opts.verifyDevice;
  return {
    authenticate: (client, username, password, done) => {
      if (isInternalClientId(client.id)) {
        const ok = password !== undefined && password.length === secret.length && timingSafeEqual(password, secret);
        if (ok) return done(null, true);
        opts.logger.warn({ clientId: client.id }, 'internal client id without the internal secret refused');
        return done(refuse('bad credentials for an internal client id', 4), false);
      }
      if (!verifyDevice) return done(null, true);
      if (!DeviceId.safeParse(client.id).success) {
        opts.logger.warn({ clientId: client.id }, 'client id is not a device id; refused');
        return done(refuse('client id must be a device id', 5), false);
      }
      if (username !== client.id) {
        opts.logger.warn({ clientId: client.id, username }, 'username must equal the client id; refused');
        return done(refuse('username must equal the client id (the device id)', 4), false);
      }
      if (password === undefined || password.length === 0 || password.length > 1024) {
        opts.logger.warn({ clientId: client.id }, 'device without a password refused');
        return done(refuse('password required', 4), false);
      }
      verifyDevice(client.id, password).then(
        (ok) => {
          if (ok) return done(null, true);
          opts.logger.warn({ clientId: client.id }, 'device credentials refused');
          done(refuse('bad device credentials', 4), false);
        },
        (err: unknown) => {
          opts.logger.error({ clientId: client.id, err }, 'device credential check failed');
          done(refuse('credential check failed', 5), false);
        },
      );
    },
    authorizeSubscribe: (client, sub, callback) => {
      if (!verifyDevice || isInternalClientId(client.id)) return callback(null, sub);
      const verdict = authorizeDeviceSubscribe(client.id, sub.topic);
      if (verdict === null) return callback(null, sub);
      opts.logger.warn({ clientId: client.id, topic: sub.topic, reason: verdict }, 'subscribe refused');
      // A null subscription is answered with SUBACK 0x80 (failure); the connection stays up.
      return callback(null, null);
    },
    authorizeForward: (client, packet) => {
      if (!verifyDevice || isInternalClientId(client.id)) return packet;
      // Belt and braces: even a subscription that slipped through delivers only the device's own inbox.
      return authorizeDeviceSubscribe(client.id, packet.topic) === null ? packet : null;
    },
    authorizePublish: (client, packet, callback) => {
      const verdict = authorizeDevicePublish(client, packet);
      if (verdict === null) {
        const ingest = opts.onDevicePublish;
        if (!ingest || client === null || isInternalClientId(client.id)) return callback(null);
        // aedes writes a QoS 1 PUBACK right after this callback, before routing the message, so
        // storing here is what makes an acknowledged observation durable.
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        ingest(packet.topic, payload).then(
          (outcome) => callback(outcome === 'ack' ? null : new Error('not stored; publish again')),
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
        return;
      }
      opts.logger.warn({ clientId: client?.id, topic: packet.topic, reason: verdict }, 'publish refused');
      // An error makes aedes drop the client, which is what a misbehaving device deserves.
      return callback(new Error(verdict));
    },
  };
};

/** Returns null when allowed, else why not. Exported for unit tests. */
export const authorizeDevicePublish = (
  client: Client | null,
  packet: Pick<PublishPacket, 'topic'> & { retain?: boolean },
): string | null => {
  // A null client is the broker itself (e.g. $SYS heartbeats).
  if (client === null || isInternalClientId(client.id)) return null;
  const parsed = parseDeviceTopic(packet.topic);
  if (!parsed) return 'topic outside the device tree';
  if (parsed.deviceId !== client.id) return 'topic belongs to another device';
  if (TOPIC_KINDS[parsed.kind].direction !== 'device→cloud') return 'devices may not publish cloud→device kinds';
  if (packet.retain === true && !TOPIC_KINDS[parsed.kind].retain) return 'devices may retain only their status';
  return null;
};

/**
 * A device may subscribe to exactly its own cloud→device topics (`config`, `commands`, `ota`): no
 * wildcards, nobody else's.
 */
export const authorizeDeviceSubscribe = (deviceId: string, topic: string): string | null => {
  const parsed = parseDeviceTopic(topic); // null for any wildcard or foreign tree
  if (!parsed || parsed.deviceId !== deviceId || TOPIC_KINDS[parsed.kind].direction !== 'cloud→device')
    return 'devices may subscribe only to their own config, commands and ota topics';
  return null;
};
