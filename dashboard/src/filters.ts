import { h, select } from './ui.js';
import { label, t } from './i18n.js';
import type { MasterData } from './types.js';

/** Overview filters live in the URL query, so a view can be shared by copying the address. */
export interface Filters {
  range: '24h' | '7d' | '30d' | '90d';
  region: string;
  channel: string;
  brand: string;
  sku: string;
}

const RANGES = { '24h': 1, '7d': 7, '30d': 30, '90d': 90 } as const;

export const readFilters = (): Filters => {
  const q = new URLSearchParams(location.search);
  const r = q.get('range');
  return {
    range: r && r in RANGES ? (r as Filters['range']) : '7d',
    region: q.get('region') ?? '',
    channel: q.get('channel') ?? '',
    brand: q.get('brand') ?? '',
    sku: q.get('sku') ?? '',
  };
};

export const writeFilters = (f: Filters): void => {
  const q = new URLSearchParams();
  if (f.range !== '7d') q.set('range', f.range);
  for (const k of ['region', 'channel', 'brand', 'sku'] as const) if (f[k]) q.set(k, f[k]);
  const s = q.toString();
  history.replaceState(history.state, '', `${location.pathname}${s ? `?${s}` : ''}`);
};

/**
 * API time window: `to` is the end of the current hour, so the same view asks the same question
 * (and hits the cloud's cache) for an hour, and a shared link shows the same numbers.
 */
export const windowOf = (f: Filters, now = Date.now()): { from: string; to: string } => {
  const to = Math.ceil(now / 3_600_000) * 3_600_000;
  const from = to - RANGES[f.range] * 86_400_000;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
};

export const apiParams = (f: Filters): Record<string, string | undefined> => ({
  ...windowOf(f),
  region: f.region || undefined,
  channel: f.channel || undefined,
  brand: f.brand || undefined,
  sku: f.sku || undefined,
});

const uniq = (xs: string[]) => [...new Set(xs)].sort();

/** The filter bar; options come from master data when it has loaded (the bar renders at once). */
export const filterBar = (f: Filters, md: MasterData | null, onChange: (f: Filters) => void): HTMLElement => {
  const set = (k: keyof Filters) => (v: string) => onChange({ ...f, [k]: v } as Filters);
  const opt = (xs: string[]) => [
    { value: '', label: t('filter.all') },
    ...xs.map((x) => ({ value: x, label: label(x) })),
  ];
  const skus = (md?.skus ?? []).filter((s) => !f.brand || s.brand === f.brand);
  const keep = (xs: string[], v: string) => (v && !xs.includes(v) ? [...xs, v] : xs);
  const reset = h('button', { type: 'button', class: 'btn btn--ghost', 'data-action': 'reset' }, t('filter.reset'));
  reset.addEventListener('click', () => onChange({ range: '7d', region: '', channel: '', brand: '', sku: '' }));
  return h(
    'div',
    { class: 'filters', role: 'search' },
    select(
      'range',
      t('filter.range'),
      (['24h', '7d', '30d', '90d'] as const).map((r) => ({ value: r, label: t(`filter.${r}`) })),
      f.range,
      set('range'),
    ),
    select(
      'region',
      t('filter.region'),
      opt(keep(uniq((md?.outlets ?? []).map((o) => o.region)), f.region)),
      f.region,
      set('region'),
    ),
    select(
      'channel',
      t('filter.channel'),
      opt(keep(uniq((md?.outlets ?? []).map((o) => o.channel)), f.channel)),
      f.channel,
      set('channel'),
    ),
    select(
      'brand',
      t('filter.brand'),
      opt(keep(uniq((md?.skus ?? []).map((s) => s.brand)), f.brand)),
      f.brand,
      set('brand'),
    ),
    select(
      'sku',
      t('filter.sku'),
      [
        { value: '', label: t('filter.all') },
        ...keep(
          skus.map((s) => s.sku),
          f.sku,
        ).map((s) => ({ value: s, label: s })),
      ],
      f.sku,
      set('sku'),
    ),
    reset,
  );
};
