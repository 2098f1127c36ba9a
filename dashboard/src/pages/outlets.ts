import { all, api, qs } from '../api.js';
import { chart, ensureMap, PALETTE } from '../charts.js';
import { windowOf, readFilters } from '../filters.js';
import { axisTime, dateTime, num, pct } from '../format.js';
import { label, t } from '../i18n.js';
import { masterdata } from '../state.js';
import { spreadColocated } from '../map-spread.js';
import { go } from '../nav.js';
import { card, empty, errorState, gradeBadge, h, load, loading, select, table } from '../ui.js';
import type { Fixture, FixtureSummary, MasterData, OutletScore, Stockout, StoredObservation } from '../types.js';
import type { PageFn } from '../main.js';

const GRADE_COLOURS: Record<string, string> = { A: '#16a34a', B: '#2563eb', C: '#f59e0b', D: '#dc2626' };

interface Row extends OutletScore {
  name: string;
  lat: number | null;
  lon: number | null;
}

const outletBounds = (pts: Row[]): [[number, number], [number, number]] => {
  if (pts.length === 0)
    return [
      [73, 54],
      [135, 18],
    ];
  const lons = pts.map((p) => p.lon as number);
  const lats = pts.map((p) => p.lat as number);
  const pad = 3;
  return [
    [Math.min(...lons) - pad, Math.max(...lats) + pad],
    [Math.max(...lons) + pad, Math.min(...lats) - pad],
  ];
};

const mapChart = (el: HTMLElement, rows: Row[]) => {
  const map = ensureMap();
  const pts = rows.filter((r) => r.lat !== null && r.lon !== null);
  const bounds = outletBounds(pts);
  // Outlets of one city would share a dot: draw them round a circle of 2 % of the framed extent.
  const extent = Math.max(bounds[1][0] - bounds[0][0], bounds[0][1] - bounds[1][1]);
  const at = spreadColocated(
    pts.map((r) => ({ key: r.outletId, lon: r.lon as number, lat: r.lat as number })),
    0.02 * extent,
  );
  const c = chart(el, {
    tooltip: {
      trigger: 'item',
      formatter: (p: { data?: { name: string; value: number[]; grade: string } }) =>
        p.data
          ? `${p.data.name}<br/>${t('col.grade')}: ${p.data.grade} · ${t('col.score')}: ${num(p.data.value[2], 1)}`
          : '',
    },
    geo: {
      map,
      roam: true,
      // Frame the outlets themselves (with a margin), not the whole continent; China when there are none.
      boundingCoords: bounds,
      itemStyle: { areaColor: '#eef2f7', borderColor: '#b6c2d2' },
      emphasis: { disabled: true },
      label: { show: false },
    },
    series: (['A', 'B', 'C', 'D'] as const).map((g) => ({
      type: 'scatter',
      coordinateSystem: 'geo',
      name: g,
      symbolSize: 9,
      itemStyle: { color: GRADE_COLOURS[g], borderColor: '#fff', borderWidth: 1 },
      data: pts
        .filter((r) => r.grade === g)
        .map((r) => ({
          name: r.name || r.outletId,
          value: [...(at.get(r.outletId) ?? [r.lon as number, r.lat as number]), r.score],
          grade: g,
          outletId: r.outletId,
        })),
    })),
    legend: { bottom: 4, data: ['A', 'B', 'C', 'D'] },
  });
  c.on('click', (p) => {
    const id = (p.data as { outletId?: string } | undefined)?.outletId;
    if (id) go(`/outlets/${encodeURIComponent(id)}`);
  });
};

