import { masterdata } from '../state.js';
import { money } from '../format.js';
import { t } from '../i18n.js';
import { card, empty, h, load, table } from '../ui.js';
import { PALETTE } from '../charts.js';
import type { PageFn } from '../main.js';
import type { Sku } from '../types.js';

/** A drawn pack as the SKU's thumbnail until the cloud serves enrolled reference images. */
const thumb = (s: Sku): HTMLElement => {
  let x = 0;
  for (const ch of s.brand) x = (x * 31 + ch.charCodeAt(0)) | 0;
  const c = PALETTE[Math.abs(x) % PALETTE.length]!;
  const el = h(
    'span',
    { class: 'pack', title: s.name || s.sku, 'aria-hidden': 'true' },
    s.brand.slice(0, 2).toUpperCase(),
  );
  el.style.background = `linear-gradient(180deg, ${c} 0 70%, #fff 70% 78%, ${c} 78%)`;
  return el;
};

export const catalogPage: PageFn = (main) => {
  main.append(h('div', { class: 'page-head' }, h('h1', {}, t('catalog.title'))));
  const host = h('div', {});
  main.append(host);
  void load(
    host,
    () => masterdata(),
    (md) => {
      const skus = md.skus;
      const files = h('input', {
        type: 'file',
        accept: 'image/*',
        multiple: '',
        name: 'images',
        'data-testid': 'enroll-files',
      });
      const preview = h('div', { class: 'previews' });
      const status = h('p', { class: 'muted small' });
      files.addEventListener('change', () => {
        preview.replaceChildren(
          ...[...(files.files ?? [])].slice(0, 12).map((f) => {
            const img = h('img', { alt: f.name, src: URL.createObjectURL(f) });
            return img;
          }),
        );
        status.textContent = `${t('catalog.preview', { n: files.files?.length ?? 0 })} · ${t('catalog.enrollTodo')}`;
      });
      const enroll = card(
        t('catalog.enroll'),
        h('p', { class: 'muted small' }, t('catalog.enrollHint')),
        h('label', { class: 'field' }, h('span', { class: 'field__label' }, t('catalog.images')), files),
        preview,
        status,
      );
      const section = (own: boolean) => {
        const rows = skus.filter((s) => s.own === own);
        return card(
          `${t(own ? 'catalog.own' : 'catalog.competitor')} (${rows.length})`,
          rows.length
            ? table(
                rows,
                [
                  { key: 'img', label: 'col.images', value: () => null, render: (s) => thumb(s) },
                  { key: 'sku', label: 'col.sku', value: (s) => s.sku },
                  { key: 'name', label: 'col.name', value: (s) => s.name },
                  { key: 'brand', label: 'col.brand', value: (s) => s.brand },
                  { key: 'price', label: 'col.price', value: (s) => s.price, render: (s) => money(s.price), num: true },
                ],
                { sort: { key: 'sku', dir: 1 }, testId: own ? 'catalog-own' : 'catalog-competitor' },
              )
            : empty(t('catalog.none'), ''),
        );
      };
      return h('div', { class: 'stack' }, section(true), section(false), enroll);
    },
  );
};
