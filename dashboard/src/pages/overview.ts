import { api, qs } from '../api.js';
import { chart } from '../charts.js';
import { apiParams, filterBar, readFilters, writeFilters, type Filters } from '../filters.js';
import { delta, money, num, pct } from '../format.js';
import { label, t, type Key } from '../i18n.js';
import { masterdata, onLive } from '../state.js';
import { card, empty, errorState, gradeBadge, h, loading, table } from '../ui.js';
import type { Kpis, MasterData, Overview } from '../types.js';
import type { PageFn } from '../main.js';

const tile = (
  key: keyof Kpis | 'sales',
  title: Key,
  value: string,
  raw: number | null,
  change: string | null,
  good: boolean | null,
  sub?: string,
): HTMLElement =>
  h(
    'div',
    { class: 'tile', 'data-kpi': key, 'data-raw': raw === null ? '' : String(raw) },
    h('span', { class: 'tile__label' }, t(title)),
    h('span', { class: 'tile__value' }, value),
    sub ? h('span', { class: 'tile__sub' }, sub) : null,
    h(
      'span',
      { class: `tile__delta${good === null ? '' : good ? ' tile__delta--good' : ' tile__delta--bad'}` },
      change ? `${change} ${t('kpi.vsPrev')}` : t('kpi.noPrev'),
    ),
  );

const tiles = (o: Overview): HTMLElement => {
  const k = o.kpis;
  // A previous period without captures has nothing to compare with.
  const p = o.previous && o.previous.captures > 0 ? o.previous : null;
  const ratio = (key: 'availability' | 'shareOfShelf' | 'purity' | 'compliance', title: Key) => {
    const d = delta(k[key], p?.[key], 'pp');
    return tile(key, title, pct(k[key]), k[key], d, d === null || !p ? null : (k[key] ?? 0) >= (p[key] ?? 0));
  };
  const dOut = p ? k.openStockouts - p.openStockouts : null;
  return h(
    'div',
    { class: 'tiles', 'data-testid': 'kpis' },
    ratio('availability', 'kpi.availability'),
    ratio('shareOfShelf', 'kpi.shareOfShelf'),
    ratio('purity', 'kpi.purity'),
    ratio('compliance', 'kpi.compliance'),
    tile(
      'openStockouts',
      'kpi.openStockouts',
      num(k.openStockouts),
      k.openStockouts,
      dOut === null ? null : `${dOut >= 0 ? '+' : '−'}${num(Math.abs(dOut))}`,
      dOut === null ? null : dOut <= 0,
    ),
    tile(
      'sales',
      'kpi.sales',
      `${num(k.salesUnits)} ${t('kpi.units')}`,
      k.salesUnits,
      delta(k.salesUnits, p?.salesUnits, 'rel'),
      p ? k.salesUnits >= p.salesUnits : null,
      money(k.salesRevenue),
    ),
  );
};

const trends = (o: Overview): HTMLElement => {
  const shelf = h('div', { class: 'chart', 'data-testid': 'trend-shelf' });
  const sales = h('div', { class: 'chart', 'data-testid': 'trend-sales' });
  const dates = o.trend.map((d) => d.date);
  const line = (key: 'availability' | 'shareOfShelf' | 'purity' | 'compliance', name: Key) => ({
    type: 'line',
    name: t(name),
    showSymbol: o.trend.length < 20,
    data: o.trend.map((d) => (d[key] === null ? null : Math.round(d[key]! * 1000) / 10)),
  });
  requestAnimationFrame(() => {
    chart(shelf, {
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (v === null ? '—' : `${v}%`) },
      legend: { top: 0, type: 'scroll' },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: 'category', data: dates, boundaryGap: false },
      yAxis: {
        type: 'value',
        max: 100,
        min: (v: { min: number }) => Math.max(0, Math.floor((v.min - 5) / 10) * 10),
        axisLabel: { formatter: '{value}%' },
      },
      series: [
        line('availability', 'kpi.availability'),
        line('shareOfShelf', 'kpi.shareOfShelf'),
        line('purity', 'kpi.purity'),
        line('compliance', 'kpi.compliance'),
      ],
    });
    chart(sales, {
      tooltip: { trigger: 'axis' },
      grid: { left: 48, right: 16, top: 16, bottom: 28 },
      xAxis: { type: 'category', data: dates },
      yAxis: { type: 'value' },
      series: [
        {
          type: 'bar',
          name: t('kpi.sales'),
          data: o.trend.map((d) => Math.round(d.salesUnits)),
          itemStyle: { borderRadius: [3, 3, 0, 0] },
        },
      ],
    });
  });
  return h('div', { class: 'grid2' }, card(t('trend.shelf'), shelf), card(t('trend.sales'), sales));
};