export const outletsPage: PageFn = (main) => {
  const f = readFilters();
  main.append(h('div', { class: 'page-head' }, h('h1', {}, t('outlets.title')), h('span', { class: 'muted count' })));
  const host = h('div', { 'data-testid': 'outlets', 'data-query': qs(windowOf(f)) });
  main.append(host);
  void load(
    host,
    async () => {
      const [scores, md] = await Promise.all([all<OutletScore>('/analytics/outlet-scores', windowOf(f)), masterdata()]);
      const byId = new Map(md.outlets.map((o) => [o.outletId, o]));
      return scores.map((s) => {
        const o = byId.get(s.outletId);
        return { ...s, name: o?.name ?? '', lat: o?.lat ?? null, lon: o?.lon ?? null };
      });
    },
    (rows) => {
      main.querySelector('.count')!.textContent = t('outlets.count', { n: num(rows.length) });
      if (!rows.length) return empty();
      let q = '';
      let grade = '';
      const tableHost = h('div', {});
      const draw = () => {
        const needle = q.toLowerCase();
        const shown = rows.filter(
          (r) =>
            (!grade || r.grade === grade) &&
            (!needle ||
              `${r.outletId} ${r.name} ${r.city ?? ''} ${r.region ?? ''} ${label(r.city)}`
                .toLowerCase()
                .includes(needle)),
        );
        tableHost.replaceChildren(
          shown.length
            ? table(
                shown,
                [
                  {
                    key: 'name',
                    label: 'col.outlet',
                    value: (r) => r.name || r.outletId,
                    render: (r) => h('a', { href: `/outlets/${encodeURIComponent(r.outletId)}` }, r.name || r.outletId),
                  },
                  { key: 'region', label: 'col.region', value: (r) => label(r.region) },
                  { key: 'city', label: 'col.city', value: (r) => label(r.city) },
                  { key: 'channel', label: 'col.channel', value: (r) => label(r.channel) },
                  { key: 'grade', label: 'col.grade', value: (r) => r.grade, render: (r) => gradeBadge(r.grade) },
                  {
                    key: 'score',
                    label: 'col.score',
                    value: (r) => r.score,
                    render: (r) => num(r.score, 1),
                    num: true,
                  },
                  {
                    key: 'availability',
                    label: 'col.availability',
                    value: (r) => r.availability,
                    render: (r) => pct(r.availability),
                    num: true,
                  },
                  {
                    key: 'compliance',
                    label: 'col.compliance',
                    value: (r) => r.compliance,
                    render: (r) => pct(r.compliance),
                    num: true,
                  },
                  {
                    key: 'purity',
                    label: 'col.purity',
                    value: (r) => r.purity,
                    render: (r) => pct(r.purity),
                    num: true,
                  },
                  {
                    key: 'sales',
                    label: 'col.salesPerDay',
                    value: (r) => r.salesPerDay,
                    render: (r) => num(r.salesPerDay, 1),
                    num: true,
                  },
                ],
                {
                  sort: { key: 'score', dir: -1 },
                  testId: 'outlets-table',
                  rowAttrs: (r) => ({ 'data-outlet': r.outletId }),
                },
              )
            : empty(t('state.noMatch'), ''),
        );
      };
      const search = h('input', { type: 'search', placeholder: t('filter.search'), 'data-filter': 'q' });
      search.addEventListener('input', () => {
        q = search.value;
        draw();
      });
      draw();
      const mapEl = h('div', { class: 'chart chart--map', 'data-testid': 'outlet-map' });
      requestAnimationFrame(() => mapChart(mapEl, rows));
      return h(
        'div',
        { class: 'stack' },
        card(
          t('outlets.title'),
          h(
            'div',
            { class: 'filters' },
            h('label', { class: 'field' }, h('span', { class: 'field__label' }, t('filter.search')), search),
            select(
              'grade',
              t('col.grade'),
              [{ value: '', label: t('filter.all') }, ...['A', 'B', 'C', 'D'].map((g) => ({ value: g, label: g }))],
              '',
              (v) => {
                grade = v;
                draw();
              },
            ),
          ),
          tableHost,
        ),
        card(t('outlets.map'), h('p', { class: 'muted small' }, t('outlets.mapHint')), mapEl),
      );
    },
  );
};

/** The capture drawn as a frame with each detection's box and SKU label (no photo is stored in the cloud). */
const captureView = (obs: StoredObservation | undefined): HTMLElement => {
  if (!obs) return empty();
  const w = obs.image.width || 1280;
  const hgt = obs.image.height || 720;
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  svg.setAttribute('class', 'capture');
  svg.setAttribute('role', 'img');
  const bg = document.createElementNS(NS, 'rect');
  for (const [k, v] of Object.entries({ x: '0', y: '0', width: String(w), height: String(hgt), fill: '#1f2937' }))
    bg.setAttribute(k, v);
  svg.append(bg);
  const skuColour = (sku: string) => {
    let x = 0;
    for (const ch of sku) x = (x * 31 + ch.charCodeAt(0)) | 0;
    return PALETTE[Math.abs(x) % PALETTE.length]!;
  };
  for (const d of obs.detections ?? []) {
    const [x, y, bw, bh] = d.box;
    const colour = d.kind === 'empty' ? '#dc2626' : d.kind === 'unknown' ? '#f59e0b' : skuColour(d.sku ?? '');
    const r = document.createElementNS(NS, 'rect');
    for (const [k, v] of Object.entries({ x: x * w, y: y * hgt, width: bw * w, height: bh * hgt }))
      r.setAttribute(k, String(v));
    r.setAttribute('fill', d.kind === 'empty' ? 'rgba(220,38,38,0.25)' : `${colour}33`);
    r.setAttribute('stroke', colour);
    r.setAttribute('stroke-width', String(Math.max(2, w / 400)));
    if (d.kind === 'empty') r.setAttribute('stroke-dasharray', '8 6');
    svg.append(r);
    const text = document.createElementNS(NS, 'text');
    text.setAttribute('x', String(x * w + 4));
    text.setAttribute('y', String(y * hgt + Math.max(14, w / 70)));
    text.setAttribute('font-size', String(Math.max(11, w / 90)));
    text.setAttribute('fill', '#fff');
    text.setAttribute('class', 'capture__label');
    text.textContent = d.kind === 'product' ? (d.sku ?? '?') : d.kind === 'empty' ? '∅' : '?';
    svg.append(text);
  }
  return h(
    'figure',
    { class: 'capture-fig', 'data-testid': 'capture' },
    svg,
    h(
      'figcaption',
      { class: 'muted small' },
      `${t('outlet.captured', { t: dateTime(obs.capturedAt) })} · ${obs.detections?.length ? t('outlet.noPhoto') : t('outlet.noDetections')}`,
    ),
  );
};

