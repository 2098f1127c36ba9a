import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { CloudOptions } from '../config.js';
import { resolveAdminToken } from './admin.js';
import { DeviceRegistry } from './registry.js';
import { createIdentityRouter } from './router.js';

export interface IdentityService {
  registry: DeviceRegistry;
  /** The admin bearer token (never logged). */
  adminToken: string;
  /** For the broker: undefined when `auth` is `off`. */
  verifyDevice: ((deviceId: string, password: Buffer) => Promise<boolean>) | undefined;
  /** PEM cert/key contents when a TLS listener is configured. */
  tls: { port: number; cert: Buffer; key: Buffer } | undefined;
  router(deps: { mqttUrl: string; disconnect: (deviceId: string) => boolean }): Router;
}

/** `<dataDir>/identity/` holds `devices.json` (registry) and `admin-token`, both 0600, in a 0700 folder. */
export const identityDir = (dataDir: string): string => path.join(dataDir, 'identity');

export const startIdentity = async (opts: CloudOptions, logger: Logger): Promise<IdentityService> => {
  const memory = opts.dataDir === ':memory:';
  const dir = memory ? null : identityDir(opts.dataDir);
  if (dir) await mkdir(dir, { recursive: true, mode: 0o700 });
  const registry = await DeviceRegistry.open({ file: dir ? path.join(dir, 'devices.json') : null });
  const admin = await resolveAdminToken({ token: opts.adminToken, file: opts.adminTokenFile, dataDir: dir });
  logger.info(
    {
      auth: opts.auth,
      adminToken: admin.source === 'generated' || admin.source === 'file' ? 'from file' : admin.source,
      ...(admin.source === 'generated' ? { adminTokenFile: path.join(dir!, 'admin-token') } : {}),
      devices: registry.listDevices().length,
    },
    'device identity ready',
  );
  let tls: IdentityService['tls'];
  if (opts.mqttsPort !== undefined && opts.tlsCert && opts.tlsKey) {
    tls = { port: opts.mqttsPort, cert: await readFile(opts.tlsCert), key: await readFile(opts.tlsKey) };
  }
  return {
    registry,
    adminToken: admin.token,
    verifyDevice: opts.auth === 'required' ? (id, pw) => registry.verify(id, pw) : undefined,
    tls,
    router: ({ mqttUrl, disconnect }) =>
      createIdentityRouter({
        registry,
        adminToken: admin.token,
        mqttUrl: opts.publicMqttUrl ?? mqttUrl,
        disconnect,
      }),
  };
};
