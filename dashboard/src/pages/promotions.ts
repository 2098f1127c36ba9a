import { all, api, qs } from '../api.js';
import { chart } from '../charts.js';
import { dateOnly, money, num, pct } from '../format.js';
import { t } from '../i18n.js';
import { go } from '../nav.js';
import { isAdmin, masterdata } from '../state.js';
import { card, empty, field, h, load, table, toast } from '../ui.js';
import type { MasterData, PromoDetail, PromoRow, Promotion } from '../types.js';
import type { PageFn } from '../main.js';

const roiText = (r: { roi: number; roiInterval: PromoRow['roiInterval'] }) => pct(r.roi);
const intervalText = (i: PromoRow['roiInterval']) =>
  i
    ? t('promos.interval', { level: Math.round(i.level * 100), low: pct(i.low), high: pct(i.high) })
    : t('promos.noInterval');

const toLocalDate = (iso: string) => iso.slice(0, 10);

/** Create or edit form; dates are whole local days (00:00 +08:00, the outlets' time zone). */
const promoForm = (
  md: MasterData,
  existing: Promotion | null,
  onDone: (p: Promotion) => void,
  onCancel: () => void,
): HTMLElement => {
  const err = h('p', { class: 'form-error', role: 'alert' });
  const input = (name: string, type: string, value: string, attrs: Record<string, string> = {}) =>
    h('input', { name, type, value, ...attrs });
  const id = input('promotionId', 'text', existing?.promotionId ?? '', {
    required: '',
    pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}',
    ...(existing ? { readonly: '' } : {}),
  });
  const name = input('name', 'text', existing?.name ?? '');
  const multi = (nameAttr: string, opts: { value: string; label: string }[], chosen: string[]) => {
    const s = h('select', { name: nameAttr, multiple: '', size: '8', required: '' });
    for (const o of opts) {
      const opt = h('option', { value: o.value }, o.label);
      opt.selected = chosen.includes(o.value);
      s.append(opt);
    }
    return s;
  };
  const skus = multi(
    'skus',
    md.skus.map((s) => ({ value: s.sku, label: `${s.sku} · ${s.brand}` })),
    existing?.skus ?? [],
  );
  const outlets = multi(
    'outletIds',
    md.outlets.map((o) => ({ value: o.outletId, label: o.name || o.outletId })),
    existing?.outletIds ?? [],
  );
  const today = new Date().toISOString().slice(0, 10);
  const start = input('start', 'date', existing ? toLocalDate(existing.start) : today, { required: '' });
  const end = input(
    'end',
    'date',
    existing ? toLocalDate(existing.end) : new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10),
    { required: '' },
  );
  const discount = input(
    'discountPct',
    'number',
    existing ? String(Math.round(existing.discountPct * 1000) / 10) : '10',
    { min: '0', max: '100', step: '0.1', required: '' },
  );
  const cost = input('cost', 'number', existing ? String(existing.cost) : '1000', {
    min: '1',
    step: '1',
    required: '',
  });
  const save = h('button', { type: 'submit', class: 'btn btn--primary', 'data-action': 'save' }, t('promos.save'));
  const cancel = h('button', { type: 'button', class: 'btn btn--ghost' }, t('promos.cancel'));
  cancel.addEventListener('click', onCancel);
  const form = h(
    'form',
    { class: 'form-grid', 'data-testid': 'promo-form' },
    field(t('promos.id'), id),
    field(t('promos.name'), name),
    field(t('promos.skus'), skus, t('promos.pickHint')),
    field(t('promos.outlets'), outlets, t('promos.pickHint')),
    field(t('promos.start'), start),
    field(t('promos.end'), end),
    field(t('promos.discount'), discount),
    field(t('promos.cost'), cost),
    h('div', { class: 'form-actions' }, err, cancel, save),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const body: Promotion = {
      promotionId: id.value.trim(),
      name: name.value.trim(),
      skus: [...skus.selectedOptions].map((o) => o.value),
      outletIds: [...outlets.selectedOptions].map((o) => o.value),
      start: `${start.value}T00:00:00+08:00`,
      end: `${end.value}T00:00:00+08:00`,
      discountPct: Number(discount.value) / 100,
      cost: Number(cost.value),
    };
    try {
      const saved = existing
        ? await api<Promotion>(`/masterdata/promotions/${encodeURIComponent(existing.promotionId)}`, {
            method: 'PUT',
            body,
          })
        : await api<Promotion>('/masterdata/promotions', { method: 'POST', body });
      toast(t('promos.saved'));
      onDone(saved);
    } catch (x) {
      err.textContent = (x as Error).message;
    }
  });
  return form;
};

