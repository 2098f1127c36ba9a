import { h } from './dom.js';
import { t, type Key } from './i18n.js';

export { h };

export const loading = (): HTMLElement =>
  h('div', { class: 'state state--loading', role: 'status' }, h('span', { class: 'spinner' }), t('state.loading'));

export const empty = (msg: string = t('state.empty'), hint: string = t('state.emptyHint')): HTMLElement =>
  h(
    'div',
    { class: 'state state--empty', role: 'status' },
    h('span', { class: 'state__icon', 'aria-hidden': 'true' }, '◌'),
    h('strong', {}, msg),
    h('span', {}, hint),
  );

export const errorState = (err: unknown, retry?: () => void): HTMLElement => {
  const el = h(
    'div',
    { class: 'state state--error', role: 'alert' },
    h('span', { class: 'state__icon', 'aria-hidden': 'true' }, '!'),
    h('strong', {}, t('state.error')),
    h('span', { class: 'muted' }, err instanceof Error ? err.message : String(err)),
  );
  if (retry) {
    const b = h('button', { type: 'button', class: 'btn' }, t('state.retry'));
    b.addEventListener('click', retry);
    el.append(b);
  }
  return el;
};

/** Loads into `host`: a loading state first, then `render`'s result, an empty state or an error with retry. */
export const load = async <T>(host: HTMLElement, fetcher: () => Promise<T>, render: (v: T) => Node): Promise<void> => {
  host.replaceChildren(loading());
  host.setAttribute('aria-busy', 'true');
  try {
    const v = await fetcher();
    host.replaceChildren(render(v));
  } catch (err) {
    host.replaceChildren(errorState(err, () => void load(host, fetcher, render)));
  } finally {
    host.removeAttribute('aria-busy');
  }
};

export const card = (title: string, ...body: (Node | string | null)[]): HTMLElement =>
  h('section', { class: 'panel' }, h('h2', { class: 'panel__title' }, title), ...body);

/** A labelled form control, with an optional hint under it. */
export const field = (label: string, el: HTMLElement, hint?: string): HTMLElement =>
  h(
    'label',
    { class: 'field' },
    h('span', { class: 'field__label' }, label),
    el,
    hint ? h('span', { class: 'muted small' }, hint) : null,
  );

export interface Column<T> {
  key: string;
  label: Key;
  value: (row: T) => string | number | null;
  render?: (row: T) => Node | string;
  num?: boolean;
}

/**
 * Sortable, paginated table (client-side over rows already fetched from the API). Sorting by a
 * column header; 25 rows a page so long lists never render thousands of nodes.
 */
export const table = <T>(
  rows: T[],
  cols: Column<T>[],
  opts: {
    pageSize?: number;
    sort?: { key: string; dir: 1 | -1 };
    rowAttrs?: (r: T) => Record<string, string>;
    testId?: string;
  } = {},
): HTMLElement => {
  const size = opts.pageSize ?? 25;
  let page = 0;
  let sort = opts.sort ?? null;
  const wrap = h('div', { class: 'table-wrap', ...(opts.testId ? { 'data-testid': opts.testId } : {}) });
  const draw = () => {
    const sorted = [...rows];
    if (sort) {
      const c = cols.find((x) => x.key === sort!.key)!;
      sorted.sort((a, b) => {
        const va = c.value(a);
        const vb = c.value(b);
        if (va === vb) return 0;
        if (va === null) return 1;
        if (vb === null) return -1;
        return (va < vb ? -1 : 1) * sort!.dir;
      });
    }
    const pages = Math.max(1, Math.ceil(sorted.length / size));
    page = Math.min(page, pages - 1);
    const slice = sorted.slice(page * size, page * size + size);
    const head = h(
      'tr',
      {},
      ...cols.map((c) => {
        const active = sort?.key === c.key;
        const th = h(
          'th',
          {
            scope: 'col',
            class: `${c.num ? 'num ' : ''}sortable${active ? ' sorted' : ''}`,
            'aria-sort': active ? (sort!.dir === 1 ? 'ascending' : 'descending') : 'none',
            'data-col': c.key,
          },
          t(c.label),
          h('span', { class: 'sort-ind', 'aria-hidden': 'true' }, active ? (sort!.dir === 1 ? '▲' : '▼') : '↕'),
        );
        th.addEventListener('click', () => {
          sort = { key: c.key, dir: active && sort!.dir === 1 ? -1 : 1 };
          draw();
        });
        return th;
      }),
    );
    const body = h(
      'tbody',
      {},
      ...slice.map((r) =>
        h(
          'tr',
          opts.rowAttrs?.(r) ?? {},
          ...cols.map((c) => {
            const v = c.render ? c.render(r) : c.value(r);
            return h(
              'td',
              { class: c.num ? 'num' : '', 'data-col': c.key },
              v === null ? '—' : typeof v === 'number' ? String(v) : v,
            );
          }),
        ),
      ),
    );
    const tbl = h('table', { class: 'data' }, h('thead', {}, head), body);
    const nav = h('div', { class: 'pager' });
    if (sorted.length > size) {
      const prev = h('button', { type: 'button', class: 'btn btn--ghost' }, t('common.prev'));
      const next = h('button', { type: 'button', class: 'btn btn--ghost' }, t('common.next'));
      prev.toggleAttribute('disabled', page === 0);
      next.toggleAttribute('disabled', page >= pages - 1);
      prev.addEventListener('click', () => {
        page--;
        draw();
      });
      next.addEventListener('click', () => {
        page++;
        draw();
      });
      nav.append(
        h(
          'span',
          { class: 'muted' },
          t('common.showing', { from: page * size + 1, to: page * size + slice.length, n: sorted.length }),
        ),
        prev,
        h('span', {}, t('common.page', { p: page + 1, n: pages })),
        next,
      );
    }
    wrap.replaceChildren(tbl, nav);
  };
  draw();
  return wrap;
};

export const select = (
  name: string,
  labelText: string,
  options: { value: string; label: string }[],
  value: string,
  onChange: (v: string) => void,
): HTMLElement => {
  const s = h('select', { name, 'data-filter': name });
  for (const o of options) {
    const opt = h('option', { value: o.value }, o.label);
    if (o.value === value) opt.selected = true;
    s.append(opt);
  }
  s.addEventListener('change', () => onChange(s.value));
  return h('label', { class: 'field' }, h('span', { class: 'field__label' }, labelText), s);
};

export const gradeBadge = (g: string): HTMLElement => h('span', { class: `grade grade--${g}` }, g);

export const toast = (msg: string, kind: 'ok' | 'error' = 'ok'): void => {
  const el = h('div', { class: `toast toast--${kind}`, role: 'status' }, msg);
  document.body.append(el);
  setTimeout(() => el.remove(), 4000);
};
