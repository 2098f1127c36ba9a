import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { runNode, waitUntil } from '../helpers/processes.js';

// The cloud processes here are read without signing in (this file runs in its own worker); log-in
// and tenant scope are tested in tests/dashboard and tests/cloud/tenant-isolation.test.ts.
process.env.SHELFSIGHT_REQUIRE_LOGIN = '0';

describe('fleet simulator', () => {
  it('provisions N devices with claim tokens and their observations reach the store', async () => {
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const cloudDir = await mkdtemp(path.join(tmpdir(), 'fleet-cloud-'));
    const cloud = runNode('cloud/dist/main.js', [
      '--http-port',
      String(httpPort),
      '--mqtt-port',
      String(mqttPort),
      '--data-dir',
      cloudDir,
      '--log-level',
      'warn',
    ]);
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    try {
      await waitUntil(
        async () => (await fetch(`${httpUrl}/api/v1/healthz`).catch(() => null))?.ok === true,
        20_000,
        'cloud',
      );
      const fleet = runNode('simulators/dist/fleet/main.js', [
        '--devices',
        '6',
        '--cloud',
        httpUrl,
        '--mqtt',
        `mqtt://127.0.0.1:${mqttPort}`,
        '--interval',
        '1',
        '--duration',
        '6',
        '--admin-token-file',
        path.join(cloudDir, 'identity', 'admin-token'),
        '--data-dir',
        await mkdtemp(path.join(tmpdir(), 'fleet-data-')),
      ]);
      expect(await fleet.exited).toBe(0);
      const fixtures = (await (await fetch(`${httpUrl}/api/v1/fixtures`)).json()) as {
        items: { deviceId: string; skus: unknown[] }[];
      };
      expect(new Set(fixtures.items.map((f) => f.deviceId)).size).toBe(6);
      expect(fixtures.items.every((f) => f.skus.length > 0)).toBe(true);
      const stats = (await (await fetch(`${httpUrl}/api/v1/ingest/stats`)).json()) as {
        accepted: number;
        duplicates: number;
      };
      expect(stats.accepted).toBeGreaterThanOrEqual(12);
      expect(stats.duplicates).toBe(0);
    } finally {
      await cloud.stop();
    }
  });

  it('refuses bad flags with exit code 2 and says which', async () => {
    const p = runNode('simulators/dist/fleet/main.js', ['--devices', '0', '--cloud', 'nope']);
    expect(await p.exited).toBe(2);
  });
});
