import { timingSafeEqual } from 'node:crypto';
import type { AedesOptions, AuthenticateError, Client, PublishPacket } from 'aedes';
import { TOPIC_KINDS, parseDeviceTopic } from '@shelfsight/protocol';
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
}

export const isInternalClientId = (id: string): boolean => id.startsWith(INTERNAL_CLIENT_PREFIX);

/**
 * Today's policy, kept apart from the broker so the auth/ACL issue replaces just this module:
 * any device may connect; a device may publish only the device→cloud kinds under its own
 * `shelfsight/v1/devices/<clientId>/…`; internal clients may publish anywhere.
 */
export const createAuthHooks = (opts: AuthPolicyOptions): Pick<AedesOptions, 'authenticate' | 'authorizePublish'> => {
  const secret = Buffer.from(opts.internalSecret);
  return {
    authenticate: (client, _username, password, done) => {
      if (!isInternalClientId(client.id)) return done(null, true);
      const ok = password !== undefined && password.length === secret.length && timingSafeEqual(password, secret);
      if (ok) return done(null, true);
      opts.logger.warn({ clientId: client.id }, 'internal client id without the internal secret refused');
      const err = new Error('bad credentials for an internal client id') as AuthenticateError;
      err.returnCode = 4; // BAD_USERNAME_OR_PASSWORD (a const enum in aedes types, unusable under isolatedModules)
      return done(err, false);
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
export const authorizeDevicePublish = (client: Client | null, packet: Pick<PublishPacket, 'topic'>): string | null => {
  // A null client is the broker itself (e.g. $SYS heartbeats).
  if (client === null || isInternalClientId(client.id)) return null;
  const parsed = parseDeviceTopic(packet.topic);
  if (!parsed) return 'topic outside the device tree';
  if (parsed.deviceId !== client.id) return 'topic belongs to another device';
  if (TOPIC_KINDS[parsed.kind].direction !== 'device→cloud') return 'devices may not publish cloud→device kinds';
  return null;
};
