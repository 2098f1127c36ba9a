import { describe, expect, it } from 'vitest';
import { CaptureScheduler, ScheduleError, validateSchedule } from '../../edge-agent/src/schedule/scheduler.js';

describe('capture scheduler', () => {
  it('names the bad cron expression and its position', () => {
    expect(() => validateSchedule({ intervalS: 0, cron: ['0 8 * * *', '61 * * * *'] })).toThrow(ScheduleError);
    expect(() => validateSchedule({ intervalS: 0, cron: ['0 8 * * *', '61 * * * *'] })).toThrow(
      /capture\.cron\.1 "61 \* \* \* \*"/,
    );
    expect(() => validateSchedule({ intervalS: 0, cron: ['0 8 * * *'], timezone: 'Asia/Shanghai' })).not.toThrow();
  });

  it('fires on cron times and on the interval, and stops cleanly', async () => {
    const ticks: string[] = [];
    const s = new CaptureScheduler((src) => ticks.push(src));
    s.apply({ intervalS: 1, cron: ['* * * * * *'] }); // 6 fields: every second
    expect(s.nextRun()!.getTime() - Date.now()).toBeLessThanOrEqual(1000);
    await new Promise((r) => setTimeout(r, 2300));
    s.stop();
    const n = ticks.length;
    expect(ticks.filter((t) => t === 'cron').length).toBeGreaterThanOrEqual(2);
    expect(ticks.filter((t) => t === 'interval').length).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 1200));
    expect(ticks.length).toBe(n);
  });

  it('reads cron times in the configured time zone', () => {
    const s = new CaptureScheduler(() => {});
    s.apply({ intervalS: 0, cron: ['0 0 8 * * *'], timezone: 'Asia/Shanghai' });
    const next = s.nextRun()!;
    s.stop();
    // 08:00 in Shanghai (UTC+8, no DST) is 00:00 UTC.
    expect(next.getUTCHours()).toBe(0);
    expect(next.getUTCMinutes()).toBe(0);
  });
});
