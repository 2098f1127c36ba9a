import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { DeviceId, FixtureId, OutletId } from '@shelfsight/protocol';
import { DEFAULT_PBKDF2_ITERATIONS, hashPassword, randomSecret, sha256, verifyPassword } from './secrets.js';

const Iso = z.string().min(1);

const DeviceRecord = z.object({
  deviceId: DeviceId,
  outletId: OutletId.optional(),
  fixtureId: FixtureId.optional(),
  /** `$7$` PBKDF2-SHA512 hash (Mosquitto's format); absent once revoked. */
  passwordHash: z.string().optional(),
  provisionedAt: Iso,
  claimId: z.string().optional(),
  revokedAt: Iso.optional(),
});
export type DeviceRecord = z.infer<typeof DeviceRecord>;

const ClaimRecord = z.object({
  id: z.string(),
  /** SHA-256 of the token; the token itself is shown once, at creation. */
  tokenHash: z.string(),
  deviceId: DeviceId.optional(),
  outletId: OutletId.optional(),
  fixtureId: FixtureId.optional(),
  note: z.string().optional(),
  createdAt: Iso,
  expiresAt: Iso,
  usedAt: Iso.optional(),
  usedBy: DeviceId.optional(),
});
export type ClaimRecord = z.infer<typeof ClaimRecord>;

const RegistryFile = z.object({
  version: z.literal(1),
  devices: z.record(z.string(), DeviceRecord),
  claims: z.record(z.string(), ClaimRecord),
});
type RegistryFile = z.infer<typeof RegistryFile>;

export type ProvisionErrorCode = 'invalid_token' | 'expired' | 'already_used' | 'device_mismatch' | 'device_taken';

/** A refused provisioning attempt; `status` is what the REST API answers. */
export class ProvisionError extends Error {
  override name = 'ProvisionError';
  constructor(
    readonly code: ProvisionErrorCode,
    message: string,
    readonly status: 401 | 409 | 400,
  ) {
    super(message);
  }
}

export interface NewClaim {
  deviceId?: string | undefined;
  outletId?: string | undefined;
  fixtureId?: string | undefined;
  note?: string | undefined;
  /** Lifetime; default 24 h. */
  ttlS?: number | undefined;
}

export interface IssuedClaim {
  claimId: string;
  /** Shown once; only its hash is kept. */
  claimToken: string;
  expiresAt: string;
  deviceId?: string;
  outletId?: string;
  fixtureId?: string;
}

export interface IssuedCredentials {
  deviceId: string;
  username: string;
  /** Shown once; only its hash is kept. */
  password: string;
  outletId?: string;
  fixtureId?: string;
}

export interface RegistryOptions {
  /** JSON file (written atomically, mode 0600); null keeps everything in memory (tests, `:memory:`). */
  file: string | null;
  pbkdf2Iterations?: number;
  now?: () => Date;
}

/**
 * Device identities: per-device credential hashes and one-time claim tokens, in one small JSON file
 * rewritten atomically (temp file, fsync, rename) on every change. Changes are rare (a claim, a
 * provisioning, a revocation), so a file beats a table here, and it can be backed up or inspected.
 */
export class DeviceRegistry {
  private data: RegistryFile = { version: 1, devices: {}, claims: {} };
  private writing: Promise<void> = Promise.resolve();
  private readonly iterations: number;
  private readonly now: () => Date;

  private constructor(private readonly opts: RegistryOptions) {
    this.iterations = opts.pbkdf2Iterations ?? DEFAULT_PBKDF2_ITERATIONS;
    this.now = opts.now ?? (() => new Date());
  }

