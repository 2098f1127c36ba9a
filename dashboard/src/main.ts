import { io } from 'socket.io-client';
import './style.css';
import { fetchDevices, fetchFixtures } from './api.js';
import { h } from './dom.js';
import { relativeTime } from './format.js';
import { renderCard } from './render.js';
import type { DeviceStatus, FixtureSummary } from './types.js';

const grid = document.querySelector<HTMLElement>('#grid')!;
const stateEl = document.querySelector<HTMLElement>('#state')!;
const connEl = document.querySelector<HTMLElement>('#conn')!;
const summaryEl = document.querySelector<HTMLElement>('#summary')!;

const fixtures = new Map<string, FixtureSummary>();
const devices = new Map<string, DeviceStatus>();
let loaded = false;

const setState = (kind: 'loading' | 'empty' | 'error' | 'ready', message = ''): void => {
  stateEl.className = `state state--${kind}`;
  stateEl.replaceChildren();
  if (kind === 'loading') stateEl.append(h('span', { class: 'spinner' }), 'Loading coolers…');
  if (kind === 'empty')
    stateEl.append(
      h('strong', {}, 'No coolers have reported yet.'),
      h('span', {}, 'Cards appear here as soon as a device publishes its first observation.'),
    );
  if (kind === 'error') {
    const retry = h('button', { type: 'button' }, 'Retry');
    retry.addEventListener('click', () => void load());
    stateEl.append(h('strong', {}, 'Could not load coolers.'), h('span', {}, message), retry);
  }
};

const setConnection = (kind: 'connecting' | 'live' | 'offline', label: string): void => {
  connEl.className = `conn conn--${kind}`;
  connEl.querySelector('.label')!.textContent = label;
};

const sorted = (): FixtureSummary[] =>
  [...fixtures.values()].sort((a, b) => a.outletId.localeCompare(b.outletId) || a.fixtureId.localeCompare(b.fixtureId));

const renderSummary = (): void => {
  const all = [...fixtures.values()];
  const empty = all.reduce((n, f) => n + f.emptyFacings, 0);
  const flagged = all.filter((f) => f.qualityFlags.length > 0).length;
  const parts = [
    h('span', {}, h('b', {}, String(all.length)), all.length === 1 ? ' cooler' : ' coolers'),
    h('span', {}, h('b', {}, String(empty)), ' empty facings'),
  ];
  if (flagged) parts.push(h('span', {}, h('b', {}, String(flagged)), ' with image warnings'));
  summaryEl.replaceChildren(...parts);
};

const renderAll = (): void => {
  grid.replaceChildren(...sorted().map((f) => renderCard(f, devices.get(f.deviceId))));
  renderSummary();
  setState(fixtures.size === 0 ? 'empty' : 'ready');
};

/** Replaces one card in place (keeping order) and flashes it, so a live update is noticeable. */
const upsertCard = (f: FixtureSummary): void => {
  const prev = fixtures.get(f.fixtureId);
  // Late backfill from an offline device must not replace a newer capture.
  if (prev && new Date(prev.capturedAt) > new Date(f.capturedAt)) return;
  fixtures.set(f.fixtureId, f);
  if (!loaded) return;
  const card = renderCard(f, devices.get(f.deviceId));
  const existing = grid.querySelector<HTMLElement>(`[data-fixture="${CSS.escape(f.fixtureId)}"]`);
  if (existing) existing.replaceWith(card);
  else {
    renderAll();
    return;
  }
  card.classList.add('card--flash');
  card.addEventListener('animationend', () => card.classList.remove('card--flash'), { once: true });
  renderSummary();
  setState('ready');
};

const load = async (): Promise<void> => {
  setState('loading');
  try {
    const [fx, dv] = await Promise.all([fetchFixtures(), fetchDevices().catch(() => [])]);
    for (const d of dv) devices.set(d.deviceId, d);
    for (const f of fx) fixtures.set(f.fixtureId, f);
    loaded = true;
    renderAll();
  } catch (err) {
    setState('error', (err as Error).message);
  }
};

const socket = io({ transports: ['websocket', 'polling'] });
socket.on('connect', () => {
  setConnection('live', 'Live');
  // Anything missed while disconnected is fetched again; live events only carry changes.
  if (loaded) void load();
});
socket.on('disconnect', () => setConnection('offline', 'Reconnecting…'));
socket.on('connect_error', () => setConnection('offline', 'Offline — retrying'));
socket.on('observation', (f: FixtureSummary) => upsertCard(f));
socket.on('device-status', (d: DeviceStatus) => {
  devices.set(d.deviceId, d);
  if (loaded) renderAll();
});

// Keep "captured 3 minutes ago" honest without re-rendering cards.
setInterval(() => {
  for (const t of document.querySelectorAll<HTMLTimeElement>('time[data-relative]'))
    t.textContent = relativeTime(t.dateTime);
}, 30_000);

void load();
