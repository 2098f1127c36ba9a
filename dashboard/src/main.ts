import './style.css';
import { ApiError, api, setUnauthorizedHandler } from './api.js';
import { sweepCharts } from './charts.js';
import { currentLang, setLang, t, type Key } from './i18n.js';
import { connection, onConnection, session, startLive, stopLive } from './state.js';
import { h } from './ui.js';
import type { User } from './types.js';
import { overviewPage } from './pages/overview.js';
import { outletsPage, outletPage } from './pages/outlets.js';
import { alertsPage } from './pages/alerts.js';
import { promotionsPage, promotionPage } from './pages/promotions.js';
import { devicesPage } from './pages/devices.js';
import { catalogPage } from './pages/catalog.js';

/** A page renders into `main` and returns an optional cleanup (live subscriptions). */
export type PageFn = (main: HTMLElement, params: string[]) => void | (() => void);

const routes: { re: RegExp; nav: Key | null; page: PageFn }[] = [
  { re: /^\/$/, nav: 'nav.overview', page: overviewPage },
  { re: /^\/outlets$/, nav: 'nav.outlets', page: outletsPage },
  { re: /^\/outlets\/([^/]+)$/, nav: 'nav.outlets', page: outletPage },
  { re: /^\/alerts$/, nav: 'nav.alerts', page: alertsPage },
  { re: /^\/promotions$/, nav: 'nav.promotions', page: promotionsPage },
  { re: /^\/promotions\/([^/]+)$/, nav: 'nav.promotions', page: promotionPage },
  { re: /^\/devices$/, nav: 'nav.devices', page: devicesPage },
  { re: /^\/catalog$/, nav: 'nav.catalog', page: catalogPage },
];
/** Pages whose numbers follow the filter bar's query (filters.ts). */
const FILTERED = new Set(['/', '/outlets']);
const NAV: [string, Key][] = [
  ['/', 'nav.overview'],
  ['/outlets', 'nav.outlets'],
  ['/alerts', 'nav.alerts'],
  ['/promotions', 'nav.promotions'],
  ['/devices', 'nav.devices'],
  ['/catalog', 'nav.catalog'],
];

const root = document.querySelector<HTMLElement>('#app')!;
let cleanup: (() => void) | void;

const navigate = (path: string): void => {
  history.pushState(null, '', path);
  render();
};

/** Internal links navigate without a reload. */
document.addEventListener('click', (e) => {
  const a = (e.target as HTMLElement).closest('a');
  if (!a || a.target || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
  const href = a.getAttribute('href');
  if (!href?.startsWith('/') || href.startsWith('/api/')) return;
  e.preventDefault();
  // Pages that read the filters keep the ones in use (period, region, ...), as the address holds them.
  navigate(a.dataset.keepFilters !== undefined ? `${href}${location.search}` : href);
});
window.addEventListener('popstate', () => render());

const langButton = (): HTMLElement => {
  const b = h(
    'button',
    { type: 'button', class: 'btn btn--ghost lang', 'data-action': 'lang', 'aria-label': t('lang.label') },
    t('lang.switch'),
  );
  b.addEventListener('click', () => {
    setLang(currentLang() === 'en' ? 'zh-CN' : 'en');
    render();
  });
  return b;
};

const loginView = (): HTMLElement => {
  const err = h('p', { class: 'form-error', role: 'alert' });
  const user = h('input', { name: 'username', autocomplete: 'username', required: '', autofocus: '' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: '' });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary' }, t('auth.submit'));
  const form = h(
    'form',
    { class: 'login__form' },
    h('label', { class: 'field' }, h('span', { class: 'field__label' }, t('auth.username')), user),
    h('label', { class: 'field' }, h('span', { class: 'field__label' }, t('auth.password')), pass),
    err,
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.textContent = t('auth.signingIn');
    submit.setAttribute('disabled', '');
    err.textContent = '';
    try {
      const r = await api<{ user: User }>('/auth/login', {
        method: 'POST',
        body: { username: user.value, password: pass.value },
      });
      session.user = r.user;
      const next = new URLSearchParams(location.search).get('next');
      history.replaceState(null, '', next?.startsWith('/') && !next.startsWith('//') ? next : '/');
      render();
    } catch (x) {
      const retry =
        x instanceof ApiError && x.status === 429
          ? Number((x.body as { details?: { message: string }[] })?.details?.[0]?.message.match(/\d+/)?.[0] ?? 60)
          : 0;
      err.textContent = retry ? t('auth.limited', { s: retry }) : t('auth.failed');
      submit.textContent = t('auth.submit');
      submit.removeAttribute('disabled');
    }
  });
  return h(
    'div',
    { class: 'login' },
    h(
      'div',
      { class: 'login__card' },
      h('div', { class: 'login__top' }, h('div', { class: 'logo-mark', 'aria-hidden': 'true' }, '◧'), langButton()),
      h('h1', {}, t('auth.title')),
      h('p', { class: 'muted' }, t('auth.subtitle')),
      form,
    ),
  );
};

