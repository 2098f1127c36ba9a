import { h } from './dom.js';
import { QUALITY_LABELS, STALE_AFTER_MS, absoluteTime, relativeTime } from './format.js';
import type { DeviceStatus, FixtureSummary } from './types.js';

// Distinct hues (Tableau-derived) with reds left out, since red marks empty facings; a hash picks one.
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#8cd17d',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#499894',
  '#9c755f',
  '#d4a6c8',
];

/** Stable colour per SKU, so the same product looks the same on every card. */
export const skuColour = (sku: string): string => {
  let hash = 0;
  for (const ch of sku) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return PALETTE[Math.abs(hash) % PALETTE.length]!;
};

const kpi = (value: number, label: string, tone: 'neutral' | 'warn' | 'bad' = 'neutral'): HTMLElement =>
  h(
    'div',
    { class: `kpi kpi--${tone}` },
    h('span', { class: 'kpi__value' }, String(value)),
    h('span', { class: 'kpi__label' }, label),
  );

/**
 * The shelf strip: every facing in the cooler as a proportional segment, empty gaps last, so share
 * of shelf and holes are visible at a glance.
 */
const shelfStrip = (f: FixtureSummary, skus: FixtureSummary['skus']): HTMLElement => {
  const total = skus.reduce((n, s) => n + s.facings, 0) + f.emptyFacings;
  const strip = h('div', { class: 'strip', role: 'img', 'aria-label': 'Facings share in this cooler' });
  if (total === 0) return strip;
  for (const s of skus) {
    if (s.facings === 0) continue;
    const seg = h('span', { class: 'strip__seg', title: `${s.sku}: ${s.facings} facings` });
    seg.style.flexGrow = String(s.facings);
    seg.style.background = skuColour(s.sku);
    strip.append(seg);
  }
  if (f.emptyFacings > 0) {
    const gap = h('span', { class: 'strip__seg strip__seg--empty', title: `${f.emptyFacings} empty facings` });
    gap.style.flexGrow = String(f.emptyFacings);
    strip.append(gap);
  }
  return strip;
};

const skuTable = (skus: FixtureSummary['skus']): HTMLElement => {
  if (skus.length === 0) return h('p', { class: 'muted' }, 'No products recognised in the last capture.');
  const maxFacings = Math.max(1, ...skus.map((s) => s.facings));
  const body = h('tbody');
  for (const s of skus) {
    const bar = h('span', { class: 'bar__fill' });
    bar.style.width = `${(s.facings / maxFacings) * 100}%`;
    bar.style.background = skuColour(s.sku);
    body.append(
      h(
        'tr',
        { 'data-sku': s.sku },
        h('th', { scope: 'row' }, h('span', { class: 'swatch', style: `background:${skuColour(s.sku)}` }), s.sku),
        h('td', { class: 'bar-cell' }, h('span', { class: 'bar' }, bar)),
        h('td', { class: 'num' }, String(s.facings)),
        h('td', { class: 'num' }, String(s.count)),
      ),
    );
  }
  return h(
    'table',
    { class: 'skus' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'SKU'),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Facings share')),
        h('th', { scope: 'col', class: 'num', title: 'Front-most products' }, 'Facings'),
        h('th', { scope: 'col', class: 'num', title: 'All visible products' }, 'Count'),
      ),
    ),
    body,
  );
};

export const renderCard = (f: FixtureSummary, device: DeviceStatus | undefined, now = Date.now()): HTMLElement => {
  const skus = [...f.skus].sort((a, b) => b.facings - a.facings || b.count - a.count || a.sku.localeCompare(b.sku));
  const facings = skus.reduce((n, s) => n + s.facings, 0);
  const stale = now - new Date(f.capturedAt).getTime() > STALE_AFTER_MS;
  const deviceState = device?.state ?? 'unknown';

  const flags = f.qualityFlags.length
    ? h(
        'ul',
        { class: 'flags', 'aria-label': 'Image quality warnings' },
        ...f.qualityFlags.map((q) => h('li', { class: 'flag' }, QUALITY_LABELS[q] ?? q)),
      )
    : null;

  return h(
    'article',
    { class: `card${stale ? ' card--stale' : ''}`, 'data-fixture': f.fixtureId, 'data-message': f.messageId },
    h(
      'header',
      { class: 'card__head' },
      h('div', {}, h('div', { class: 'card__outlet' }, f.outletId), h('h2', { class: 'card__title' }, f.fixtureId)),
      h(
        'span',
        { class: `device device--${deviceState}`, title: `Device ${f.deviceId}: ${deviceState}` },
        h('span', { class: 'dot' }),
        f.deviceId,
      ),
    ),
    h(
      'p',
      { class: 'card__time' },
      'Captured ',
      h(
        'time',
        { datetime: f.capturedAt, title: absoluteTime(f.capturedAt), 'data-relative': '' },
        relativeTime(f.capturedAt, now),
      ),
      stale ? h('span', { class: 'stale-note' }, ' · stale') : null,
    ),
    h(
      'div',
      { class: 'kpis' },
      kpi(facings, 'facings'),
      kpi(f.emptyFacings, 'empty', f.emptyFacings > 0 ? 'bad' : 'neutral'),
      kpi(f.unknownProducts, 'unknown', f.unknownProducts > 0 ? 'warn' : 'neutral'),
    ),
    flags,
    shelfStrip(f, skus),
    skuTable(skus),
    h('footer', { class: 'card__foot' }, `Model ${f.model.name} ${f.model.version}`),
  );
};
