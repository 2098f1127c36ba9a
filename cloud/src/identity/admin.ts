import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { writeAtomic } from './registry.js';
import { randomSecret, safeEqual } from './secrets.js';

export interface AdminTokenSource {
  /** The token itself (from the environment: SHELFSIGHT_ADMIN_TOKEN). */
  token?: string | undefined;
  /** A file holding the token (first line). */
  file?: string | undefined;
  /** Where a generated token is written (0600) when neither is given; null = generate, keep in memory. */
  dataDir: string | null;
}

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The admin bearer token, in this order: given directly, read from a file, read from
 * `<dataDir>/admin-token`, or generated and written there with mode 0600. Never logged; the
 * caller learns only where it came from.
 */
export const resolveAdminToken = async (
  src: AdminTokenSource,
): Promise<{ token: string; source: 'env' | 'file' | 'generated' | 'memory' }> => {
  if (src.token) return { token: src.token.trim(), source: 'env' };
  const read = async (file: string) => (await readFile(file, 'utf8')).split('\n')[0]!.trim();
  if (src.file) {
    const token = await read(src.file);
    if (token.length < 16) throw new Error(`admin token file ${src.file} holds fewer than 16 characters`);
    return { token, source: 'file' };
  }
  if (src.dataDir === null) return { token: randomSecret(), source: 'memory' };
  const file = path.join(src.dataDir, ADMIN_TOKEN_FILE);
  try {
    const token = await read(file);
    if (token.length >= 16) return { token, source: 'file' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomSecret();
  await writeAtomic(file, `${token}\n`);
  return { token, source: 'generated' };
};

/** `Authorization: Bearer <admin token>`, compared in constant time; 401 otherwise. */
export const requireAdmin =
  (token: string): RequestHandler =>
  (req, res, next) => {
    const m = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
    if (m && safeEqual(m[1]!, token)) return next();
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="shelfsight-admin"')
      .json({ error: 'admin token required', details: [{ param: 'authorization', message: 'Bearer <admin token>' }] });
  };
