import { describe, expect, it } from 'vitest';
import { parseCli } from '@shelfsight/cloud';

describe('shelfsight-cloud CLI parsing', () => {
  it('uses documented defaults', () => {
    const r = parseCli([], {});
    expect(r).toMatchObject({
      kind: 'run',
      options: { host: '127.0.0.1', httpPort: 8080, mqttPort: 1883, dataDir: './data' },
    });
  });

  it('reads env, and flags win over env', () => {
    const env = { SHELFSIGHT_HTTP_PORT: '9000', SHELFSIGHT_MQTT_PORT: '1884', SHELFSIGHT_DATA_DIR: '/var/lib/ss' };
    expect(parseCli([], env)).toMatchObject({ options: { httpPort: 9000, mqttPort: 1884, dataDir: '/var/lib/ss' } });
    expect(parseCli(['--http-port', '0', '--host', '0.0.0.0'], env)).toMatchObject({
      options: { httpPort: 0, mqttPort: 1884, host: '0.0.0.0' },
    });
  });

  it.each([
    [['--http-port', 'abc'], /--http-port: must be a port number/],
    [['--mqtt-port', '70000'], /--mqtt-port: must be 0-65535/],
    [['--log-level', 'loud'], /--log-level/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--mqtt-url', 'http://broker'], /--mqtt-url: must be an mqtt/],
    [['--ingest-group', 'ingest'], /--ingest-group: needs an external broker/],
  ])('refuses %j with a clear message', (argv, message) => {
    const r = parseCli(argv, {});
    expect(r.kind).toBe('error');
    expect(r.kind === 'error' && r.message).toMatch(message);
  });

  it('takes an external broker with its credentials from env only, and an ingest group', () => {
    const env = { SHELFSIGHT_MQTT_USERNAME: 'shelfsight-cloud-ingest', SHELFSIGHT_MQTT_PASSWORD: 'pw' };
    expect(parseCli(['--mqtt-url', 'mqtt://10.0.0.5:1884', '--ingest-group', 'ingest'], env)).toMatchObject({
      kind: 'run',
      options: {
        mqttUrl: 'mqtt://10.0.0.5:1884',
        ingestGroup: 'ingest',
        mqttUsername: 'shelfsight-cloud-ingest',
        mqttPassword: 'pw',
      },
    });
    expect(parseCli(['--mqtt-password', 'pw'], {}).kind).toBe('error');
  });

  it('refuses a bad env value, naming the flag it maps to', () => {
    const r = parseCli([], { SHELFSIGHT_HTTP_PORT: '-1' });
    expect(r.kind === 'error' && r.message).toMatch(/--http-port/);
  });
});
