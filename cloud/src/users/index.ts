import { randomBytes } from 'node:crypto';
import path from 'node:path';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { MasterDataRegistry, MasterDataView } from '../masterdata/index.js';
import type { TimeSeriesStore } from '../store/index.js';
import { safeEqual, sha256 } from '../identity/secrets.js';
import { parsePart } from '../api/validation.js';
import {
  ADMIN_PASSWORD_FILE,
  NewUser,
  UserStore,
  ensureAdmin,
  ensureBrandManagers,
  type PublicUser,
  type Role,
} from './store.js';

export { UserStore, ensureAdmin, ensureBrandManagers, ADMIN_PASSWORD_FILE, type PublicUser, type Role };

export const SESSION_COOKIE = 'ss_session';
/** Mutating requests authenticated by the session cookie must carry this header (CSRF defence besides SameSite). */
export const CSRF_HEADER = 'x-shelfsight-csrf';
export const SESSION_TTL_MS = 12 * 3600_000;
/** Failed log-ins allowed per username, and per client address (offices share one), per window before 429. */
export const LOGIN_MAX_FAILURES = 10;
export const LOGIN_MAX_FAILURES_PER_IP = 50;
export const LOGIN_WINDOW_MS = 5 * 60_000;

export interface Principal {
  username: string;
  role: Role;
  brand: string | null;
  via: 'session' | 'token';
}

/** What a request may see: undefined = everything (admin); a set = only these outlets. */
export type OutletScope = ReadonlySet<string> | undefined;

declare module 'express-serve-static-core' {
  interface Locals {
    principal?: Principal;
    outletScope?: ReadonlySet<string>;
  }
}

interface Session {
  username: string;
  expiresAt: number;
}

/** Outlets a brand "owns": those with a fixture whose planogram holds one of the brand's SKUs. */
export const brandOutlets = (md: MasterDataView, brand: string): Set<string> => {
  const skus = new Set([...md.skus.values()].filter((s) => s.brand === brand).map((s) => s.sku));
  const out = new Set<string>();
  for (const f of md.fixtures.values()) if (f.positions.some((p) => skus.has(p.sku))) out.add(f.outletId);
  return out;
};

const parseCookies = (header: string | undefined): Map<string, string> => {
  const m = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) m.set(part.slice(0, i).trim(), decodeURIComponent(part.slice(i + 1).trim()));
  }
  return m;
};

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Read endpoints that need a signed-in user (or the admin token) when log-in is required. */
const PROTECTED = [
  '/observations',
  '/fixtures',
  '/devices',
  '/analytics',
  '/masterdata',
  '/ingest',
  '/users',
  '/catalog',
];

export interface UsersOptions {
  dataDir: string;
  adminToken: string;
  masterdata: MasterDataRegistry;
  store: TimeSeriesStore;
  logger: Logger;
  /** Refuse unauthenticated reads of the data API (401). Off keeps the API open as before. */
  requireLogin: boolean;
  /** Force `Secure` on the session cookie (otherwise set when the request came over TLS). */
  secureCookies?: boolean;
  /** Where the one-time admin password is printed; default console.log. */
  print?: (line: string) => void;
}

export interface RunningUsers {
  users: UserStore;
  /** The generated admin password when this start created the admin (tests; also printed once). */
  initialAdminPassword: string | null;
  /** Mount first under /api/v1: authenticates, enforces CSRF/roles, and sets the tenant scope. */
  middleware: Router;
  /** /auth/login, /auth/logout, /auth/me, /users. */
  router: Router;
  /** socket.io middleware: refuses anonymous sockets when log-in is required. */
  socketAuth: (cookieHeader: string | undefined) => Principal | null;
}

