import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { topics } from '@shelfsight/protocol';
import type { RunningCloud } from '@shelfsight/cloud';
import { makeObservation } from './helpers/observations.js';
import { connectDevice, getJson, startTestCloud } from './helpers/cloud.js';

describe('REST API validation and live push', () => {
  let cloud: RunningCloud;

  beforeAll(async () => {
    cloud = await startTestCloud();
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it.each([
    ['/api/v1/observations?limit=0', 'limit'],
    ['/api/v1/observations?limit=abc', 'limit'],
    ['/api/v1/observations?limit=5000', 'limit'],
    ['/api/v1/observations?from=yesterday', 'from'],
    ['/api/v1/observations?from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z', 'to'],
    ['/api/v1/observations?deviceId=a%20b', 'deviceId'],
    ['/api/v1/observations?fixture=cooler-1', 'query'],
    ['/api/v1/observations?cursor=garbage', 'cursor'],
    ['/api/v1/fixtures/bad%20id/history', 'fixtureId'],
    ['/api/v1/fixtures/cooler-1/history?sku=a/b', 'sku'],
  ])('GET %s → 400 naming %s', async (path, param) => {
    const { status, body } = await getJson(cloud, path);
    expect(status).toBe(400);
    expect(typeof body.error).toBe('string');
    expect(body.details.length).toBeGreaterThan(0);
    expect(body.details.map((d: { param: string }) => d.param)).toContain(param);
    expect(body.details.every((d: { message: string }) => d.message.length > 0)).toBe(true);
  });

  it('validates command bodies', async () => {
    const post = (deviceId: string, body: string) =>
      fetch(`${cloud.httpUrl}/api/v1/devices/${deviceId}/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const badName = await post('dev-1', JSON.stringify({ name: 'self-destruct' }));
    expect(badName.status).toBe(400);
    expect(((await badName.json()) as { details: { param: string }[] }).details[0]!.param).toBe('name');
    expect((await post('dev-1', '{oops')).status).toBe(400);
    expect((await post('bad%20id', JSON.stringify({ name: 'capture-now' }))).status).toBe(400);
  });

  it('answers JSON 404s for unknown API routes', async () => {
    const { status, body } = await getJson(cloud, '/api/v1/nope');
    expect(status).toBe(404);
    expect(body.error).toBe('not found');
  });

  it('paginates with nextCursor', async () => {
    for (let i = 0; i < 3; i++)
      await cloud.store.writeObservation(
        makeObservation({ fixtureId: 'paged', capturedAt: `2024-05-01T10:0${i}:00Z` }),
        new Date(),
      );
    const first = await getJson(cloud, '/api/v1/observations?fixtureId=paged&limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await getJson(
      cloud,
      `/api/v1/observations?fixtureId=paged&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
  });

  it('pushes observation and device-status over socket.io', async () => {
    const socket: Socket = ioClient(cloud.httpUrl, { transports: ['websocket'], reconnection: false });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const gotObservation = new Promise<Record<string, unknown>>((resolve) => socket.once('observation', resolve));
      const gotStatus = new Promise<Record<string, unknown>>((resolve) => socket.once('device-status', resolve));
      const dev = await connectDevice(cloud, 'dev-live');
      const obs = makeObservation({ deviceId: 'dev-live', fixtureId: 'live-cooler' });
      await dev.publishAsync(topics.observations('dev-live'), JSON.stringify(obs), { qos: 1 });
      await dev.publishAsync(topics.status('dev-live'), JSON.stringify({ deviceId: 'dev-live', state: 'online' }), {
        qos: 1,
      });
      expect(await gotObservation).toMatchObject({
        messageId: obs.messageId,
        fixtureId: 'live-cooler',
        deviceId: 'dev-live',
        skus: [
          { sku: 'cola-330', count: 6, facings: 3 },
          { sku: 'lemon-500', count: 2, facings: 2 },
        ],
      });
      expect(await gotStatus).toMatchObject({ deviceId: 'dev-live', state: 'online' });
      await dev.endAsync();
    } finally {
      socket.close();
    }
  });

  it('serves a helpful page when the dashboard is not built', async () => {
    const bare = await startTestCloud({ dashboardDir: '/nonexistent/dashboard' });
    try {
      const res = await fetch(bare.httpUrl + '/');
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/npm run build -w @shelfsight\/dashboard/);
    } finally {
      await bare.close();
    }
  });
});