export const promotionsPage: PageFn = (main) => {
  const head = h('div', { class: 'page-head' }, h('h1', {}, t('promos.title')));
  const formHost = h('div', {});
  const host = h('div', {});
  main.append(head, formHost, host);
  if (isAdmin()) {
    const b = h('button', { type: 'button', class: 'btn btn--primary', 'data-action': 'new-promo' }, t('promos.new'));
    b.addEventListener('click', async () => {
      const md = await masterdata();
      formHost.replaceChildren(
        card(
          t('promos.new'),
          promoForm(
            md,
            null,
            () => {
              formHost.replaceChildren();
              void masterdata(true);
              refresh();
            },
            () => formHost.replaceChildren(),
          ),
        ),
      );
    });
    head.append(b);
  } else head.append(h('span', { class: 'muted small' }, t('common.readonly')));
  const refresh = () =>
    void load(
      host,
      () => all<PromoRow>('/analytics/promotions', { resamples: 200 }),
      (rows) =>
        rows.length
          ? card(
              t('promos.title'),
              table(
                rows,
                [
                  {
                    key: 'name',
                    label: 'promos.name',
                    value: (r) => r.name || r.promotionId,
                    render: (r) =>
                      h('a', { href: `/promotions/${encodeURIComponent(r.promotionId)}` }, r.name || r.promotionId),
                  },
                  {
                    key: 'period',
                    label: 'col.period',
                    value: (r) => r.start,
                    render: (r) => `${dateOnly(r.start)} – ${dateOnly(r.end)}`,
                  },
                  {
                    key: 'discount',
                    label: 'col.discount',
                    value: (r) => r.discountPct,
                    render: (r) => pct(r.discountPct),
                    num: true,
                  },
                  { key: 'outlets', label: 'col.outlets', value: (r) => r.treatedOutlets, num: true },
                  { key: 'cost', label: 'col.cost', value: (r) => r.cost, render: (r) => money(r.cost), num: true },
                  {
                    key: 'inc',
                    label: 'col.incUnits',
                    value: (r) => r.incrementalUnits,
                    render: (r) => num(r.incrementalUnits),
                    num: true,
                  },
                  {
                    key: 'roi',
                    label: 'col.roi',
                    value: (r) => r.roi,
                    render: (r) =>
                      h('span', { class: r.roi >= 0 ? 'good' : 'bad', title: intervalText(r.roiInterval) }, roiText(r)),
                    num: true,
                  },
                ],
                {
                  sort: { key: 'period', dir: -1 },
                  testId: 'promos-table',
                  rowAttrs: (r) => ({ 'data-promo': r.promotionId }),
                },
              ),
            )
          : empty(t('promos.none'), ''),
    );
  refresh();
};

