import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';

/** A pino logger whose every line is kept, so tests can grep the logs for secrets. */
export const capturingLogger = (level = 'debug'): { logger: Logger; text: () => string } => {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { logger: pino({ level, name: 'shelfsight-cloud' }, stream), text: () => chunks.join('') };
};

/** A self-signed certificate for 127.0.0.1/localhost, made with Debian's openssl at test time. */
export const selfSignedCert = async (): Promise<{ dir: string; cert: string; key: string }> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=shelfsight-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { dir, cert, key };
};

export interface AdminApi {
  post(path: string, body: unknown, token?: string | null): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  get(path: string, token?: string | null): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  del(path: string, token?: string | null): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** REST calls with the admin bearer token (or another one, or none with null). */
export const adminApi = (httpUrl: string, adminToken: string): AdminApi => {
  const call = async (method: string, p: string, body: unknown, token: string | null | undefined) => {
    const t = token === undefined ? adminToken : token;
    const res = await fetch(httpUrl + p, {
      method,
      headers: {
        ...(t !== null ? { authorization: `Bearer ${t}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    post: (p, body, token) => call('POST', p, body, token),
    get: (p, token) => call('GET', p, undefined, token),
    del: (p, token) => call('DELETE', p, undefined, token),
  };
};

/** Resolves with the client, or rejects with the broker's refusal. No reconnects. */
export const connect = (url: string, opts: IClientOptions): Promise<MqttClient> =>
  mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when the client's connection closes (or rejects after timeoutMs). */
export const closed = (client: MqttClient, timeoutMs = 5000): Promise<void> =>
  new Promise((resolve, reject) => {
    if (!client.connected) return resolve();
    const t = setTimeout(() => reject(new Error('connection stayed open')), timeoutMs);
    client.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });

/** The SUBACK code for one subscription: the granted QoS, or 128 when the broker refused it. */
export const subackCode = (client: MqttClient, topic: string): Promise<number> =>
  new Promise((resolve) =>
    client.subscribe(topic, { qos: 1 }, (err, granted) => {
      if (err) return resolve((err as Error & { packet?: { granted?: number[] } }).packet?.granted?.[0] ?? -1);
      resolve(granted?.[0]?.qos ?? -1);
    }),
  );
