import { z } from 'zod';
import { DeviceId, Timestamp } from './ids.js';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, { message: 'sha256 must be 64 lowercase hex characters' });

/** File names inside a model folder: plain names only, so a manifest can never write outside it. */
const BundlePath = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
  message: 'file path must be a plain file name (no folders, no ..)',
});

export const OtaFile = z.strictObject({
  path: BundlePath,
  url: z.url({ message: 'file url must be an http(s) URL' }),
  sha256: Sha256,
  size: z
    .number()
    .int()
    .min(1)
    .max(512 * 1024 * 1024),
});

/**
 * What an update installs. `model` replaces the whole model folder (detector, embedder, gallery,
 * model.json); `gallery` replaces only gallery.json, for SKUs enrolled without retraining.
 */
export const OtaManifest = z.strictObject({
  kind: z.enum(['model', 'gallery']),
  name: z.string().min(1).max(64),
  version: z.string().min(1).max(64),
  files: z.array(OtaFile).min(1).max(16),
  issuedAt: Timestamp,
});

/**
 * Retained on the device's `ota` topic. `signature` is Ed25519 over `canonicalJson(manifest)`,
 * base64; the agent refuses anything its configured public keys did not sign.
 */
export const OtaAnnouncement = z.strictObject({
  manifest: OtaManifest,
  signature: z.string().min(16).max(512),
  keyId: z.string().max(64).optional(),
});

/** ThingsBoard's firmware states, which fleet tools already understand. */
export const OtaStateName = z.enum(['DOWNLOADING', 'DOWNLOADED', 'VERIFIED', 'UPDATING', 'UPDATED', 'FAILED']);

export const OtaState = z.strictObject({
  deviceId: DeviceId,
  kind: z.enum(['model', 'gallery']),
  version: z.string().min(1).max(64),
  state: OtaStateName,
  at: Timestamp,
  /** Why it FAILED (verification, download, self-test…); absent otherwise. */
  error: z.string().max(2000).optional(),
  /** The version running after this step (the old one after a rollback). */
  running: z.string().max(64).optional(),
});

/** Deterministic JSON (object keys sorted, no spaces): the bytes a manifest signature covers. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

export type OtaFile = z.infer<typeof OtaFile>;
export type OtaManifest = z.infer<typeof OtaManifest>;
export type OtaAnnouncement = z.infer<typeof OtaAnnouncement>;
export type OtaStateName = z.infer<typeof OtaStateName>;
export type OtaState = z.infer<typeof OtaState>;