export const promotionPage: PageFn = (main, [promotionId]) => {
  main.append(h('a', { href: '/promotions', class: 'back' }, t('promos.back')));
  const host = h('div', {});
  main.append(host);
  void load(
    host,
    () => api<PromoDetail>(`/analytics/promotions/${encodeURIComponent(promotionId!)}${qs({ resamples: 1000 })}`),
    (p) => {
      const r = p.result;
      const upl = h('div', { class: 'chart', 'data-testid': 'uplift' });
      requestAnimationFrame(() =>
        chart(upl, {
          tooltip: { trigger: 'axis' },
          legend: { top: 0 },
          grid: { left: 48, right: 16, top: 36, bottom: 28 },
          xAxis: { type: 'category', data: p.daily.map((d) => d.date) },
          yAxis: { type: 'value' },
          series: [
            {
              type: 'bar',
              name: t('col.actual'),
              data: p.daily.map((d) => Math.round(d.actualUnits)),
              itemStyle: { borderRadius: [3, 3, 0, 0] },
            },
            {
              type: 'line',
              name: t('col.baseline'),
              data: p.daily.map((d) => Math.round(d.baselineUnits)),
              lineStyle: { type: 'dashed' },
            },
          ],
        }),
      );
      const stat = (k: string, v: string, sub?: string) =>
        h(
          'div',
          { class: 'tile', 'data-kpi': k },
          h('span', { class: 'tile__label' }, k),
          h('span', { class: 'tile__value' }, v),
          sub ? h('span', { class: 'tile__sub' }, sub) : null,
        );
      const tiles = h(
        'div',
        { class: 'tiles' },
        stat(t('col.incUnits'), num(r.incrementalUnits)),
        stat(t('col.incRevenue'), money(r.incrementalRevenue)),
        stat(t('col.cost'), money(p.cost)),
        stat(t('col.roi'), pct(r.roi), intervalText(r.roiInterval)),
      );
      const edit = isAdmin()
        ? h('button', { type: 'button', class: 'btn', 'data-action': 'edit' }, t('promos.edit'))
        : null;
      const formHost = h('div', {});
      edit?.addEventListener('click', async () => {
        const md = await masterdata();
        formHost.replaceChildren(
          card(
            t('promos.edit'),
            promoForm(
              md,
              p,
              () => go(`/promotions/${encodeURIComponent(p.promotionId)}`),
              () => formHost.replaceChildren(),
            ),
          ),
        );
      });
      return h(
        'div',
        { class: 'stack', 'data-testid': 'promo-detail' },
        h(
          'div',
          { class: 'page-head' },
          h('h1', {}, p.name || p.promotionId),
          h(
            'span',
            { class: 'muted' },
            `${dateOnly(p.start)} – ${dateOnly(p.end)} · ${pct(p.discountPct)} · ${p.skus.join(', ')}`,
          ),
          edit,
        ),
        formHost,
        tiles,
        card(t('promos.uplift'), upl),
        card(
          t('promos.perOutlet'),
          p.perOutlet.length
            ? table(
                p.perOutlet,
                [
                  {
                    key: 'outlet',
                    label: 'col.outlet',
                    value: (o) => o.name || o.outletId,
                    render: (o) => h('a', { href: `/outlets/${encodeURIComponent(o.outletId)}` }, o.name || o.outletId),
                  },
                  {
                    key: 'actual',
                    label: 'col.actual',
                    value: (o) => o.actualUnits,
                    render: (o) => num(o.actualUnits),
                    num: true,
                  },
                  {
                    key: 'baseline',
                    label: 'col.baseline',
                    value: (o) => o.baselineUnits,
                    render: (o) => num(o.baselineUnits),
                    num: true,
                  },
                  {
                    key: 'inc',
                    label: 'col.incUnits',
                    value: (o) => o.incrementalUnits,
                    render: (o) => num(o.incrementalUnits),
                    num: true,
                  },
                  {
                    key: 'rev',
                    label: 'col.incRevenue',
                    value: (o) => o.incrementalRevenue,
                    render: (o) => money(o.incrementalRevenue),
                    num: true,
                  },
                ],
                { sort: { key: 'inc', dir: -1 } },
              )
            : empty(),
        ),
      );
    },
  );
};
