import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, type OtaAnnouncement } from '@shelfsight/protocol';

export class OtaVerificationError extends Error {
  override name = 'OtaVerificationError';
}

/** Accepts PEM (SPKI) or a bare base64 raw 32-byte Ed25519 public key. */
export const parsePublicKey = (text: string): KeyObject => {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return createPublicKey(trimmed);
  const raw = Buffer.from(trimmed, 'base64');
  if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes (base64) or a PEM block');
  // SPKI prefix for Ed25519 (RFC 8410) followed by the raw key.
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
};

/** Throws unless one of the trusted keys signed exactly this manifest. */
export const verifyAnnouncement = (ann: OtaAnnouncement, trusted: KeyObject[]): void => {
  if (trusted.length === 0) throw new OtaVerificationError('no OTA public key configured; refusing all updates');
  let sig: Buffer;
  try {
    sig = Buffer.from(ann.signature, 'base64');
  } catch {
    throw new OtaVerificationError('signature is not base64');
  }
  const data = Buffer.from(canonicalJson(ann.manifest));
  const ok = trusted.some((key) => {
    try {
      return verify(null, data, key, sig);
    } catch {
      return false;
    }
  });
  if (!ok) throw new OtaVerificationError('signature does not verify with any trusted key');
};
