import type { Server as HttpServer } from 'node:http';
import { Server as IoServer } from 'socket.io';
import type { StockoutAlert } from '../analytics/service.js';
import type { Ingest } from '../ingest/index.js';
import type { Principal, TenantDirectory } from '../users/index.js';

/** Room of admins (and of anonymous sockets when log-in is not required): every event. */
export const ALL_ROOM = 'all';
/** Room of a brand's managers: events of the brand's fixtures and devices only. */
export const brandRoom = (brand: string): string => `brand:${brand}`;
const sessionRoom = (key: string): string => `session:${key}`;

export interface LiveOptions {
  /** The principal of a handshake (session cookie or admin bearer token); null when anonymous. */
  principal: (cookieHeader: string | undefined, authorization: string | undefined) => Principal | null;
  /** Refuse anonymous sockets. */
  requireLogin: boolean;
  tenants: Pick<TenantDirectory, 'brandOfFixture' | 'brandOfDevice'>;
  alerts: { on(event: 'alert', listener: (a: StockoutAlert) => void): unknown };
  /** Registers for log-outs, so a signed-out session's sockets are closed. */
  onSessionEnd?: (listener: (sessionKey: string) => void) => void;
}

/**
 * Live push to dashboards. Events carry the same shapes as the REST resources they update. Each
 * socket joins one room when it connects: admins the room of all events, a brand manager the
 * brand's room; every event goes to the all-room and to the room of the brand that owns its fixture
 * or device (none when no brand owns it), so a brand never receives another brand's events.
 */
export const attachLive = (http: HttpServer, ingest: Ingest, opts: LiveOptions): IoServer => {
  const io = new IoServer(http, { serveClient: false, cors: { origin: false } });
  io.use((socket, next) => {
    const h = socket.request.headers;
    const p = opts.principal(h.cookie, h.authorization);
    if (!p && opts.requireLogin) return next(new Error('login required'));
    socket.data = { principal: p };
    next();
  });
  io.on('connection', (socket) => {
    const p = (socket.data as { principal: Principal | null }).principal;
    void socket.join(p?.role === 'brand_manager' ? brandRoom(p.brand ?? '') : ALL_ROOM);
    // A socket lives no longer than its session: closed at expiry and on log-out.
    if (p?.session) {
      void socket.join(sessionRoom(p.session.key));
      const timer = setTimeout(() => socket.disconnect(true), Math.max(0, p.session.expiresAt - Date.now()));
      timer.unref();
      socket.on('disconnect', () => clearTimeout(timer));
    }
  });
  opts.onSessionEnd?.((key) => io.in(sessionRoom(key)).disconnectSockets(true));
  // `local`: in a cluster (D21) every process has every event and pushes it to its own sockets;
  // broadcasting through the Redis adapter as well would deliver each event once per process.
  const send = (event: string, payload: unknown, brand: string | null) =>
    io.local.to(brand === null ? ALL_ROOM : [ALL_ROOM, brandRoom(brand)]).emit(event, payload);

  ingest.on('observation', (s) => send('observation', s, opts.tenants.brandOfFixture(s.fixtureId)));
  ingest.on('device-status', (s) => send('device-status', s, opts.tenants.brandOfDevice(s.deviceId)));
  ingest.on('ota-state', (s) => send('ota-state', s, opts.tenants.brandOfDevice(s.deviceId)));
  ingest.on('door-event', (e) => send('door-event', e, opts.tenants.brandOfDevice(e.deviceId)));
  opts.alerts.on('alert', (a) => send('alert', a, opts.tenants.brandOfFixture(a.fixtureId)));
  return io;
};
