const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const abs = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export const relativeTime = (iso: string, now = Date.now()): string => {
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const a = Math.abs(s);
  if (a < 45) return a < 10 ? 'just now' : rtf.format(s, 'second');
  if (a < 45 * 60) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 22 * 3600) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86_400), 'day');
};

export const absoluteTime = (iso: string): string => abs.format(new Date(iso));

/** Capture older than this is shown as stale: the camera or its network is probably down. */
export const STALE_AFTER_MS = 2 * 3600_000;

export const QUALITY_LABELS: Record<string, string> = {
  too_dark: 'Too dark',
  too_bright: 'Overexposed',
  blurred: 'Blurred',
  low_contrast: 'Low contrast',
  door_open: 'Door open',
  occluded: 'Occluded',
  low_confidence: 'Low confidence',
};
