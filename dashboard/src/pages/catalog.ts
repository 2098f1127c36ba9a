import { api } from '../api.js';
import { isAdmin, masterdata } from '../state.js';
import { dateTime, money } from '../format.js';
import { t } from '../i18n.js';
import { card, empty, field, h, load, table, toast } from '../ui.js';
import { PALETTE } from '../charts.js';
import type { PageFn } from '../main.js';
import type { CatalogItem, CatalogResponse, EnrollResponse, GalleryChange, Sku } from '../types.js';

/** Most images one enrolment takes (the cloud refuses more). */
const MAX_IMAGES = 20;

/** A drawn pack for SKUs without a reference image yet. */
const drawnPack = (s: { sku: string; brand: string | null; name: string }): HTMLElement => {
  let x = 0;
  for (const ch of s.brand ?? s.sku) x = (x * 31 + ch.charCodeAt(0)) | 0;
  const c = PALETTE[Math.abs(x) % PALETTE.length]!;
  const el = h(
    'span',
    { class: 'pack', title: s.name || s.sku, 'aria-hidden': 'true' },
    (s.brand ?? s.sku).slice(0, 2).toUpperCase(),
  );
  el.style.background = `linear-gradient(180deg, ${c} 0 70%, #fff 70% 78%, ${c} 78%)`;
  return el;
};

const thumbs = (item: CatalogItem): HTMLElement => {
  if (!item.references.length) return drawnPack(item);
  return h(
    'span',
    { class: 'ref-thumbs' },
    ...item.references
      .slice(-3)
      .map((r) =>
        h(
          'a',
          { href: r.url, target: '_blank', rel: 'noopener' },
          h('img', { src: r.thumbUrl, alt: `${item.sku} ${r.name ?? r.id}`, loading: 'lazy' }),
        ),
      ),
    item.references.length > 3 ? h('span', { class: 'muted small' }, `+${item.references.length - 3}`) : null,
  );
};

const galleryState = (item: CatalogItem): HTMLElement =>
  item.inGallery
    ? h(
        'span',
        { class: `pill ${item.source === 'enrolled' ? 'pill--new' : 'pill--ok'}` },
        t(item.source === 'enrolled' ? 'catalog.enrolled' : 'catalog.trained', { n: item.shots ?? 0 }),
      )
    : h('span', { class: 'pill pill--out' }, t('catalog.notInGallery'));

const readAsBase64 = (f: File): Promise<string> =>
  new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error ?? new Error(`cannot read ${f.name}`));
    r.readAsDataURL(f);
  });