const planVsActual = (fx: Fixture | undefined, latest: FixtureSummary | undefined): HTMLElement => {
  if (!fx || fx.positions.length === 0) return empty(t('outlet.noPlanogram'), '');
  const planned = new Map<string, number>();
  for (const p of fx.positions) planned.set(p.sku, (planned.get(p.sku) ?? 0) + 1);
  const actual = new Map((latest?.skus ?? []).map((s) => [s.sku, s.facings]));
  const rows = [...new Set([...planned.keys(), ...actual.keys()])].map((sku) => ({
    sku,
    planned: planned.get(sku) ?? 0,
    actual: actual.get(sku) ?? 0,
  }));
  return table(
    rows,
    [
      { key: 'sku', label: 'col.sku', value: (r) => r.sku },
      { key: 'planned', label: 'col.planned', value: (r) => r.planned, num: true },
      {
        key: 'actual',
        label: 'col.actualFacings',
        value: (r) => r.actual,
        num: true,
        render: (r) =>
          h('span', { class: r.actual < r.planned ? 'bad' : r.planned === 0 ? 'warn' : 'good' }, String(r.actual)),
      },
    ],
    { sort: { key: 'planned', dir: -1 }, pageSize: 40 },
  );
};

const historyChart = (el: HTMLElement, series: { sku: string; points: { capturedAt: string; count: number }[] }[]) =>
  chart(el, {
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 40, right: 16, top: 36, bottom: 48 },
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 8 }],
    xAxis: { type: 'time', axisLabel: { formatter: axisTime, hideOverlap: true } },
    yAxis: { type: 'value', minInterval: 1 },
    series: series.map((s) => ({
      type: 'line',
      name: s.sku,
      step: 'end',
      showSymbol: false,
      data: s.points.map((p) => [p.capturedAt, p.count]),
    })),
  });

const timelineChart = (el: HTMLElement, rows: Stockout[], from: number, to: number) => {
  const skus = [...new Set(rows.map((r) => r.sku))].sort();
  chart(el, {
    tooltip: {
      formatter: (p: { value: [number, number, number, string] }) =>
        `${skus[p.value[0]]}<br/>${dateTime(new Date(p.value[1]).toISOString())} → ${p.value[3]}`,
    },
    grid: { left: 140, right: 16, top: 8, bottom: 28 },
    xAxis: { type: 'time', min: from, max: to, axisLabel: { formatter: axisTime, hideOverlap: true } },
    yAxis: { type: 'category', data: skus },
    series: [
      {
        type: 'custom',
        renderItem: (
          _: unknown,
          api: {
            value: (i: number) => number;
            coord: (v: number[]) => number[] | null;
            size: (v: number[]) => number[] | null;
          },
        ) => {
          const cat = api.value(0);
          const a = api.coord([api.value(1), cat]);
          const b = api.coord([api.value(2), cat]);
          const size = api.size([0, 1]);
          // ECharts hands out null coordinates for a SKU off the axis or while the chart is torn
          // down on navigation; draw nothing then rather than throw.
          if (cat < 0 || !a || !b || !size) return null;
          const hgt = size[1]! * 0.55;
          return {
            type: 'rect',
            shape: { x: a[0], y: a[1]! - hgt / 2, width: Math.max(2, b[0]! - a[0]!), height: hgt },
            style: { fill: '#dc2626' },
          };
        },
        encode: { x: [1, 2], y: 0 },
        data: rows.map((r) => [
          skus.indexOf(r.sku),
          Date.parse(r.start),
          r.end ? Date.parse(r.end) : to,
          r.end ? dateTime(r.end) : t('alerts.open'),
        ]),
      },
    ],
  });
};

