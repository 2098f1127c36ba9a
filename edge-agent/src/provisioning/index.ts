import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DeviceId, FixtureId, OutletId } from '@shelfsight/protocol';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/schema.js';

/** Written by the first successful provisioning, mode 0600, in the agent's dataDir. */
export const CREDENTIALS_FILE = 'credentials.json';

export const StoredCredentials = z.object({
  deviceId: DeviceId,
  username: z.string().min(1),
  password: z.string().min(1),
  mqttUrl: z.string().optional(),
  outletId: OutletId.optional(),
  fixtureId: FixtureId.optional(),
  provisionedAt: z.string(),
});
export type StoredCredentials = z.infer<typeof StoredCredentials>;

const ProvisionResponse = z.object({
  deviceId: DeviceId,
  username: z.string().min(1),
  password: z.string().min(1),
  mqttUrl: z.string().optional(),
  outletId: OutletId.optional(),
  fixtureId: FixtureId.optional(),
});

/** The cloud refused the claim (bad, used or expired token, wrong device): retrying will not help. */
export class ProvisioningRefused extends Error {
  override name = 'ProvisioningRefused';
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface ProvisionRequest {
  /** The cloud's HTTP base URL, e.g. https://cloud.example.com. */
  url: string;
  claimToken: string;
  deviceId: string;
  timeoutMs?: number;
}

/** One call of `POST <url>/api/v1/provision`. Throws ProvisioningRefused on 4xx, Error otherwise. */
export const requestCredentials = async (req: ProvisionRequest): Promise<StoredCredentials> => {
  const endpoint = new URL('api/v1/provision', req.url.endsWith('/') ? req.url : `${req.url}/`);
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ claimToken: req.claimToken, deviceId: req.deviceId }),
    signal: AbortSignal.timeout(req.timeoutMs ?? 15_000),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status >= 400 && res.status < 500) {
    const code = typeof body.code === 'string' ? body.code : undefined;
    throw new ProvisioningRefused(
      `cloud refused provisioning (${res.status}): ${typeof body.error === 'string' ? body.error : res.statusText}`,
      res.status,
      code,
    );
  }
  if (!res.ok) throw new Error(`provisioning failed: HTTP ${res.status}`);
  const parsed = ProvisionResponse.safeParse(body);
  if (!parsed.success) throw new Error('provisioning answer is not a credentials object');
  if (parsed.data.deviceId !== req.deviceId)
    throw new ProvisioningRefused(`cloud issued credentials for ${parsed.data.deviceId}, not ${req.deviceId}`, 409);
  return { ...parsed.data, provisionedAt: new Date().toISOString() };
};

export const credentialsPath = (dataDir: string): string => path.join(dataDir, CREDENTIALS_FILE);

/** Null when the device has not been provisioned yet. */
export const readStoredCredentials = async (dataDir: string): Promise<StoredCredentials | null> => {
  let text: string;
  try {
    text = await readFile(credentialsPath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = StoredCredentials.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${credentialsPath(dataDir)} is not a valid credentials file`);
  return parsed.data;
};

/** Temp file (0600) → fsync → rename, so a power cut leaves no half-written credentials. */
export const writeStoredCredentials = async (dataDir: string, creds: StoredCredentials): Promise<void> => {
  await mkdir(dataDir, { recursive: true });
  const file = credentialsPath(dataDir);
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(creds, null, 2) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
};

/** Resolves the secret-file paths of a config against the config file's folder. */
export const resolveSecretPaths = (cfg: AgentConfig, baseDir: string): AgentConfig => ({
  ...cfg,
  mqtt: {
    ...cfg.mqtt,
    ...(cfg.mqtt.passwordFile ? { passwordFile: path.resolve(baseDir, cfg.mqtt.passwordFile) } : {}),
    ...(cfg.mqtt.caFile ? { caFile: path.resolve(baseDir, cfg.mqtt.caFile) } : {}),
  },
  ...(cfg.provisioning
    ? {
        provisioning: {
          ...cfg.provisioning,
          ...(cfg.provisioning.claimTokenFile
            ? { claimTokenFile: path.resolve(baseDir, cfg.provisioning.claimTokenFile) }
            : {}),
        },
      }
    : {}),
});

export interface EnsureOptions {
  log: Logger;
  /** Attempts on network errors and 5xx before giving up (default: keep trying). */
  maxAttempts?: number;
  /** First retry delay; doubles up to 60 s. */
  retryDelayMs?: number;
  signal?: AbortSignal;
}

/**
 * Gives the config its MQTT credentials:
 * 1. a password (or passwordFile) in the config wins — nothing else happens;
 * 2. else `<dataDir>/credentials.json` from an earlier provisioning;
 * 3. else, with `provisioning` configured, the claim token is exchanged with the cloud for the
 *    device's own credentials, stored (0600) and used. The claim token is single-use: if the answer
 *    is lost after the cloud issued credentials, the operator issues a new claim bound to this device.
 * Without any of these the agent connects without credentials (only for brokers with auth off).
 * Neither the token nor the password is logged.
 */
export const ensureCredentials = async (cfg: AgentConfig, opts: EnsureOptions): Promise<AgentConfig> => {
  const { log } = opts;
  if (cfg.mqtt.password !== undefined || cfg.mqtt.passwordFile !== undefined) return cfg;
  const withCreds = (c: StoredCredentials): AgentConfig => ({
    ...cfg,
    mqtt: { ...cfg.mqtt, username: c.username, password: c.password },
  });
  const stored = await readStoredCredentials(cfg.dataDir);
  if (stored) {
    if (stored.deviceId !== cfg.deviceId)
      throw new ProvisioningRefused(
        `${credentialsPath(cfg.dataDir)} belongs to ${stored.deviceId}, not ${cfg.deviceId}; remove it to provision again`,
        409,
      );
    return withCreds(stored);
  }
  const p = cfg.provisioning;
  if (!p) return cfg;
  const claimToken = p.claimToken ?? (await readFile(p.claimTokenFile!, 'utf8')).trim();
  let delay = opts.retryDelayMs ?? 2_000;
  for (let attempt = 1; ; attempt++) {
    log.info({ cloud: p.url, deviceId: cfg.deviceId, attempt }, 'provisioning: exchanging the claim token');
    try {
      const creds = await requestCredentials({ url: p.url, claimToken, deviceId: cfg.deviceId });
      await writeStoredCredentials(cfg.dataDir, creds);
      log.info(
        { deviceId: creds.deviceId, file: credentialsPath(cfg.dataDir), issuedMqttUrl: creds.mqttUrl },
        'provisioned: device credentials stored',
      );
      if (creds.mqttUrl && creds.mqttUrl !== cfg.mqtt.url)
        log.warn(
          { configured: cfg.mqtt.url, issued: creds.mqttUrl },
          'cloud suggests another broker URL; using the configured one',
        );
      return withCreds(creds);
    } catch (err) {
      if (err instanceof ProvisioningRefused) throw err;
      if (opts.maxAttempts !== undefined && attempt >= opts.maxAttempts) throw err;
      log.warn({ err: (err as Error).message, retryInMs: delay }, 'provisioning failed; will retry');
      await new Promise((r) => setTimeout(r, delay));
      if (opts.signal?.aborted) throw err;
      delay = Math.min(delay * 2, 60_000);
    }
  }
};
