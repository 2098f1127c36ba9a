import { currentLang, t } from './i18n.js';
import { timeTick } from './time-ticks.js';

const loc = () => (currentLang() === 'zh-CN' ? 'zh-CN' : 'en-GB');

/** 0–1 ratio as a percentage with one decimal, or an em dash. */
export const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x)
    ? '—'
    : new Intl.NumberFormat(loc(), { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(x);

export const num = (x: number | null | undefined, digits = 0): string =>
  x === null || x === undefined || Number.isNaN(x)
    ? '—'
    : new Intl.NumberFormat(loc(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(x);

export const money = (x: number | null | undefined): string =>
  x === null || x === undefined
    ? '—'
    : new Intl.NumberFormat(loc(), { style: 'currency', currency: 'CNY', maximumFractionDigits: 0 }).format(x);

export const dateTime = (iso: string | null | undefined): string =>
  iso ? new Intl.DateTimeFormat(loc(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)) : '—';

/** Label of a time-axis tick in the viewer's language and time zone (see time-ticks.ts). */
export const axisTime = (ms: number): string => timeTick(ms, loc());

export const dateOnly = (iso: string | null | undefined): string =>
  iso ? new Intl.DateTimeFormat(loc(), { dateStyle: 'medium' }).format(new Date(iso)) : '—';

export const relative = (iso: string | null | undefined, now = Date.now()): string => {
  if (!iso) return '—';
  const rtf = new Intl.RelativeTimeFormat(loc(), { numeric: 'auto' });
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const a = Math.abs(s);
  if (a < 10) return t('common.justNow');
  if (a < 45) return rtf.format(s, 'second');
  if (a < 45 * 60) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 22 * 3600) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86_400), 'day');
};

/** Signed change between two ratios in percentage points, or between two amounts in percent. */
export const delta = (cur: number | null, prev: number | null | undefined, kind: 'pp' | 'rel'): string | null => {
  if (cur === null || prev === null || prev === undefined) return null;
  if (kind === 'pp') {
    const d = (cur - prev) * 100;
    return `${d >= 0 ? '+' : '−'}${num(Math.abs(d), 1)} pp`;
  }
  if (prev === 0) return null;
  const d = (cur - prev) / prev;
  return `${d >= 0 ? '+' : '−'}${pct(Math.abs(d))}`;
};