/** The enrolment form: pick a SKU (or describe a new one), upload images, see the new gallery version. */
const enrollForm = (
  cat: CatalogResponse,
  skus: Sku[],
  onDone: (result: HTMLElement) => void,
  /** The previous enrolment's outcome, kept on screen after the list reloads. */
  previous: HTMLElement | null,
): HTMLElement => {
  if (!isAdmin()) return h('p', { class: 'muted small' }, t('catalog.adminsOnly'));
  if (!cat.enrolment.available)
    return h('p', { class: 'warn small' }, t('catalog.unavailable', { why: cat.enrolment.reason ?? '' }));
  const NEW = '__new__';
  const pick = h(
    'select',
    { name: 'sku', 'data-testid': 'enroll-sku' },
    h('option', { value: NEW }, t('catalog.newSku')),
    ...[...skus]
      .sort((a, b) => a.sku.localeCompare(b.sku))
      .map((s) => h('option', { value: s.sku }, `${s.sku} · ${s.name || s.brand}`)),
  );
  const input = (name: string, type = 'text', attrs: Record<string, string> = {}) =>
    h('input', { name, type, 'data-testid': `enroll-${name}`, ...attrs });
  const newSku = input('newSku', 'text', { pattern: '[A-Za-z0-9._:-]{1,64}', placeholder: 'aur-mango-330c' });
  const brand = input('brand');
  const name = input('name');
  const own = input('own', 'checkbox');
  const price = input('price', 'number', { min: '0', step: '0.01', value: '0' });
  const cost = input('unitCost', 'number', { min: '0', step: '0.01', value: '0' });
  const files = input('images', 'file', { accept: 'image/jpeg,image/png,image/webp', multiple: '' });
  const keep = input('withExisting', 'checkbox');
  const preview = h('div', { class: 'previews' });
  const err = h('p', { class: 'form-error', role: 'alert' });
  const result = previous ?? h('div', { class: 'enroll-result', 'data-testid': 'enroll-result' });
  const newFields = h(
    'div',
    { class: 'form-grid', style: 'grid-column: 1 / -1' },
    field(t('catalog.skuId'), newSku),
    field(t('col.brand'), brand),
    field(t('col.name'), name),
    field(t('catalog.ownBrand'), own),
    field(t('col.price'), price),
    field(t('catalog.unitCost'), cost),
  );
  const sync = () => {
    newFields.hidden = pick.value !== NEW;
  };
  pick.addEventListener('change', sync);
  sync();
  files.addEventListener('change', () => {
    const list = [...(files.files ?? [])];
    preview.replaceChildren(
      ...list.slice(0, MAX_IMAGES).map((f) => h('img', { alt: f.name, src: URL.createObjectURL(f) })),
    );
    err.textContent = list.length > MAX_IMAGES ? t('catalog.tooMany', { n: MAX_IMAGES }) : '';
  });
  const submit = h(
    'button',
    { type: 'submit', class: 'btn btn--primary', 'data-action': 'enroll' },
    t('catalog.enrollNow'),
  );
  const form = h(
    'form',
    { class: 'form-grid', 'data-testid': 'enroll-form' },
    field(t('col.sku'), pick),
    field(t('catalog.images'), files, t('catalog.imagesHint', { n: MAX_IMAGES })),
    newFields,
    field(t('catalog.withExisting'), keep),
    h('div', { style: 'grid-column: 1 / -1' }, preview),
    h('div', { class: 'form-actions' }, err, submit),
    h('div', { style: 'grid-column: 1 / -1' }, result),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    result.replaceChildren();
    const list = [...(files.files ?? [])];
    if (!list.length) return void (err.textContent = t('catalog.needImages'));
    if (list.length > MAX_IMAGES) return void (err.textContent = t('catalog.tooMany', { n: MAX_IMAGES }));
    const sku = pick.value === NEW ? newSku.value.trim() : pick.value;
    if (!sku) return void (err.textContent = t('catalog.needSku'));
    submit.setAttribute('disabled', '');
    submit.textContent = t('catalog.enrolling');
    try {
      const images = await Promise.all(list.map(async (f) => ({ data: await readAsBase64(f), name: f.name })));
      const body = {
        images,
        withExisting: keep.checked,
        ...(pick.value === NEW
          ? {
              master: {
                brand: brand.value.trim(),
                own: own.checked,
                name: name.value.trim(),
                price: Number(price.value),
                unitCost: Number(cost.value),
              },
            }
          : {}),
      };
      const out = await api<EnrollResponse>(`/catalog/skus/${encodeURIComponent(sku)}/references`, {
        method: 'POST',
        body,
      });
      const close = out.nearest?.filter((n) => n.similarity >= 0.8) ?? [];
      const lines: (HTMLElement | null)[] = [
        h(
          'p',
          { class: 'good', 'data-version': out.gallery?.version ?? '' },
          t('catalog.enrollDone', {
            sku,
            n: images.length,
            v: out.gallery?.version ?? '—',
            prev: out.gallery?.previousVersion ?? '—',
          }),
        ),
        out.nearest?.length
          ? h(
              'p',
              { class: close.length ? 'warn small' : 'muted small' },
              `${t(close.length ? 'catalog.lookAlikeWarn' : 'catalog.nearest')} ${out.nearest
                .map((n) => `${n.sku} (${n.similarity.toFixed(2)})`)
                .join(', ')}`,
            )
          : null,
        h('p', { class: 'muted small' }, t('catalog.releaseHint')),
      ];
      result.replaceChildren(...lines.filter((x): x is HTMLElement => x !== null));
      toast(t('catalog.enrollDoneShort', { v: out.gallery?.version ?? '' }));
      onDone(result);
    } catch (x) {
      err.textContent = (x as Error).message;
    } finally {
      submit.removeAttribute('disabled');
      submit.textContent = t('catalog.enrollNow');
    }
  });
  return form;
};

