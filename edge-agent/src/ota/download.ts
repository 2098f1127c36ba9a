import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { OtaFile } from '@shelfsight/protocol';

export class OtaDownloadError extends Error {
  override name = 'OtaDownloadError';
}

/**
 * Streams one file to disk while hashing it, refusing anything longer than announced; the hash
 * is checked before the file is ever used.
 */
export const downloadFile = async (file: OtaFile, dir: string, timeoutMs = 120_000): Promise<void> => {
  const dest = path.join(dir, file.path);
  let res: Response;
  try {
    res = await fetch(file.url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new OtaDownloadError(`${file.path}: download from ${file.url} failed: ${(err as Error).message}`);
  }
  if (!res.ok || !res.body) throw new OtaDownloadError(`${file.path}: ${file.url} answered HTTP ${res.status}`);
  const hash = createHash('sha256');
  let size = 0;
  const counted = Readable.fromWeb(res.body as WebReadableStream).map((chunk: Buffer) => {
    size += chunk.length;
    if (size > file.size) throw new OtaDownloadError(`${file.path}: larger than the announced ${file.size} bytes`);
    hash.update(chunk);
    return chunk;
  });
  try {
    await pipeline(counted, createWriteStream(dest));
  } catch (err) {
    await rm(dest, { force: true });
    throw err instanceof OtaDownloadError ? err : new OtaDownloadError(`${file.path}: ${(err as Error).message}`);
  }
  if (size !== file.size) throw new OtaDownloadError(`${file.path}: got ${size} bytes, announced ${file.size}`);
  const digest = hash.digest('hex');
  if (digest !== file.sha256) throw new OtaDownloadError(`${file.path}: sha256 ${digest} does not match the manifest`);
};
