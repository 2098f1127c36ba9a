import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { CameraError, type CameraSource, type Frame } from './source.js';

const IMAGE = /\.(jpe?g|png)$/i;

/**
 * A folder a camera uploads stills into (FTP/SMB drop, as many IP cameras and cooler cameras do).
 * A grab takes the newest image; one older than `maxAgeS` means the camera has stopped sending,
 * which is reported as an error rather than re-counting an old picture.
 */
export class FolderCamera implements CameraSource {
  readonly description: string;

  constructor(
    private readonly dir: string,
    private readonly maxAgeS: number,
  ) {
    this.description = `folder ${dir}`;
  }

  async grab(): Promise<Frame> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => IMAGE.test(n));
    } catch (err) {
      throw new CameraError(`cannot read camera folder ${this.dir}: ${(err as Error).message}`);
    }
    const stats = await Promise.all(
      names.map(async (name) => ({
        name,
        mtimeMs: (await stat(path.join(this.dir, name)).catch(() => null))?.mtimeMs ?? 0,
      })),
    );
    const newest = stats.sort((a, b) => b.mtimeMs - a.mtimeMs || b.name.localeCompare(a.name))[0];
    if (!newest || newest.mtimeMs === 0) throw new CameraError(`no image in camera folder ${this.dir}`);
    const ageS = (Date.now() - newest.mtimeMs) / 1000;
    if (ageS > this.maxAgeS)
      throw new CameraError(`newest image ${newest.name} is ${Math.round(ageS)} s old (limit ${this.maxAgeS} s)`);
    const image = await readFile(path.join(this.dir, newest.name));
    if (image.byteLength === 0) throw new CameraError(`image ${newest.name} is empty (upload in progress?)`);
    return { image, capturedAt: new Date(newest.mtimeMs), frameId: newest.name };
  }

  async close(): Promise<void> {}
}
