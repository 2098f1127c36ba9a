import { io, type Socket } from 'socket.io-client';
import { api } from './api.js';
import type { MasterData, User } from './types.js';

export const session: { user: User | null } = { user: null };

let md: Promise<MasterData> | null = null;
/** Master data (catalog, outlets, promotions), fetched once per page load; `refresh` after edits. */
export const masterdata = (refresh = false): Promise<MasterData> => {
  if (!md || refresh) {
    md = api<MasterData>('/masterdata');
    md.catch(() => (md = null));
  }
  return md;
};

export const isAdmin = (): boolean => session.user?.role === 'admin';

type Handler = (payload: unknown) => void;
const handlers = new Map<string, Set<Handler>>();
let socket: Socket | null = null;
let connState: 'connecting' | 'live' | 'offline' = 'connecting';
const connListeners = new Set<(s: typeof connState) => void>();

export const connection = () => connState;
export const onConnection = (f: (s: typeof connState) => void): void => {
  connListeners.add(f);
};
const setConn = (s: typeof connState) => {
  connState = s;
  for (const f of connListeners) f(s);
};

/** One socket.io connection for the app; pages subscribe per event and unsubscribe on leave. */
export const startLive = (): void => {
  if (socket) return;
  socket = io({ transports: ['websocket', 'polling'] });
  socket.on('connect', () => setConn('live'));
  socket.on('disconnect', () => setConn('offline'));
  socket.on('connect_error', () => setConn('offline'));
  for (const ev of ['alert', 'observation', 'device-status', 'ota-state'])
    socket.on(ev, (p: unknown) => {
      for (const f of handlers.get(ev) ?? []) f(p);
    });
};

export const stopLive = (): void => {
  socket?.close();
  socket = null;
};

export const onLive = (event: string, f: Handler): (() => void) => {
  const set = handlers.get(event) ?? new Set();
  set.add(f);
  handlers.set(event, set);
  return () => set.delete(f);
};