  static async open(opts: RegistryOptions): Promise<DeviceRegistry> {
    const reg = new DeviceRegistry(opts);
    if (opts.file) {
      await mkdir(path.dirname(opts.file), { recursive: true, mode: 0o700 });
      let text: string | null = null;
      try {
        text = await readFile(opts.file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      if (text !== null) {
        const parsed = RegistryFile.safeParse(JSON.parse(text));
        if (!parsed.success) throw new Error(`device registry ${opts.file} is corrupt: ${parsed.error.message}`);
        reg.data = parsed.data;
      }
    }
    return reg;
  }

  createClaim(req: NewClaim): Promise<IssuedClaim> {
    const claimToken = `ssc_${randomSecret()}`;
    const created = this.now();
    const claim: ClaimRecord = {
      id: randomUUID(),
      tokenHash: sha256(claimToken),
      ...(req.deviceId ? { deviceId: req.deviceId } : {}),
      ...(req.outletId ? { outletId: req.outletId } : {}),
      ...(req.fixtureId ? { fixtureId: req.fixtureId } : {}),
      ...(req.note ? { note: req.note } : {}),
      createdAt: created.toISOString(),
      expiresAt: new Date(created.getTime() + (req.ttlS ?? 86_400) * 1000).toISOString(),
    };
    this.data.claims[claim.id] = claim;
    return this.persist().then(() => ({
      claimId: claim.id,
      claimToken,
      expiresAt: claim.expiresAt,
      ...(claim.deviceId ? { deviceId: claim.deviceId } : {}),
      ...(claim.outletId ? { outletId: claim.outletId } : {}),
      ...(claim.fixtureId ? { fixtureId: claim.fixtureId } : {}),
    }));
  }

  /**
   * Burns the claim token and issues a fresh password for the device. A claim bound to a device id
   * may re-provision that device (rotating its password); a free claim may not take over an id that
   * already has credentials.
   */
  async provision(claimToken: string, requestedDeviceId?: string): Promise<IssuedCredentials> {
    const tokenHash = sha256(claimToken);
    const claim = Object.values(this.data.claims).find((c) => c.tokenHash === tokenHash);
    if (!claim) throw new ProvisionError('invalid_token', 'unknown claim token', 401);
    if (claim.usedAt) throw new ProvisionError('already_used', 'claim token already used', 409);
    if (Date.parse(claim.expiresAt) <= this.now().getTime())
      throw new ProvisionError('expired', 'claim token expired', 401);
    const deviceId = claim.deviceId ?? requestedDeviceId;
    if (!deviceId) throw new ProvisionError('device_mismatch', 'this claim needs a deviceId in the request', 400);
    if (claim.deviceId && requestedDeviceId && requestedDeviceId !== claim.deviceId)
      throw new ProvisionError('device_mismatch', 'claim token is bound to another device', 409);
    const existing = this.data.devices[deviceId];
    if (!claim.deviceId && existing?.passwordHash)
      throw new ProvisionError('device_taken', 'device already provisioned; use a claim bound to it', 409);

    // Burn the token before the first await, so a concurrent replay sees it used.
    const usedAt = this.now().toISOString();
    claim.usedAt = usedAt;
    claim.usedBy = deviceId;
    try {
      const password = randomSecret();
      const record: DeviceRecord = {
        deviceId,
        ...(claim.outletId ? { outletId: claim.outletId } : {}),
        ...(claim.fixtureId ? { fixtureId: claim.fixtureId } : {}),
        passwordHash: await hashPassword(password, this.iterations),
        provisionedAt: usedAt,
        claimId: claim.id,
      };
      this.data.devices[deviceId] = record;
      await this.persist();
      return {
        deviceId,
        username: deviceId,
        password,
        ...(record.outletId ? { outletId: record.outletId } : {}),
        ...(record.fixtureId ? { fixtureId: record.fixtureId } : {}),
      };
    } catch (err) {
      delete claim.usedAt;
      delete claim.usedBy;
      if (existing) this.data.devices[deviceId] = existing;
      else delete this.data.devices[deviceId];
      throw err;
    }
  }

  /** Issues credentials directly (operator tooling, tests): a bound claim made and used at once. */
  async issue(deviceId: string, extra: Omit<NewClaim, 'deviceId' | 'ttlS'> = {}): Promise<IssuedCredentials> {
    const claim = await this.createClaim({ ...extra, deviceId, ttlS: 60 });
    return this.provision(claim.claimToken, deviceId);
  }

  /** True when `password` is the device's current password. Constant time; unknown ids cost the same. */
  verify(deviceId: string, password: Buffer | string): Promise<boolean> {
    return verifyPassword(password, this.data.devices[deviceId]?.passwordHash);
  }

  /** Drops the device's password hash; returns false if it had none. */
  async revoke(deviceId: string): Promise<boolean> {
    const rec = this.data.devices[deviceId];
    if (!rec?.passwordHash) return false;
    const before = { ...rec };
    delete rec.passwordHash;
    rec.revokedAt = this.now().toISOString();
    try {
      await this.persist();
    } catch (err) {
      this.data.devices[deviceId] = before;
      throw err;
    }
    return true;
  }

  /** Devices without secrets, for the admin API. */
  listDevices(): {
    deviceId: string;
    outletId?: string;
    fixtureId?: string;
    state: 'active' | 'revoked';
    provisionedAt: string;
    revokedAt?: string;
  }[] {
    return Object.values(this.data.devices)
      .map((d) => ({
        deviceId: d.deviceId,
        ...(d.outletId ? { outletId: d.outletId } : {}),
        ...(d.fixtureId ? { fixtureId: d.fixtureId } : {}),
        state: d.passwordHash ? ('active' as const) : ('revoked' as const),
        provisionedAt: d.provisionedAt,
        ...(d.revokedAt ? { revokedAt: d.revokedAt } : {}),
      }))
      .sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }

  /** Active devices with their `$7$` hashes: what a Mosquitto password file is made of. */
  activeCredentialHashes(): { username: string; passwordHash: string }[] {
    return Object.values(this.data.devices)
      .filter((d): d is DeviceRecord & { passwordHash: string } => d.passwordHash !== undefined)
      .map((d) => ({ username: d.deviceId, passwordHash: d.passwordHash }))
      .sort((a, b) => a.username.localeCompare(b.username));
  }

  /** Waits for pending writes. */
  async flush(): Promise<void> {
    await this.writing;
  }

  private persist(): Promise<void> {
    const file = this.opts.file;
    if (!file) return Promise.resolve();
    const text = JSON.stringify(this.data, null, 2) + '\n';
    const next = this.writing.catch(() => undefined).then(() => writeAtomic(file, text));
    this.writing = next;
    return next;
  }
}

/** Temp file (0600) → fsync → rename → fsync the folder: a crash leaves the old or the new file. */
export const writeAtomic = async (file: string, text: string): Promise<void> => {
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
};
