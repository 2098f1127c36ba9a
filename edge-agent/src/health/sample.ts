import { statfs } from 'node:fs/promises';

/** Samples process CPU use between calls, as a percentage of one core. */
export class CpuMeter {
  private last = process.cpuUsage();
  private lastAt = process.hrtime.bigint();

  sample(): number {
    const now = process.hrtime.bigint();
    const usage = process.cpuUsage(this.last);
    const elapsedUs = Number(now - this.lastAt) / 1000;
    this.last = process.cpuUsage();
    this.lastAt = now;
    return elapsedUs > 0 ? Math.round(((usage.user + usage.system) / elapsedUs) * 1000) / 10 : 0;
  }
}

export const diskFreeMb = async (dir: string): Promise<number | undefined> => {
  try {
    const s = await statfs(dir);
    return Math.round((s.bavail * s.bsize) / (1024 * 1024));
  } catch {
    return undefined;
  }
};

export const rssMb = (): number => Math.round((process.memoryUsage().rss / (1024 * 1024)) * 10) / 10;