export const startUsers = async (opts: UsersOptions): Promise<RunningUsers> => {
  const dir = opts.dataDir === ':memory:' ? null : path.join(opts.dataDir, 'identity');
  const users = await UserStore.open(dir);
  const initialAdminPassword = await ensureAdmin(users, dir);
  if (initialAdminPassword) {
    const where = dir ? ` (also in ${path.join(dir, ADMIN_PASSWORD_FILE)}, mode 0600)` : '';
    (opts.print ?? console.log)(
      `ShelfSight dashboard: created user "admin" with password ${initialAdminPassword}${where}`,
    );
    opts.logger.info(
      { user: 'admin', passwordFile: dir ? path.join(dir, ADMIN_PASSWORD_FILE) : null },
      'admin created',
    );
  }

  const sessions = new Map<string, Session>();
  const failures = new Map<string, { n: number; resetAt: number }>();
  let scopeCache: { md: MasterDataView; byBrand: Map<string, Set<string>> } | null = null;
  const scopeOf = (brand: string): Set<string> => {
    const md = opts.masterdata.current();
    if (scopeCache?.md !== md) scopeCache = { md, byBrand: new Map() };
    let s = scopeCache.byBrand.get(brand);
    if (!s) scopeCache.byBrand.set(brand, (s = brandOutlets(md, brand)));
    return s;
  };

  const principalFrom = (cookieHeader: string | undefined, authorization: string | undefined): Principal | null => {
    const bearer = /^Bearer (.+)$/.exec(authorization ?? '');
    if (bearer && safeEqual(bearer[1]!, opts.adminToken))
      return { username: 'admin-token', role: 'admin', brand: null, via: 'token' };
    const token = parseCookies(cookieHeader).get(SESSION_COOKIE);
    if (!token) return null;
    const key = sha256(token);
    const s = sessions.get(key);
    if (!s || s.expiresAt < Date.now()) {
      sessions.delete(key);
      return null;
    }
    const u = users.get(s.username);
    return u ? { username: u.username, role: u.role, brand: u.brand, via: 'session' } : null;
  };

  const deny = (res: Response, status: number, error: string, message: string) =>
    res.status(status).json({ error, details: [{ param: 'authorization', message }] });

  const middleware = express.Router();
  middleware.use(async (req, res, next) => {
    const p = principalFrom(req.get('cookie'), req.get('authorization'));
    if (p) res.locals.principal = p;
    const mutating = MUTATING.has(req.method);
    if (p?.via === 'session' && mutating && !req.get(CSRF_HEADER))
      return deny(res, 403, 'forbidden', `mutating requests need the ${CSRF_HEADER} header`);
    if (p?.role === 'brand_manager' && mutating && !req.path.startsWith('/auth/'))
      return deny(res, 403, 'forbidden', 'brand managers have read-only access');
    const protectedPath = PROTECTED.some((x) => req.path === x || req.path.startsWith(`${x}/`));
    if (!p && opts.requireLogin && protectedPath)
      return deny(res, 401, 'login required', 'sign in or send Bearer <admin token>');
    if (p?.role !== 'brand_manager' || !protectedPath) return next();

    // Tenant scope: a brand manager sees only the brand's outlets.
    const scope = scopeOf(p.brand ?? '');
    res.locals.outletScope = scope;
    if (req.path.startsWith('/ingest') || req.path.startsWith('/users'))
      return deny(res, 403, 'forbidden', 'admins only');
    const outletId = typeof req.query.outletId === 'string' ? req.query.outletId : undefined;
    if (outletId && !scope.has(outletId)) return deny(res, 403, 'forbidden', `outlet ${outletId} is not yours`);
    const hist = /^\/fixtures\/([^/]+)\/history$/.exec(req.path);
    if (hist) {
      const f = opts.masterdata.current().fixtures.get(decodeURIComponent(hist[1]!));
      if (!f || !scope.has(f.outletId)) return deny(res, 403, 'forbidden', 'fixture is not yours');
    }
    // Plain data endpoints: drop items outside the scope from the response (no handler changes).
    let deviceOutlets: Map<string, string> | null = null;
    if (req.path === '/devices') {
      deviceOutlets = new Map();
      for (const f of await opts.store.latestPerFixture()) deviceOutlets.set(f.deviceId, f.outletId);
      for (const f of opts.masterdata.current().fixtures.values())
        if (f.deviceId && !deviceOutlets.has(f.deviceId)) deviceOutlets.set(f.deviceId, f.outletId);
    }
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      if (res.statusCode >= 400 || !body || typeof body !== 'object') return json(body);
      const b = body as Record<string, unknown>;
      const inScope = (x: unknown): boolean => {
        const o = x as { outletId?: unknown; outletIds?: unknown; deviceId?: unknown };
        if (typeof o.outletId === 'string') return scope.has(o.outletId);
        if (Array.isArray(o.outletIds)) return o.outletIds.some((id) => scope.has(String(id)));
        if (deviceOutlets && typeof o.deviceId === 'string') return scope.has(deviceOutlets.get(o.deviceId) ?? '');
        return true;
      };
      if (req.path.startsWith('/analytics')) return json(body); // the analytics router applies the scope itself
      if (Array.isArray(b.items)) return json({ ...b, items: b.items.filter(inScope) });
      if (req.path === '/masterdata') {
        const out = { ...b } as Record<string, unknown>;
        for (const k of ['outlets', 'fixtures', 'promotions'])
          if (Array.isArray(b[k])) out[k] = (b[k] as unknown[]).filter(inScope);
        return json(out);
      }
      return json(body);
    };
    next();
  });

  const router = express.Router();
  router.use('/auth', express.json({ limit: '8kb' }));
  const Login = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) });

  const limited = (key: string): number => {
    const f = failures.get(key);
    if (!f || f.resetAt < Date.now()) return 0;
    return f.n >= (key.startsWith('ip:') ? LOGIN_MAX_FAILURES_PER_IP : LOGIN_MAX_FAILURES)
      ? Math.ceil((f.resetAt - Date.now()) / 1000)
      : 0;
  };
  const fail = (key: string) => {
    const f = failures.get(key);
    if (!f || f.resetAt < Date.now()) failures.set(key, { n: 1, resetAt: Date.now() + LOGIN_WINDOW_MS });
    else f.n++;
  };

  const cookie = (req: Request, value: string, maxAgeS: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}` +
    (opts.secureCookies || req.secure ? '; Secure' : '');

  const describe = (u: PublicUser) => ({
    ...u,
    outlets: u.role === 'brand_manager' ? scopeOf(u.brand ?? '').size : null,
  });

  router.post('/auth/login', async (req, res) => {
    const body = parsePart(Login, req.body ?? {}, 'body');
    const keys = [`ip:${req.ip ?? '?'}`, `user:${body.username}`];
    const wait = Math.max(...keys.map(limited));
    if (wait > 0)
      return res
        .status(429)
        .set('Retry-After', String(wait))
        .json({ error: 'too many failed log-ins', details: [{ param: 'username', message: `retry in ${wait} s` }] });
    const u = await users.verify(body.username, body.password);
    if (!u) {
      keys.forEach(fail);
      return res
        .status(401)
        .json({ error: 'wrong username or password', details: [{ param: 'password', message: 'not accepted' }] });
    }
    for (const k of keys) failures.delete(k);
    for (const [k, s] of sessions) if (s.expiresAt < Date.now()) sessions.delete(k);
    const token = randomBytes(32).toString('base64url');
    sessions.set(sha256(token), { username: u.username, expiresAt: Date.now() + SESSION_TTL_MS });
    res.setHeader('Set-Cookie', cookie(req, token, SESSION_TTL_MS / 1000));
    res.json({ user: describe(u) });
  });

  router.post('/auth/logout', (req, res) => {
    const token = parseCookies(req.get('cookie')).get(SESSION_COOKIE);
    if (token) sessions.delete(sha256(token));
    res.setHeader('Set-Cookie', cookie(req, '', 0));
    res.json({ ok: true });
  });

  router.get('/auth/me', (_req, res) => {
    const p = res.locals.principal;
    if (!p) return deny(res, 401, 'not signed in', 'no session');
    const u = p.via === 'token' ? null : users.get(p.username);
    res.json({
      user: u
        ? describe(u)
        : { username: p.username, displayName: 'Admin token', role: p.role, brand: null, outlets: null },
    });
  });

  const adminOnly: RequestHandler = (_req, res, next) =>
    res.locals.principal?.role === 'admin' ? next() : deny(res, 403, 'forbidden', 'admins only');

  router.get('/users', adminOnly, (_req, res) => {
    res.json({ items: users.list() });
  });

  router.post('/users', express.json({ limit: '8kb' }), adminOnly, async (req, res) => {
    const body = parsePart(NewUser, req.body ?? {}, 'body');
    if (users.get(body.username))
      return res
        .status(409)
        .json({ error: 'user exists', details: [{ param: 'username', message: `${body.username} exists` }] });
    res.status(201).json(await users.create(body));
  });

  return {
    users,
    initialAdminPassword,
    middleware,
    router,
    socketAuth: (cookieHeader) => principalFrom(cookieHeader, undefined),
  };
};
