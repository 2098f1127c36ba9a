import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceRegistry, hashPassword, mosquittoConfig, randomSecret, writeMosquittoFiles } from '@shelfsight/cloud';
import { cloudSubscriptions, topics } from '@shelfsight/protocol';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/ports.js';
import { closed, connect, sleep } from './helpers.js';

/**
 * The generated config with explicit listeners: devices' listener with use_username_as_clientid
 * (a listener option, so it must follow the `listener` line to apply), and the internal service
 * listener without it, where one ingest worker holds several sessions under one user (D16).
 */
describe('generated Mosquitto config with a devices listener and a service listener', () => {
  let broker: Mosquitto;
  let devPort: number;
  let svcPort: number;
  let cam: { username: string; password: string };
  const svc = { username: 'shelfsight-ingest', password: randomSecret() };

  beforeAll(async () => {
    const registry = await DeviceRegistry.open({ file: null });
    const issued = await registry.issue('cam-lst-a');
    cam = { username: issued.username, password: issued.password };
    const dir = await mkdtemp(path.join(tmpdir(), 'mosq-listeners-'));
    const files = await writeMosquittoFiles(registry, dir, [
      { username: svc.username, passwordHash: await hashPassword(svc.password) },
    ]);
    devPort = await freePort();
    svcPort = await freePort();
    const asRoot = process.getuid?.() === 0 ? 'user root\n' : '';
    broker = await startMosquitto({
      allowAnonymous: false,
      config:
        asRoot +
        mosquittoConfig({
          ...files,
          port: devPort,
          host: '127.0.0.1',
          service: { port: svcPort, host: '127.0.0.1' },
        }),
    });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('puts use_username_as_clientid after each devices listener only', () => {
    const conf = mosquittoConfig({ passwordFile: 'p', aclFile: 'a', port: 1, service: { port: 2 } }).split('\n');
    expect(conf.indexOf('use_username_as_clientid true')).toBe(conf.indexOf('listener 1') + 1);
    expect(conf.filter((l) => l.startsWith('use_username_as_clientid'))).toHaveLength(1);
    expect(conf.at(-2)).toBe('listener 2');
    expect(() => mosquittoConfig({ passwordFile: 'p', aclFile: 'a', service: { port: 2 } })).toThrow(/port or tls/);
  });

  it('replaces a device client id by its username on the devices listener', async () => {
    const url = `mqtt://127.0.0.1:${devPort}`;
    const first = await connect(url, { clientId: 'whatever-1', ...cam });
    const gone = closed(first);
    // Another id, same user: the broker makes it `cam-lst-a` again, so it takes over the first session.
    const second = await connect(url, { clientId: 'whatever-2', ...cam });
    await gone;
    await second.endAsync();
  });

  it('lets one service user hold several sessions in a shared subscription on the service listener', async () => {
    const url = `mqtt://127.0.0.1:${svcPort}`;
    const sessions = await Promise.all(
      ['a', 'b'].map((k) =>
        connect(url, {
          clientId: `shelfsight-ingest-t-${k}`,
          ...svc,
          protocolVersion: 5,
          clean: false,
          properties: { sessionExpiryInterval: 60 },
        }),
      ),
    );
    const got = [0, 0];
    for (const [i, s] of sessions.entries()) {
      s.on('message', () => got[i]!++);
      const granted = await s.subscribeAsync(`$share/ingest/${cloudSubscriptions.observations}`, { qos: 1 });
      expect(granted[0]?.qos).toBe(1);
    }
    const dev = await connect(`mqtt://127.0.0.1:${devPort}`, { clientId: cam.username, ...cam });
    for (let i = 0; i < 10; i++) await dev.publishAsync(topics.observations(cam.username), `{"n":${i}}`, { qos: 1 });
    await sleep(500);
    expect(sessions.every((s) => s.connected)).toBe(true);
    expect(got[0]! + got[1]!).toBe(10);
    expect(Math.min(...got)).toBeGreaterThan(0);
    await dev.endAsync();
    await Promise.all(sessions.map((s) => s.endAsync()));
  });
});
