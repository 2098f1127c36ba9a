import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '@shelfsight/cloud';
import { startVirtualCameras } from '@shelfsight/simulators';
import { repoPath, runNode, waitUntil, type Proc } from '../helpers/processes.js';
import { adminApi, capturingLogger, selfSignedCert, type AdminApi } from './helpers.js';

/**
 * The agent CLI as a real process on first start: it exchanges a one-time claim token (from a file)
 * for its own credentials, keeps them in dataDir/credentials.json (0600), connects over mqtts with
 * a private CA, and uses the stored credentials on the next start. Nothing secret reaches a log.
 */
describe('agent CLI provisioning over TLS', () => {
  let cloud: RunningCloud;
  let api: AdminApi;
  let cloudLogs: () => string;
  let cameras: Awaited<ReturnType<typeof startVirtualCameras>>;
  let dir: string;
  const procs: Proc[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'agent-prov-'));
    const tls = await selfSignedCert();
    const cap = capturingLogger('debug');
    cloudLogs = cap.text;
    cloud = await startCloud(
      {
        httpPort: 0,
        mqttPort: 0,
        mqttsPort: 0,
        tlsCert: tls.cert,
        tlsKey: tls.key,
        dataDir: path.join(dir, 'cloud'),
        dashboardDir: '/nonexistent',
      },
      { logger: cap.logger },
    );
    api = adminApi(cloud.httpUrl, cloud.identity.adminToken);
    cameras = await startVirtualCameras({ port: 0, host: '127.0.0.1', cameras: 1, seed: 3 });
    await writeFile(path.join(dir, 'ca.pem'), await readFile(tls.cert));
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => (p.child.exitCode === null ? p.stop() : undefined)));
    await cameras?.close();
    await cloud?.close();
  });

  const writeConfig = async (name: string, deviceId: string, tokenFile: string) => {
    const cam = cameras.cameras[0]!;
    const file = path.join(dir, `${name}.json`);
    await writeFile(
      file,
      JSON.stringify({
        deviceId,
        outletId: cam.outletId,
        fixtureId: cam.fixtureId,
        // Relative paths resolve against the config file's folder.
        mqtt: { url: cloud.mqttsUrl, caFile: 'ca.pem', reconnectPeriodMs: 250 },
        provisioning: { url: cloud.httpUrl, claimTokenFile: path.basename(tokenFile) },
        camera: { kind: 'http', url: cam.snapshotUrl },
        capture: { intervalS: 0 },
        modelDir: repoPath('models'),
        dataDir: `data-${name}`,
        statusIntervalS: 60,
      }),
    );
    return file;
  };

  const online = (deviceId: string) => async () => {
    const res = await fetch(`${cloud.httpUrl}/api/v1/devices`);
    const body = (await res.json()) as { items: { deviceId: string; state: string }[] };
    return body.items.some((d) => d.deviceId === deviceId && d.state === 'online');
  };

  it('provisions on first start, reuses the stored credentials after, and logs no secret', async () => {
    const claim = await api.post('/api/v1/claims', { deviceId: 'cam-cli-01' });
    const tokenFile = path.join(dir, 'claim-token');
    await writeFile(tokenFile, `${claim.body.claimToken}\n`, { mode: 0o600 });
    const config = await writeConfig('agent', 'cam-cli-01', tokenFile);

    const first = runNode('edge-agent/dist/cli.js', ['--config', config, '--log-level', 'debug']);
    procs.push(first);
    await waitUntil(online('cam-cli-01'), 40_000, 'agent online over mqtts');
    const credsFile = path.join(dir, 'data-agent', 'credentials.json');
    expect((await stat(credsFile)).mode & 0o777).toBe(0o600);
    const creds = JSON.parse(await readFile(credsFile, 'utf8')) as { username: string; password: string };
    expect(creds.username).toBe('cam-cli-01');
    expect(await first.stop()).toBe(0);

    // The token is burnt: a second start must use credentials.json, not provision again.
    const second = runNode('edge-agent/dist/cli.js', ['--config', config, '--log-level', 'debug']);
    procs.push(second);
    await waitUntil(
      () => second.lines.some((l) => l.includes('"msg":"mqtt connected"')),
      40_000,
      'second start connected',
    );
    expect(second.lines.some((l) => l.includes('provisioning'))).toBe(false);
    expect(await second.stop()).toBe(0);

    const agentLogs = [...first.lines, ...second.lines].join('\n');
    expect(agentLogs).toContain('provisioned: device credentials stored');
    for (const secret of [claim.body.claimToken as string, creds.password, cloud.identity.adminToken]) {
      expect(agentLogs).not.toContain(secret);
      expect(cloudLogs()).not.toContain(secret);
    }
  });

  it('exits 2 with a clear message when the claim token was already used', async () => {
    const claim = await api.post('/api/v1/claims', { deviceId: 'cam-cli-02' });
    const burnt = await api.post('/api/v1/provision', { claimToken: claim.body.claimToken }, null);
    expect(burnt.status).toBe(201);
    const tokenFile = path.join(dir, 'burnt-token');
    await writeFile(tokenFile, claim.body.claimToken as string);
    const p = runNode('edge-agent/dist/cli.js', ['--config', await writeConfig('burnt', 'cam-cli-02', tokenFile)]);
    procs.push(p);
    expect(await p.exited).toBe(2);
    expect(p.lines.join('\n')).toMatch(/claim token already used/);
    expect(p.lines.join('\n')).not.toContain(claim.body.claimToken);
  });
});