const worst = (o: Overview, f: Filters): HTMLElement =>
  h(
    'div',
    { class: 'grid2' },
    card(
      t('worst.outlets'),
      o.worstOutlets.length
        ? table(
            o.worstOutlets,
            [
              {
                key: 'outlet',
                label: 'col.outlet',
                value: (r) => r.name || r.outletId,
                render: (r) => h('a', { href: `/outlets/${encodeURIComponent(r.outletId)}` }, r.name || r.outletId),
              },
              { key: 'city', label: 'col.city', value: (r) => label(r.city) },
              { key: 'grade', label: 'col.grade', value: (r) => r.grade, render: (r) => gradeBadge(r.grade) },
              { key: 'score', label: 'col.score', value: (r) => r.score, render: (r) => num(r.score, 1), num: true },
              {
                key: 'availability',
                label: 'col.availability',
                value: (r) => r.availability,
                render: (r) => pct(r.availability),
                num: true,
              },
            ],
            { pageSize: 10, testId: 'worst-outlets', rowAttrs: (r) => ({ 'data-outlet': r.outletId }) },
          )
        : empty(),
    ),
    card(
      t('worst.skus'),
      o.worstSkus.length
        ? table(
            o.worstSkus,
            [
              { key: 'sku', label: 'col.sku', value: (r) => r.sku, render: (r) => h('span', { title: r.name }, r.sku) },
              { key: 'brand', label: 'col.brand', value: (r) => r.brand },
              {
                key: 'availability',
                label: 'col.availability',
                value: (r) => r.availability,
                render: (r) => pct(r.availability),
                num: true,
              },
              {
                key: 'stockouts',
                label: 'col.stockouts',
                value: (r) => r.stockouts,
                render: (r) => num(r.stockouts),
                num: true,
              },
              {
                key: 'outlets',
                label: 'col.outlets',
                value: (r) => r.outlets,
                render: (r) => num(r.outlets),
                num: true,
              },
            ],
            { pageSize: 10, testId: 'worst-skus', rowAttrs: (r) => ({ 'data-sku': r.sku }) },
          )
        : empty(f.sku || f.brand ? t('state.noMatch') : undefined),
    ),
  );

export const overviewPage: PageFn = (main) => {
  let f = readFilters();
  let md: MasterData | null = null;
  const bar = h('div', {});
  const body = h('div', { class: 'overview', 'data-testid': 'overview' });
  const head = h('div', { class: 'page-head' }, h('h1', {}, t('nav.overview')), h('span', { class: 'muted scope' }));
  main.append(head, bar, body);
  const drawBar = () =>
    bar.replaceChildren(
      filterBar(f, md, (nf) => {
        f = nf;
        writeFilters(f);
        drawBar();
        void refresh();
      }),
    );
  drawBar();
  masterdata().then(
    (m) => {
      md = m;
      if (bar.isConnected) drawBar();
    },
    () => undefined,
  );

  let seq = 0;
  const refresh = async (quiet = false) => {
    const my = ++seq;
    const query = qs(apiParams(f));
    if (!quiet) body.replaceChildren(loading());
    body.dataset.query = query;
    try {
      const o = await api<Overview>(`/analytics/overview${query}`);
      if (my !== seq) return;
      head.querySelector('.scope')!.textContent = t('kpi.scope', {
        outlets: num(o.kpis.outlets),
        fixtures: num(o.kpis.fixtures),
        captures: num(o.kpis.captures),
      });
      if (o.kpis.captures === 0) {
        body.replaceChildren(tiles(o), empty());
      } else body.replaceChildren(tiles(o), trends(o), worst(o, f));
      body.dataset.ready = '1';
    } catch (err) {
      if (my === seq) body.replaceChildren(errorState(err, () => void refresh()));
    }
  };
  void refresh();
  // New alerts change the open-stockout tile: refresh quietly, at most every 10 s.
  let timer: ReturnType<typeof setTimeout> | null = null;
  const off = onLive('alert', () => {
    timer ??= setTimeout(() => {
      timer = null;
      void refresh(true);
    }, 10_000);
  });
  return () => {
    off();
    if (timer) clearTimeout(timer);
  };
};