export const catalogPage: PageFn = (main) => {
  main.append(h('div', { class: 'page-head' }, h('h1', {}, t('catalog.title'))));
  const host = h('div', {});
  main.append(host);
  /** The last enrolment's outcome, kept on screen when the list reloads after it. */
  let flash: HTMLElement | null = null;
  const draw = (refresh: boolean) =>
    load(
      host,
      async () => {
        const [md, cat, changes] = await Promise.all([
          masterdata(refresh),
          api<CatalogResponse>('/catalog'),
          api<{ items: GalleryChange[] }>('/catalog/gallery/changes'),
        ]);
        return { md, cat, changes: changes.items };
      },
      ({ md, cat, changes }) => {
        const price = new Map(md.skus.map((s) => [s.sku, s.price]));
        const section = (own: boolean) => {
          const rows = cat.items.filter((s) => (s.own ?? false) === own);
          return card(
            `${t(own ? 'catalog.own' : 'catalog.competitor')} (${rows.length})`,
            rows.length
              ? table(
                  rows,
                  [
                    { key: 'img', label: 'col.images', value: (s) => s.references.length, render: thumbs },
                    { key: 'sku', label: 'col.sku', value: (s) => s.sku },
                    { key: 'name', label: 'col.name', value: (s) => s.name },
                    { key: 'brand', label: 'col.brand', value: (s) => s.brand },
                    {
                      key: 'price',
                      label: 'col.price',
                      value: (s) => price.get(s.sku) ?? null,
                      render: (s) => (price.has(s.sku) ? money(price.get(s.sku)!) : '—'),
                      num: true,
                    },
                    {
                      key: 'gallery',
                      label: 'col.gallery',
                      value: (s) => (s.inGallery ? (s.source ?? '') : null),
                      render: galleryState,
                    },
                  ],
                  {
                    sort: { key: 'sku', dir: 1 },
                    testId: own ? 'catalog-own' : 'catalog-competitor',
                    rowAttrs: (s) => ({ 'data-sku': s.sku }),
                  },
                )
              : empty(t('catalog.none'), ''),
          );
        };
        const g = cat.gallery;
        const summary = h(
          'p',
          { class: 'muted', 'data-testid': 'gallery-version' },
          g ? t('catalog.gallery', { v: g.version, n: g.skus }) : t('catalog.noGallery'),
        );
        const history = card(
          t('catalog.history'),
          changes.length
            ? table(
                changes,
                [
                  { key: 'version', label: 'col.version', value: (c) => c.version },
                  { key: 'sku', label: 'col.sku', value: (c) => c.sku ?? t('catalog.shipped') },
                  { key: 'shots', label: 'col.images', value: (c) => c.shots, num: true },
                  { key: 'by', label: 'col.by', value: (c) => c.by },
                  { key: 'at', label: 'col.when', value: (c) => c.at, render: (c) => dateTime(c.at) },
                ],
                { pageSize: 10, testId: 'gallery-history' },
              )
            : empty(t('catalog.noGallery'), ''),
        );
        const enroll = card(
          t('catalog.enroll'),
          h('p', { class: 'muted small' }, t('catalog.enrollHint')),
          enrollForm(
            cat,
            md.skus,
            (result) => {
              flash = result;
              void draw(true);
            },
            flash,
          ),
        );
        return h('div', { class: 'stack' }, summary, section(true), section(false), enroll, history);
      },
    );
  void draw(false);
};
