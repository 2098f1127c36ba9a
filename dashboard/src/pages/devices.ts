import { ApiError, api } from '../api.js';
import { dateTime, num, relative } from '../format.js';
import { label, t } from '../i18n.js';
import { isAdmin, onLive } from '../state.js';
import { card, empty, h, load, table } from '../ui.js';
import type { DeviceStatus, FixtureSummary } from '../types.js';
import type { PageFn } from '../main.js';

export const devicesPage: PageFn = (main) => {
  main.append(h('div', { class: 'page-head' }, h('h1', {}, t('devices.title')), h('span', { class: 'muted summary' })));
  const host = h('div', {});
  main.append(host);
  const results = new Map<string, HTMLElement>();
  const capture = async (d: DeviceStatus, btn: HTMLButtonElement) => {
    const out = results.get(d.deviceId)!;
    btn.disabled = true;
    btn.textContent = t('devices.capturing');
    out.className = 'capture-result muted small';
    out.textContent = '';
    try {
      const r = await api<{ reply: { ok: boolean; observationId?: string; error?: string } }>(
        `/devices/${encodeURIComponent(d.deviceId)}/commands`,
        {
          method: 'POST',
          body: { name: 'capture-now' },
        },
      );
      const obs = r.reply.observationId
        ? (await api<{ items: FixtureSummary[] }>('/fixtures')).items.find((f) => f.messageId === r.reply.observationId)
        : undefined;
      out.className = 'capture-result good small';
      out.textContent = obs
        ? t('devices.captured', { n: obs.skus.reduce((s, x) => s + x.count, 0), e: obs.emptyFacings })
        : r.reply.ok
          ? `✓ ${r.reply.observationId ?? ''}`
          : t('devices.captureFailed', { msg: r.reply.error ?? '' });
    } catch (err) {
      out.className = 'capture-result bad small';
      out.textContent = t('devices.captureFailed', { msg: err instanceof ApiError ? err.message : String(err) });
    } finally {
      btn.disabled = false;
      btn.textContent = t('devices.capture');
    }
  };
  let devices: DeviceStatus[] = [];
  const render = () => {
    const online = devices.filter((d) => d.state === 'online').length;
    main.querySelector('.summary')!.textContent =
      `${t('devices.online')} ${online} · ${t('devices.offline')} ${devices.length - online}`;
    if (!devices.length) return empty(t('devices.none'), '');
    return card(
      t('devices.title'),
      table(
        devices,
        [
          { key: 'device', label: 'col.device', value: (d) => d.deviceId },
          {
            key: 'state',
            label: 'col.state',
            value: (d) => d.state,
            render: (d) => h('span', { class: `pill pill--${d.state}` }, h('span', { class: 'dot' }), label(d.state)),
          },
          {
            key: 'seen',
            label: 'col.lastSeen',
            value: (d) => d.receivedAt,
            render: (d) => h('span', { title: dateTime(d.receivedAt) }, relative(d.receivedAt)),
          },
          { key: 'agent', label: 'col.agent', value: (d) => d.agentVersion },
          { key: 'model', label: 'col.model', value: (d) => (d.model ? `${d.model.name} ${d.model.version}` : null) },
          {
            key: 'gallery',
            label: 'col.gallery',
            value: (d) => (d.gallery ? `${d.gallery.name} ${d.gallery.version}` : null),
          },
          {
            key: 'outbox',
            label: 'col.outbox',
            value: (d) => d.health?.outboxDepth ?? null,
            render: (d) => num(d.health?.outboxDepth ?? null),
            num: true,
          },
          {
            key: 'latency',
            label: 'col.latency',
            value: (d) => d.health?.lastCaptureLatencyMs ?? null,
            render: (d) => (d.health?.lastCaptureLatencyMs != null ? `${num(d.health.lastCaptureLatencyMs)} ms` : '—'),
            num: true,
          },
          {
            key: 'actions',
            label: 'col.actions',
            value: () => null,
            render: (d) => {
              const out = results.get(d.deviceId) ?? h('span', { class: 'capture-result' });
              results.set(d.deviceId, out);
              if (!isAdmin()) return h('span', { class: 'muted small' }, t('role.readonly'));
              const b = h(
                'button',
                { type: 'button', class: 'btn btn--small', 'data-action': 'capture' },
                t('devices.capture'),
              );
              b.disabled = d.state !== 'online';
              b.addEventListener('click', () => void capture(d, b));
              return h('span', { class: 'actions' }, b, out);
            },
          },
        ],
        { sort: { key: 'device', dir: 1 }, testId: 'devices-table', rowAttrs: (d) => ({ 'data-device': d.deviceId }) },
      ),
    );
  };
  void load(
    host,
    async () => (devices = (await api<{ items: DeviceStatus[] }>('/devices')).items),
    () => render(),
  );
  return onLive('device-status', () => {
    void api<{ items: DeviceStatus[] }>('/devices').then((r) => {
      devices = r.items;
      if (!host.querySelector('[data-action="capture"][disabled]')) host.replaceChildren(render());
    });
  });
};
