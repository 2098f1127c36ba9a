import { all, api } from '../api.js';
import { windowOf, readFilters } from '../filters.js';
import { dateTime, num, relative } from '../format.js';
import { t } from '../i18n.js';
import { isAdmin, masterdata, onLive, session } from '../state.js';
import { card, empty, errorState, h, load, loading, select, table, toast } from '../ui.js';
import type { Alert, Replenishment } from '../types.js';
import type { PageFn } from '../main.js';

export const alertsPage: PageFn = (main) => {
  let state: 'open' | 'closed' | 'all' = 'open';
  const alerts = new Map<string, Alert>();
  const fresh = new Set<string>();
  const names = new Map<string, string>();
  main.append(h('div', { class: 'page-head' }, h('h1', {}, t('alerts.title'))));
  const feedHost = h('div', { 'data-testid': 'alert-feed', 'aria-live': 'polite' }, loading());
  const replHost = h('div', {});
  const stateSel = select(
    'state',
    t('col.state'),
    [
      { value: 'open', label: t('alerts.open') },
      { value: 'closed', label: t('alerts.closed') },
      { value: 'all', label: t('alerts.all') },
    ],
    state,
    (v) => {
      state = v as typeof state;
      draw();
    },
  );
  main.append(
    h(
      'div',
      { class: 'stack' },
      card(
        t('alerts.live'),
        h('div', { class: 'filters' }, h('p', { class: 'muted small grow' }, t('alerts.liveHint')), stateSel),
        feedHost,
      ),
      card(t('alerts.replenish'), h('p', { class: 'muted small' }, t('alerts.replenishHint')), replHost),
    ),
  );

  const act = async (a: Alert, action: 'acknowledge' | 'resolve') => {
    try {
      const next = await api<Alert>(`/analytics/alerts/${encodeURIComponent(a.id)}/${action}`, { method: 'POST' });
      alerts.set(next.id, next);
      draw();
    } catch (err) {
      toast((err as Error).message, 'error');
    }
  };

  const draw = () => {
    const rows = [...alerts.values()].filter((a) => state === 'all' || a.state === state);
    if (!rows.length) {
      feedHost.replaceChildren(empty(t('alerts.none'), ''));
      return;
    }
    feedHost.replaceChildren(
      table(
        rows,
        [
          {
            key: 'raised',
            label: 'col.raised',
            value: (r) => r.raisedAt,
            render: (r) =>
              h(
                'span',
                { title: dateTime(r.raisedAt) },
                fresh.has(r.id) ? h('span', { class: 'pill pill--new' }, t('alerts.new')) : null,
                relative(r.raisedAt),
              ),
          },
          {
            key: 'outlet',
            label: 'col.outlet',
            value: (r) => names.get(r.outletId) ?? r.outletId,
            render: (r) =>
              h('a', { href: `/outlets/${encodeURIComponent(r.outletId)}` }, names.get(r.outletId) ?? r.outletId),
          },
          { key: 'fixture', label: 'col.fixture', value: (r) => r.fixtureId },
          { key: 'sku', label: 'col.sku', value: (r) => r.sku },
          {
            key: 'state',
            label: 'col.state',
            value: (r) => r.state,
            render: (r) =>
              h(
                'span',
                {},
                h('span', { class: `pill pill--${r.state}` }, t(r.state === 'open' ? 'alerts.open' : 'alerts.closed')),
                r.resolvedBy
                  ? h('span', { class: 'muted small' }, ` ${t('alerts.resolved', { u: r.resolvedBy })}`)
                  : r.acknowledgedBy
                    ? h('span', { class: 'muted small' }, ` ${t('alerts.acked', { u: r.acknowledgedBy })}`)
                    : null,
              ),
          },
          { key: 'end', label: 'col.end', value: (r) => r.end, render: (r) => dateTime(r.end) },
          {
            key: 'actions',
            label: 'col.actions',
            value: () => null,
            render: (r) => {
              if (!isAdmin()) return h('span', { class: 'muted small' }, t('role.readonly'));
              const box = h('span', { class: 'actions' });
              if (r.state === 'open' && !r.acknowledgedAt) {
                const b = h(
                  'button',
                  { type: 'button', class: 'btn btn--small', 'data-action': 'ack' },
                  t('alerts.ack'),
                );
                b.addEventListener('click', () => void act(r, 'acknowledge'));
                box.append(b);
              }
              if (r.state === 'open') {
                const b = h(
                  'button',
                  { type: 'button', class: 'btn btn--small btn--primary', 'data-action': 'resolve' },
                  t('alerts.resolve'),
                );
                b.addEventListener('click', () => void act(r, 'resolve'));
                box.append(b);
              }
              return box;
            },
          },
        ],
        { sort: { key: 'raised', dir: -1 }, rowAttrs: (r) => ({ 'data-alert': r.id, 'data-state': r.state }) },
      ),
    );
  };

  const loadAlerts = async () => {
    feedHost.replaceChildren(loading());
    try {
      const [list, md] = await Promise.all([
        all<Alert>('/analytics/alerts', { state: 'all' }),
        masterdata().catch(() => null),
      ]);
      for (const o of md?.outlets ?? []) names.set(o.outletId, o.name || o.outletId);
      for (const a of list) alerts.set(a.id, a);
      draw();
    } catch (err) {
      feedHost.replaceChildren(errorState(err, () => void loadAlerts()));
    }
  };
  void loadAlerts();
  void load(
    replHost,
    () => all<Replenishment>('/analytics/replenishment', { ...windowOf({ ...readFilters(), range: '7d' }) }),
    (rows) =>
      rows.length
        ? table(
            rows,
            [
              { key: 'outlet', label: 'col.outlet', value: (r) => names.get(r.outletId) ?? r.outletId },
              { key: 'fixture', label: 'col.fixture', value: (r) => r.fixtureId },
              { key: 'sku', label: 'col.sku', value: (r) => r.sku },
              {
                key: 'priority',
                label: 'col.priority',
                value: (r) => ({ out: 0, soon: 1, ok: 2 })[r.priority],
                render: (r) => h('span', { class: `pill pill--${r.priority}` }, t(`priority.${r.priority}`)),
              },
              { key: 'count', label: 'col.count', value: (r) => r.count, num: true },
              { key: 'capacity', label: 'col.capacity', value: (r) => r.capacity, num: true },
              {
                key: 'rate',
                label: 'col.rate',
                value: (r) => r.ratePerHour,
                render: (r) => num(r.ratePerHour, 2),
                num: true,
              },
              {
                key: 'emptyAt',
                label: 'col.emptyAt',
                value: (r) => r.projectedEmptyAt,
                render: (r) => dateTime(r.projectedEmptyAt),
              },
              { key: 'quantity', label: 'col.quantity', value: (r) => r.quantity, num: true },
            ],
            { sort: { key: 'priority', dir: 1 }, testId: 'replenishment' },
          )
        : empty(t('alerts.noReplenish'), ''),
  );

  // Live: the alert engine pushes every open/close/ack/resolve as `alert`.
  const off = onLive('alert', (p) => {
    const a = p as Alert;
    if (session.user?.role === 'brand_manager' && names.size && !names.has(a.outletId)) return;
    if (!alerts.has(a.id)) fresh.add(a.id);
    alerts.set(a.id, a);
    draw();
  });
  return off;
};
