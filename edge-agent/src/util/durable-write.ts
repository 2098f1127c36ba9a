import { open, rm } from 'node:fs/promises';

/**
 * Writes `body` to `file` and fsyncs it. On failure (typically ENOSPC on a full disk) the partial file
 * is removed, so it neither holds on to the space nor lingers half-written, and the error carries the
 * path: `FileHandle.writeFile` and `sync` report only the syscall.
 */
export const writeDurably = async (file: string, body: string | Uint8Array): Promise<void> => {
  try {
    const fh = await open(file, 'w');
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await rm(file, { force: true }).catch(() => undefined);
    if (err instanceof Error && (err as NodeJS.ErrnoException).path === undefined)
      (err as NodeJS.ErrnoException).path = file;
    throw err;
  }
};

/** True for "no space left on device" (or the quota equivalent): the write can succeed later, once space is freed. */
export const isDiskFull = (err: unknown): err is NodeJS.ErrnoException =>
  err instanceof Error && ['ENOSPC', 'EDQUOT'].includes((err as NodeJS.ErrnoException).code ?? '');
