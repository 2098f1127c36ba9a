import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { TOPIC_KINDS, TOPIC_ROOT, type TopicKind } from '@shelfsight/protocol';
import type { DeviceRegistry } from './registry.js';
import { writeAtomic } from './registry.js';

/**
 * Mosquitto parity: the same identities and topic rules as the embedded broker, as the three files
 * Debian's mosquitto (2.0) reads. The registry already stores Mosquitto's `$7$` PBKDF2-SHA512 hashes,
 * so the password file is written without any plaintext.
 *
 * What differs from the embedded broker (Mosquitto's ACL file has no such switches):
 * - a wrong client id is not refused: `use_username_as_clientid` replaces it with the username, so a
 *   device still cannot act as (or kick off) another one;
 * - a device may set the retain flag on its own `observations`/`replies` too (never on anyone
 *   else's topics, and never on its `config`, which it cannot write at all);
 * - a refused publish is dropped silently instead of disconnecting the client.
 */

/** A non-device account (the cloud's own clients, operators' tools): read/write on the whole v1 tree. */
export interface MosquittoServiceUser {
  username: string;
  /** `$7$` hash (see `hashPassword`). */
  passwordHash: string;
}

const kinds = (direction: 'device→cloud' | 'cloud→device'): TopicKind[] =>
  (Object.keys(TOPIC_KINDS) as TopicKind[]).filter((k) => TOPIC_KINDS[k].direction === direction);

export const mosquittoPasswordFile = (
  registry: Pick<DeviceRegistry, 'activeCredentialHashes'>,
  services: MosquittoServiceUser[] = [],
): string =>
  [...registry.activeCredentialHashes(), ...services].map((u) => `${u.username}:${u.passwordHash}\n`).join('');

/** `pattern` lines apply to every user with `%u` = username = deviceId. */
export const mosquittoAclFile = (services: Pick<MosquittoServiceUser, 'username'>[] = []): string =>
  [
    '# ShelfSight device ACL (generated; see cloud/README.md "Security").',
    '# Devices authenticate as username = deviceId; use_username_as_clientid makes it the client id too.',
    '# Anything not granted here is denied.',
    '',
    ...kinds('device→cloud').map((k) => `pattern write ${TOPIC_ROOT}/devices/%u/${k}`),
    ...kinds('cloud→device').map((k) => `pattern read ${TOPIC_ROOT}/devices/%u/${k}`),
    '',
    ...services.flatMap((s) => [`user ${s.username}`, `topic readwrite ${TOPIC_ROOT}/#`, '']),
  ].join('\n');

export interface MosquittoConfigOptions {
  passwordFile: string;
  aclFile: string;
  /** Plain listener; omit to have only the TLS one. */
  port?: number;
  host?: string;
  tls?: { port: number; certfile: string; keyfile: string };
  /** Same transport cap as the embedded broker (4 × the payload limit). */
  maxPacketBytes?: number;
  /**
   * An internal listener for the cloud and the ingest workers, without `use_username_as_clientid`:
   * an ingest worker opens several sessions under one service user (docs/decisions.md D16), which
   * that option would give one client id, so they would keep disconnecting each other. Bind it
   * where devices cannot reach it. Needs `port` or `tls` for the devices' listener.
   */
  service?: { port: number; host?: string };
}

/**
 * mosquitto.conf lines for the ShelfSight listeners (append to or include from the main config;
 * with the default `per_listener_settings false` the security options apply to every listener).
 */
export const mosquittoConfig = (o: MosquittoConfigOptions): string => {
  const explicit = o.port !== undefined || o.tls !== undefined;
  if (o.service && !explicit) throw new Error("a service listener needs the devices' listener (port or tls) too");
  // use_username_as_clientid is a listener option: before any `listener` line it configures only
  // the default listener, which does not exist once a listener is declared. So it follows each
  // devices' listener (and stays at the top only when the default listener is the one used).
  const devices = (line: string) => [line, 'use_username_as_clientid true'];
  return [
    'allow_anonymous false',
    `password_file ${o.passwordFile}`,
    `acl_file ${o.aclFile}`,
    ...(explicit ? [] : ['use_username_as_clientid true']),
    `max_packet_size ${o.maxPacketBytes ?? 1024 * 1024}`,
    ...(o.port !== undefined ? devices(`listener ${o.port}${o.host ? ` ${o.host}` : ''}`) : []),
    ...(o.tls
      ? [
          ...devices(`listener ${o.tls.port}${o.host ? ` ${o.host}` : ''}`),
          `certfile ${o.tls.certfile}`,
          `keyfile ${o.tls.keyfile}`,
          'tls_version tlsv1.2',
        ]
      : []),
    ...(o.service ? [`listener ${o.service.port}${o.service.host ? ` ${o.service.host}` : ''}`] : []),
    '',
  ].join('\n');
};

/** Writes `passwd` and `acl` (0600) into `dir`; returns their paths. */
export const writeMosquittoFiles = async (
  registry: Pick<DeviceRegistry, 'activeCredentialHashes'>,
  dir: string,
  services: MosquittoServiceUser[] = [],
): Promise<{ passwordFile: string; aclFile: string }> => {
  await mkdir(dir, { recursive: true });
  const passwordFile = path.join(dir, 'passwd');
  const aclFile = path.join(dir, 'acl');
  await writeAtomic(passwordFile, mosquittoPasswordFile(registry, services));
  await writeAtomic(aclFile, mosquittoAclFile(services));
  return { passwordFile, aclFile };
};