export const outletPage: PageFn = (main, [outletId]) => {
  const id = outletId!;
  const f = readFilters();
  const win = windowOf(f);
  main.append(h('a', { href: '/outlets', class: 'back' }, t('outlet.back')));
  const host = h('div', {});
  main.append(host);
  void load(
    host,
    async () => {
      const [md, latest, stockouts, score] = await Promise.all([
        masterdata() as Promise<MasterData>,
        api<{ items: FixtureSummary[] }>('/fixtures'),
        all<Stockout>('/analytics/stockouts', { outletId: id, ...win }),
        // Ranked among the outlets in scope, as on the list: the sales part of the score is a percentile,
        // so asking for this outlet alone would rank it first of one.
        all<OutletScore>('/analytics/outlet-scores', win),
      ]);
      return {
        md,
        latest: latest.items.filter((x) => x.outletId === id),
        stockouts,
        score: score.find((x) => x.outletId === id),
      };
    },
    ({ md, latest, stockouts, score }) => {
      const outlet = md.outlets.find((o) => o.outletId === id);
      const fixtures = md.fixtures.filter((x) => x.outletId === id);
      const fxIds = [...new Set([...fixtures.map((x) => x.fixtureId), ...latest.map((x) => x.fixtureId)])].sort();
      const head = h(
        'div',
        { class: 'page-head' },
        h('h1', {}, outlet?.name || id),
        score ? gradeBadge(score.grade) : null,
        h(
          'span',
          { class: 'muted' },
          outlet ? `${label(outlet.region)} · ${label(outlet.city)} · ${label(outlet.channel)}` : t('outlet.unknown'),
        ),
        score
          ? h(
              'span',
              { class: 'muted' },
              `${t('col.score')} ${num(score.score, 1)} · ${t('col.availability')} ${pct(score.availability)}`,
            )
          : null,
      );
      if (fxIds.length === 0) return h('div', {}, head, empty());
      const fixtureHost = h('div', {});
      const showFixture = (fixtureId: string) => {
        const fx = fixtures.find((x) => x.fixtureId === fixtureId);
        const last = latest.find((x) => x.fixtureId === fixtureId);
        const capHost = h('div', {}, loading());
        const histEl = h('div', { class: 'chart', 'data-testid': 'history' });
        fixtureHost.replaceChildren(
          h(
            'div',
            { class: 'grid2' },
            card(`${t('outlet.latest')} · ${fixtureId}`, capHost),
            card(t('outlet.planVsActual'), planVsActual(fx, last)),
          ),
          card(t('outlet.history'), histEl),
        );
        api<{ items: StoredObservation[] }>(`/observations${qs({ fixtureId, limit: 1 })}`).then(
          (r) => capHost.replaceChildren(captureView(r.items[0])),
          (err) => capHost.replaceChildren(errorState(err)),
        );
        api<{ series: { sku: string; points: { capturedAt: string; count: number }[] }[] }>(
          `/fixtures/${encodeURIComponent(fixtureId)}/history${qs(win)}`,
        ).then(
          (r) => (r.series.length ? historyChart(histEl, r.series) : histEl.replaceWith(empty())),
          (err) => histEl.replaceWith(errorState(err)),
        );
      };
      const tabs = h(
        'div',
        { class: 'tabs', role: 'tablist' },
        ...fxIds.map((fid, i) => {
          const b = h(
            'button',
            { type: 'button', role: 'tab', class: `tab${i === 0 ? ' tab--active' : ''}`, 'data-fixture': fid },
            fid,
          );
          b.addEventListener('click', () => {
            tabs.querySelectorAll('.tab').forEach((x) => x.classList.remove('tab--active'));
            b.classList.add('tab--active');
            showFixture(fid);
          });
          return b;
        }),
      );
      const tl = h('div', { class: 'chart chart--short', 'data-testid': 'timeline' });
      requestAnimationFrame(() => {
        showFixture(fxIds[0]!);
        if (stockouts.length) timelineChart(tl, stockouts, Date.parse(win.from), Date.parse(win.to));
      });
      return h(
        'div',
        { class: 'stack' },
        head,
        h('h2', { class: 'section-title' }, t('outlet.fixtures')),
        tabs,
        fixtureHost,
        card(t('outlet.timeline'), stockouts.length ? tl : empty(t('outlet.noStockouts'), '')),
      );
    },
  );
};
