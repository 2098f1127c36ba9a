import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '@shelfsight/cloud';
import { topics } from '@shelfsight/protocol';
import { makeObservation } from '../cloud/helpers/observations.js';
import {
  adminApi,
  capturingLogger,
  closed,
  connect,
  selfSignedCert,
  sleep,
  subackCode,
  type AdminApi,
} from './helpers.js';

interface Creds {
  deviceId: string;
  username: string;
  password: string;
  mqttUrl: string;
  outletId?: string;
  fixtureId?: string;
}

/**
 * Device identity on the embedded broker: claim → provision → connect, credentials and client ids
 * checked, devices confined to their own topics (publish, subscribe, retained), revocation, TLS,
 * and no secret in the logs.
 */
describe('device identity and broker ACLs (embedded broker)', () => {
  let cloud: RunningCloud;
  let api: AdminApi;
  let logs: () => string;
  let dataDir: string;
  let tls: Awaited<ReturnType<typeof selfSignedCert>>;
  const secrets: string[] = [];
  const clients: MqttClient[] = [];

  const provision = async (deviceId: string, claim: Record<string, unknown> = { deviceId }): Promise<Creds> => {
    const c = await api.post('/api/v1/claims', claim);
    expect(c.status).toBe(201);
    secrets.push(c.body.claimToken);
    const p = await api.post('/api/v1/provision', { claimToken: c.body.claimToken, deviceId }, null);
    expect(p.status).toBe(201);
    secrets.push(p.body.password);
    return p.body as Creds;
  };
  const device = async (creds: Creds, over: { clientId?: string; url?: string } = {}) => {
    const client = await connect(over.url ?? cloud.mqttUrl, {
      clientId: over.clientId ?? creds.deviceId,
      username: creds.username,
      password: creds.password,
      clean: true,
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'identity-'));
    tls = await selfSignedCert();
    const cap = capturingLogger('debug');
    logs = cap.text;
    cloud = await startCloud(
      {
        httpPort: 0,
        mqttPort: 0,
        mqttsPort: 0,
        tlsCert: tls.cert,
        tlsKey: tls.key,
        dataDir,
        commandTimeoutMs: 1500,
      },
      { logger: cap.logger },
    );
    secrets.push(cloud.identity.adminToken);
    api = adminApi(cloud.httpUrl, cloud.identity.adminToken);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await cloud?.close();
  });

  it('requires auth by default and keeps the admin token and registry in 0600 files', async () => {
    const token = (await readFile(path.join(dataDir, 'identity', 'admin-token'), 'utf8')).trim();
    expect(token).toBe(cloud.identity.adminToken);
    expect((await stat(path.join(dataDir, 'identity', 'admin-token'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dataDir, 'identity'))).mode & 0o777).toBe(0o700);
    await expect(connect(cloud.mqttUrl, { clientId: 'anon-1' })).rejects.toThrow(/Not authorized|Bad username/i);
  });

  it('admin endpoints want the admin bearer token', async () => {
    expect((await api.post('/api/v1/claims', {}, null)).status).toBe(401);
    expect((await api.post('/api/v1/claims', {}, 'wrong-token-wrong-token')).status).toBe(401);
    expect((await api.get('/api/v1/devices/registry', null)).status).toBe(401);
    expect((await api.del('/api/v1/devices/x/credentials', null)).status).toBe(401);
    const bad = await api.post('/api/v1/claims', { deviceId: 'has a space' });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].param).toBe('deviceId');
  });

  it('claim → provision → connect, publish and store; the token is single-use', async () => {
    const c = await api.post('/api/v1/claims', { deviceId: 'cam-a', outletId: 'out-a', fixtureId: 'fix-a' });
    expect(c.body).toMatchObject({ deviceId: 'cam-a', outletId: 'out-a', fixtureId: 'fix-a' });
    expect(c.body.claimToken).toMatch(/^ssc_/);
    secrets.push(c.body.claimToken);
    const p = await api.post('/api/v1/provision', { claimToken: c.body.claimToken }, null);
    expect(p.status).toBe(201);
    expect(p.body).toMatchObject({ deviceId: 'cam-a', username: 'cam-a', outletId: 'out-a', fixtureId: 'fix-a' });
    expect(p.body.mqttUrl).toBe(cloud.mqttsUrl); // TLS is on, so devices are sent there
    secrets.push(p.body.password);

    const replay = await api.post('/api/v1/provision', { claimToken: c.body.claimToken }, null);
    expect(replay).toMatchObject({ status: 409, body: { code: 'already_used' } });
    const unknown = await api.post('/api/v1/provision', { claimToken: 'ssc_nope', deviceId: 'cam-a' }, null);
    expect(unknown).toMatchObject({ status: 401, body: { code: 'invalid_token' } });

    const dev = await device(p.body as Creds);
    const obs = makeObservation({ deviceId: 'cam-a', fixtureId: 'fix-a' });
    await dev.publishAsync(topics.observations('cam-a'), JSON.stringify(obs), { qos: 1 });
    const stored = await fetch(`${cloud.httpUrl}/api/v1/observations?deviceId=cam-a`).then((r) => r.json());
    expect(stored.items.map((i: { messageId: string }) => i.messageId)).toEqual([obs.messageId]);

    const reg = await api.get('/api/v1/devices/registry');
    expect(reg.body.items).toContainEqual(expect.objectContaining({ deviceId: 'cam-a', state: 'active' }));
    expect(JSON.stringify(reg.body)).not.toContain('$7$');
    expect((await stat(path.join(dataDir, 'identity', 'devices.json'))).mode & 0o777).toBe(0o600);
  });

  it('a free claim needs a device id and cannot take over a provisioned device', async () => {
    const free = await api.post('/api/v1/claims', {});
    secrets.push(free.body.claimToken);
    expect((await api.post('/api/v1/provision', { claimToken: free.body.claimToken }, null)).status).toBe(400);
    const takeover = await api.post('/api/v1/provision', { claimToken: free.body.claimToken, deviceId: 'cam-a' }, null);
    expect(takeover).toMatchObject({ status: 409, body: { code: 'device_taken' } });
    const bound = await api.post('/api/v1/claims', { deviceId: 'cam-x' });
    secrets.push(bound.body.claimToken);
    const other = await api.post('/api/v1/provision', { claimToken: bound.body.claimToken, deviceId: 'cam-y' }, null);
    expect(other).toMatchObject({ status: 409, body: { code: 'device_mismatch' } });
    // The free claim was not burnt by the refusals: it still provisions a new device.
    const ok = await api.post('/api/v1/provision', { claimToken: free.body.claimToken, deviceId: 'cam-free' }, null);
    expect(ok.status).toBe(201);
    secrets.push(ok.body.password);
  });

  it('refuses a wrong password, a wrong client id, a missing password and an unknown device', async () => {
    const b = await provision('cam-b');
    await expect(connect(cloud.mqttUrl, { clientId: 'cam-b', username: 'cam-b', password: 'guess' })).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(
      connect(cloud.mqttUrl, { clientId: 'cam-other', username: 'cam-b', password: b.password }),
    ).rejects.toThrow(/Bad username or password/i);
    await expect(connect(cloud.mqttUrl, { clientId: 'cam-b', username: 'cam-b' })).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(
      connect(cloud.mqttUrl, { clientId: 'cam-nobody', username: 'cam-nobody', password: b.password }),
    ).rejects.toThrow(/Bad username or password/i);
    // The internal prefix stays reserved for the cloud's own clients.
    await expect(
      connect(cloud.mqttUrl, { clientId: 'shelfsight-cloud-x', username: 'shelfsight-cloud-x', password: b.password }),
    ).rejects.toThrow();
    (await device(b)).end(true);
  });

  it('confines a device to its own topics: no cross-device publish, no wildcard or foreign subscriptions', async () => {
    const v = await provision('cam-victim');
    const r = await provision('cam-rogue');
    const victim = await device(v);
    await victim.subscribeAsync(topics.commands('cam-victim'), { qos: 1 });
    const rogue = await device(r);
    const seen: string[] = [];
    rogue.on('message', (t) => seen.push(t));

    // Wildcards and other devices' topics are refused in the SUBACK (0x80); its own inbox is granted.
    const wanted = [
      'shelfsight/v1/devices/#',
      'shelfsight/v1/devices/+/commands',
      topics.config('cam-victim'),
      topics.commands('cam-victim'),
      '#',
      topics.commands('cam-rogue'),
    ];
    const codes = Object.fromEntries(await Promise.all(wanted.map(async (t) => [t, await subackCode(rogue, t)])));
    expect(codes).toEqual({
      'shelfsight/v1/devices/#': 128,
      'shelfsight/v1/devices/+/commands': 128,
      [topics.config('cam-victim')]: 128,
      [topics.commands('cam-victim')]: 128,
      '#': 128,
      [topics.commands('cam-rogue')]: 1,
    });

    // Traffic to and from the victim: a command through the cloud, its status and an observation.
    const victimGot: string[] = [];
    victim.on('message', (t, p) => {
      victimGot.push(t);
      const cmd = JSON.parse(p.toString()) as { id: string };
      void victim.publishAsync(
        topics.replies('cam-victim'),
        JSON.stringify({ commandId: cmd.id, deviceId: 'cam-victim', ok: true, at: new Date().toISOString() }),
        { qos: 1 },
      );
    });
    const cmd = await api.post('/api/v1/devices/cam-victim/commands', { name: 'restart' }, null);
    expect(cmd.status).toBe(200);
    await victim.publishAsync(
      topics.status('cam-victim'),
      JSON.stringify({ deviceId: 'cam-victim', state: 'online', at: new Date().toISOString() }),
      { qos: 1, retain: true },
    );
    await victim.publishAsync(
      topics.observations('cam-victim'),
      JSON.stringify(makeObservation({ deviceId: 'cam-victim' })),
      {
        qos: 1,
      },
    );
    await sleep(200);
    expect(victimGot).toEqual([topics.commands('cam-victim')]);
    expect(seen).toEqual([]);
    expect(rogue.connected).toBe(true); // a refused subscription is not a reason to disconnect

    // Publishing as the victim gets the rogue disconnected, and nothing is stored.
    const spoof = makeObservation({ deviceId: 'cam-victim', fixtureId: 'spoofed' });
    rogue.publish(topics.observations('cam-victim'), JSON.stringify(spoof), { qos: 1 });
    await closed(rogue);
    const stored = await fetch(`${cloud.httpUrl}/api/v1/observations?fixtureId=spoofed`).then((x) => x.json());
    expect(stored.items).toEqual([]);
  });

  it('refuses retained-message poisoning of another device (or its own config)', async () => {
    const t = await provision('cam-target');
    const a = await provision('cam-attacker');
    const attempts: [string, string][] = [
      [topics.status('cam-target'), JSON.stringify({ deviceId: 'cam-target', state: 'offline' })],
      [topics.config('cam-target'), JSON.stringify({ revision: 99, issuedAt: new Date().toISOString() })],
      [topics.config('cam-attacker'), JSON.stringify({ revision: 99, issuedAt: new Date().toISOString() })],
      [topics.observations('cam-attacker'), JSON.stringify(makeObservation({ deviceId: 'cam-attacker' }))],
    ];
    for (const [topic, payload] of attempts) {
      const attacker = await device(a);
      attacker.publish(topic, payload, { qos: 1, retain: true });
      await closed(attacker);
      attacker.end(true);
    }
    // The target connects fresh: no retained config waits for it.
    const target = await device(t);
    const got: string[] = [];
    target.on('message', (topic) => got.push(topic));
    await target.subscribeAsync([topics.config('cam-target'), topics.commands('cam-target')], { qos: 1 });
    await sleep(200);
    expect(got).toEqual([]);
    const devices = await fetch(`${cloud.httpUrl}/api/v1/devices`).then((x) => x.json());
    expect(devices.items.find((d: { deviceId: string }) => d.deviceId === 'cam-target')).toBeUndefined();
    // Its own status may be retained (the last will is too).
    await target.publishAsync(
      topics.status('cam-target'),
      JSON.stringify({ deviceId: 'cam-target', state: 'online', at: new Date().toISOString() }),
      { qos: 1, retain: true },
    );
    expect(target.connected).toBe(true);
  });

  it('revoking credentials disconnects the device and refuses it afterwards; a bound claim re-provisions', async () => {
    const creds = await provision('cam-revoke');
    const dev = await device(creds);
    const gone = closed(dev);
    const res = await api.del('/api/v1/devices/cam-revoke/credentials');
    expect(res).toMatchObject({ status: 200, body: { deviceId: 'cam-revoke', revoked: true, disconnected: true } });
    await gone;
    await expect(
      connect(cloud.mqttUrl, { clientId: 'cam-revoke', username: 'cam-revoke', password: creds.password }),
    ).rejects.toThrow(/Bad username or password/i);
    expect((await api.del('/api/v1/devices/cam-revoke/credentials')).status).toBe(404);
    const reg = await api.get('/api/v1/devices/registry');
    expect(reg.body.items).toContainEqual(expect.objectContaining({ deviceId: 'cam-revoke', state: 'revoked' }));

    const again = await provision('cam-revoke');
    expect(again.password).not.toBe(creds.password);
    (await device(again)).end(true);
  });

  it('serves mqtts with the configured certificate: connects with the CA, fails without it', async () => {
    const creds = await provision('cam-tls');
    const ca = await readFile(tls.cert);
    const ok = await connect(cloud.mqttsUrl!, {
      clientId: 'cam-tls',
      username: 'cam-tls',
      password: creds.password,
      ca,
    });
    await ok.publishAsync(topics.observations('cam-tls'), JSON.stringify(makeObservation({ deviceId: 'cam-tls' })), {
      qos: 1,
    });
    await ok.endAsync();
    await expect(
      connect(cloud.mqttsUrl!, { clientId: 'cam-tls', username: 'cam-tls', password: creds.password }),
    ).rejects.toThrow(/self[- ]signed|certificate/i);
    // Auth still applies over TLS.
    await expect(
      connect(cloud.mqttsUrl!, { clientId: 'cam-tls', username: 'cam-tls', password: 'wrong', ca }),
    ).rejects.toThrow(/Bad username or password/i);
  });

  it('never logs a password, claim token or the admin token', async () => {
    await sleep(100);
    const text = logs();
    expect(text).toContain('device credentials refused'); // the logs did capture the auth events
    expect(secrets.length).toBeGreaterThan(10);
    for (const s of secrets) expect(text).not.toContain(s);
    const registry = await readFile(path.join(dataDir, 'identity', 'devices.json'), 'utf8');
    for (const s of secrets.filter((x) => x !== cloud.identity.adminToken)) expect(registry).not.toContain(s);
  });
});
