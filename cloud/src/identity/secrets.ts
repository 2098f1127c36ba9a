import { createHash, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/**
 * Device passwords are stored as PBKDF2-HMAC-SHA512 in Mosquitto's `$7$` format
 * (`$7$<iterations>$<base64 salt>$<base64 hash>`), so the same stored hash authenticates a device on
 * the embedded broker and, exported as a password file, on Mosquitto — no plaintext is ever kept.
 * Passwords are 256-bit random strings made by the cloud, so the KDF is defence in depth, not what
 * stands between an attacker and a guessable password.
 */
export const DEFAULT_PBKDF2_ITERATIONS = 20_000;
const SALT_BYTES = 12; // what mosquitto_passwd uses
const HASH_BYTES = 64;

/** 32 random bytes as base64url (43 characters): device passwords, claim tokens, admin tokens. */
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export const hashPassword = async (password: string, iterations = DEFAULT_PBKDF2_ITERATIONS): Promise<string> => {
  const salt = randomBytes(SALT_BYTES);
  const hash = await pbkdf2Async(password, salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
};

const parseHash = (stored: string): { iterations: number; salt: Buffer; hash: Buffer } | null => {
  const m = /^\$7\$(\d{1,7})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return null;
  const iterations = Number(m[1]);
  const hash = Buffer.from(m[3]!, 'base64');
  if (iterations < 1 || hash.length !== HASH_BYTES) return null;
  return { iterations, salt: Buffer.from(m[2]!, 'base64'), hash };
};

// Verified against when a device is unknown, so a miss costs as much time as a hit.
const DUMMY = `$7$${DEFAULT_PBKDF2_ITERATIONS}$${randomBytes(SALT_BYTES).toString('base64')}$${randomBytes(HASH_BYTES).toString('base64')}`;

/** Constant-time check of `password` against a `$7$` hash; `stored` undefined still spends the KDF time. */
export const verifyPassword = async (password: Buffer | string, stored: string | undefined): Promise<boolean> => {
  const parsed = parseHash(stored ?? DUMMY) ?? parseHash(DUMMY)!;
  const got = await pbkdf2Async(password, parsed.salt, parsed.iterations, HASH_BYTES, 'sha512');
  return timingSafeEqual(got, parsed.hash) && stored !== undefined;
};

/** Claim and admin tokens are high-entropy random strings: a SHA-256 digest is enough to store them. */
export const sha256 = (value: string | Buffer): string => createHash('sha256').update(value).digest('base64url');

/** Constant-time equality for strings of any length (compares digests). */
export const safeEqual = (a: string | Buffer, b: string | Buffer): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
