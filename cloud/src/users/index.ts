import { randomBytes } from 'node:crypto';
import path from 'node:path';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { MasterDataRegistry } from '../masterdata/index.js';
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
import { TenantDirectory, fixtureBrand, type Tenant } from './tenant.js';

export { TenantDirectory, fixtureBrand, type Tenant };
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
  /** The session (digest of its token) and when it expires; absent for the admin token. */
  session?: { key: string; expiresAt: number };
}

declare module 'express-serve-static-core' {
  interface Locals {
    principal?: Principal;
    /** Set for brand managers: what the brand owns. Handlers scope every read and write target by it. */
    tenant?: Tenant;
  }
}

interface Session {
  username: string;
  expiresAt: number;
}

/** Admin-only areas a brand manager is refused (403) even for reads. */
const ADMIN_AREAS = ['/ingest', '/users'];

const under = (path: string, prefixes: string[]) => prefixes.some((x) => path === x || path.startsWith(`${x}/`));

/** A path segment as the router will see it; null when it is not valid percent-encoding. */
const segment = (raw: string): string | null => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
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
  /** Who owns which fixture, outlet, device and promotion. */
  tenants: TenantDirectory;
  /** Stockout alerts, to resolve `/analytics/alerts/:id/...` to its fixture. */
  alerts: { get(id: string): { fixtureId: string } | undefined };
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
  /** The principal of a socket.io handshake (session cookie or admin bearer token); null when anonymous. */
  socketAuth: (cookieHeader: string | undefined, authorization?: string) => Principal | null;
  /** Called with the session key when a session is logged out (live sockets of it are closed). */
  onSessionEnd: (listener: (sessionKey: string) => void) => void;
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
  const sessionEnded = new Set<(sessionKey: string) => void>();
  const failures = new Map<string, { n: number; resetAt: number }>();
  const scopeOf = (brand: string): ReadonlySet<string> => opts.tenants.tenant(brand).outlets;

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
    return u
      ? { username: u.username, role: u.role, brand: u.brand, via: 'session', session: { key, expiresAt: s.expiresAt } }
      : null;
  };

  const deny = (res: Response, status: number, error: string, message: string) =>
    res.status(status).json({ error, details: [{ param: 'authorization', message }] });

  const notFound = (res: Response, param: string, message: string) =>
    res.status(404).json({ error: 'not found', details: [{ param, message }] });

  /**
   * A reference by id the brand may not see: an outlet, fixture or device in the query, or a
   * fixture, device, promotion or alert in the path. Answered 404 whether it exists or not, so a
   * brand learns nothing about other brands' ids (docs/decisions.md D14).
   */
  const foreignReference = (req: Request, t: Tenant): [param: string, message: string] | null => {
    const q = req.query;
    for (const [param, set] of [
      ['outletId', t.outlets],
      ['fixtureId', t.fixtures],
      ['deviceId', t.devices],
    ] as const) {
      const v = q[param];
      if (v === undefined) continue;
      if (typeof v !== 'string' || !set.has(v)) return [param, `no ${param.slice(0, -2)} ${String(v)}`];
    }
    const parts = req.path.split('/').slice(1);
    // Route names match case-insensitively (express's default); ids are exact.
    const [a, b] = [parts[0]?.toLowerCase(), parts[1]?.toLowerCase()];
    const id = parts[1] === undefined ? null : segment(parts[1]);
    if (a === 'fixtures' && parts.length > 1 && (id === null || !t.fixtures.has(id)))
      return ['fixtureId', `no fixture ${id ?? parts[1]}`];
    const registry = a === 'devices' && b === 'registry' && parts.length === 2; // GET /devices/registry
    if (a === 'devices' && parts.length > 1 && !registry && (id === null || !t.devices.has(id)))
      return ['deviceId', `no device ${id ?? parts[1]}`];
    if ((a === 'analytics' || a === 'masterdata') && b === 'promotions' && parts.length > 2) {
      const pid = segment(parts[2]!);
      const p = pid === null ? undefined : opts.masterdata.current().promotions.get(pid);
      if (!p || !t.ownsPromotion(p)) return ['promotionId', `no promotion ${pid ?? parts[2]}`];
    }
    if (a === 'analytics' && b === 'alerts' && parts.length > 2) {
      const aid = segment(parts[2]!);
      const alert = aid === null ? undefined : opts.alerts.get(aid);
      if (!alert || !t.fixtures.has(alert.fixtureId)) return ['id', `no alert ${aid ?? parts[2]}`];
    }
    return null;
  };

  const middleware = express.Router();
  middleware.use((req, res, next) => {
    const p = principalFrom(req.get('cookie'), req.get('authorization'));
    if (p) res.locals.principal = p;
    const mutating = MUTATING.has(req.method);
    if (p?.via === 'session' && mutating && !req.get(CSRF_HEADER))
      return deny(res, 403, 'forbidden', `mutating requests need the ${CSRF_HEADER} header`);
    // Express matches routes case-insensitively: /Fixtures reaches the /fixtures handler, so every
    // check here compares the lower-cased path (it once let anonymous /Fixtures past the log-in).
    const path = req.path.toLowerCase();
    const protectedPath = under(path, PROTECTED);
    if (!p && opts.requireLogin && protectedPath)
      return deny(res, 401, 'login required', 'sign in or send Bearer <admin token>');
    if (p?.role !== 'brand_manager' || path.startsWith('/auth/')) return next();

    // Tenant scope: a brand manager sees only what the brand owns. Order: admin-only areas (403),
    // then references to what is not the brand's (404), then read-only (403).
    const tenant = opts.tenants.tenant(p.brand ?? '');
    res.locals.tenant = tenant;
    if (under(path, ADMIN_AREAS)) return deny(res, 403, 'forbidden', 'admins only');
    const foreign = foreignReference(req, tenant);
    if (foreign) return notFound(res, ...foreign);
    if (mutating) return deny(res, 403, 'forbidden', 'brand managers have read-only access');
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
    if (token) {
      const key = sha256(token);
      sessions.delete(key);
      for (const f of sessionEnded) f(key);
    }
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
    socketAuth: (cookieHeader, authorization) => principalFrom(cookieHeader, authorization),
    onSessionEnd: (listener) => void sessionEnded.add(listener),
  };
};