const connBadge = (): HTMLElement => {
  const el = h('span', { class: 'conn', role: 'status' }, h('span', { class: 'dot' }), h('span', { class: 'label' }));
  const set = (s: ReturnType<typeof connection>) => {
    el.className = `conn conn--${s}`;
    el.querySelector('.label')!.textContent = t(`conn.${s}`);
  };
  set(connection());
  onConnection(set);
  return el;
};

const shell = (active: Key | null): { el: HTMLElement; main: HTMLElement } => {
  const u = session.user!;
  const main = h('main', { class: 'main', id: 'main' });
  const logout = h('button', { type: 'button', class: 'btn btn--ghost', 'data-action': 'logout' }, t('auth.logout'));
  logout.addEventListener('click', async () => {
    await api('/auth/logout', { method: 'POST' }).catch(() => undefined);
    session.user = null;
    stopLive();
    history.replaceState(null, '', '/login');
    render();
  });
  const nav = h(
    'nav',
    { class: 'nav', 'aria-label': 'Main' },
    ...NAV.map(([href, key]) =>
      h(
        'a',
        {
          href,
          ...(FILTERED.has(href) ? { 'data-keep-filters': '' } : {}),
          class: `nav__link${key === active ? ' nav__link--active' : ''}`,
          ...(key === active ? { 'aria-current': 'page' } : {}),
        },
        t(key),
      ),
    ),
  );
  const el = h(
    'div',
    { class: 'shell' },
    h(
      'header',
      { class: 'topbar' },
      h(
        'a',
        { href: '/', class: 'brand' },
        h('span', { class: 'logo-mark', 'aria-hidden': 'true' }, '◧'),
        h('span', {}, t('app.name')),
      ),
      nav,
      h(
        'div',
        { class: 'topbar__right' },
        connBadge(),
        langButton(),
        h(
          'span',
          { class: 'who', 'data-testid': 'who' },
          // The role is spelled out below; a display name that only repeats it ("Administrator") says nothing.
          h('strong', {}, u.displayName && u.displayName !== t(`role.${u.role}`) ? u.displayName : u.username),
          h(
            'span',
            { class: 'muted' },
            `${t(`role.${u.role}`)}${u.brand ? ` · ${u.brand}` : ''}${u.role === 'brand_manager' ? ` · ${t('role.readonly')}` : ''}`,
          ),
        ),
        logout,
      ),
    ),
    main,
  );
  return { el, main };
};

const render = (): void => {
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  document.title = t('app.name');
  if (!session.user) {
    if (location.pathname !== '/login') {
      const next = location.pathname + location.search;
      history.replaceState(null, '', `/login${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`);
    }
    root.replaceChildren(loginView());
    return;
  }
  if (location.pathname === '/login') history.replaceState(null, '', '/');
  startLive();
  const route = routes.find((r) => r.re.test(location.pathname));
  const { el, main } = shell(route?.nav ?? null);
  root.replaceChildren(el);
  sweepCharts();
  if (!route) {
    main.append(
      h('div', { class: 'state state--empty' }, h('strong', {}, '404'), h('a', { href: '/' }, t('nav.overview'))),
    );
    return;
  }
  document.title = `${t(route.nav ?? 'nav.overview')} · ${t('app.name')}`;
  const params = (route.re.exec(location.pathname) ?? []).slice(1).map(decodeURIComponent);
  cleanup = route.page(main, params);
};

setUnauthorizedHandler(() => {
  if (!session.user) return;
  session.user = null;
  stopLive();
  render();
});

const boot = async () => {
  root.replaceChildren(
    h('div', { class: 'state state--loading boot' }, h('span', { class: 'spinner' }), t('state.loading')),
  );
  try {
    session.user = (await api<{ user: User }>('/auth/me')).user;
  } catch {
    session.user = null;
  }
  render();
};
void boot();
