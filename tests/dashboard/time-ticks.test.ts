import { describe, expect, it } from 'vitest';
import { timeTick } from '../../dashboard/src/time-ticks.js';

describe('timeTick (time-axis labels)', () => {
  it('labels a midnight tick with day and month, not the bare day of the month', () => {
    expect(timeTick(Date.UTC(2026, 11, 2), 'en-GB', 'UTC')).toBe('2 Dec');
    expect(timeTick(Date.UTC(2026, 11, 2), 'zh-CN', 'UTC')).toBe('12月2日');
  });

  it('labels any other tick with its time of day, with seconds off the whole minute', () => {
    expect(timeTick(Date.UTC(2026, 11, 2, 6), 'en-GB', 'UTC')).toBe('06:00');
    expect(timeTick(Date.UTC(2026, 11, 2, 0, 30), 'en-GB', 'UTC')).toBe('00:30');
    expect(timeTick(Date.UTC(2026, 11, 2, 1, 16, 30), 'en-GB', 'UTC')).toBe('01:16:30');
    expect(timeTick(Date.UTC(2026, 11, 2, 0, 0, 0, 500), 'en-GB', 'UTC')).toBe('00:00:00');
  });

  it('decides midnight in the viewer time zone', () => {
    // 16:00 UTC is midnight in Shanghai (UTC+8): a day tick there.
    expect(timeTick(Date.UTC(2026, 11, 1, 16), 'en-GB', 'Asia/Shanghai')).toBe('2 Dec');
    expect(timeTick(Date.UTC(2026, 11, 2), 'en-GB', 'Asia/Shanghai')).toBe('08:00');
  });
});
