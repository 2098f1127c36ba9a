import { Cron } from 'croner';

export interface ScheduleSpec {
  /** Seconds between captures; 0 = no interval captures. */
  intervalS: number;
  /** Cron expressions (5 or 6 fields, croner syntax) for captures at set times, e.g. "0 8-22 * * *". */
  cron: string[];
  /** IANA time zone the cron expressions are read in; defaults to the device's. */
  timezone?: string | undefined;
}

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

/** Throws a ScheduleError naming the bad expression, so a bad config is refused before it is applied. */
export const validateSchedule = (spec: ScheduleSpec): void => {
  spec.cron.forEach((expr, i) => {
    try {
      new Cron(expr, { paused: true, ...(spec.timezone ? { timezone: spec.timezone } : {}) }).stop();
    } catch (err) {
      throw new ScheduleError(`capture.cron.${i} ${JSON.stringify(expr)}: ${(err as Error).message}`);
    }
  });
};

/**
 * Fires `onTick` on an interval and at cron times. Ticks never queue up: the owner decides what to
 * do with a tick that arrives while a capture is still running (the agent skips it).
 */
export class CaptureScheduler {
  private interval: NodeJS.Timeout | undefined;
  private jobs: Cron[] = [];

  constructor(private readonly onTick: (source: 'interval' | 'cron') => void) {}

  apply(spec: ScheduleSpec): void {
    validateSchedule(spec);
    this.stop();
    if (spec.intervalS > 0) this.interval = setInterval(() => this.onTick('interval'), spec.intervalS * 1000);
    this.jobs = spec.cron.map(
      (expr) =>
        new Cron(expr, { protect: true, ...(spec.timezone ? { timezone: spec.timezone } : {}) }, () =>
          this.onTick('cron'),
        ),
    );
  }

  /** When the next scheduled capture is due, if any. */
  nextRun(): Date | undefined {
    const next = this.jobs.map((j) => j.nextRun()).filter((d): d is Date => d instanceof Date);
    return next.sort((a, b) => a.getTime() - b.getTime())[0];
  }

  stop(): void {
    if (this.interval) clearInterval(this.interval);
    this.interval = undefined;
    this.jobs.forEach((j) => j.stop());
    this.jobs = [];
  }
}
