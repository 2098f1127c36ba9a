import mqtt, { type MqttClient } from 'mqtt';
import { startCloud, type RunningCloud, type CloudOptionsInput } from '@shelfsight/cloud';

export const startTestCloud = (over: CloudOptionsInput = {}): Promise<RunningCloud> =>
  startCloud({ httpPort: 0, mqttPort: 0, dataDir: ':memory:', logLevel: 'silent', commandTimeoutMs: 1500, ...over });

const issued = new WeakMap<RunningCloud, Map<string, string>>();

/** Connects as a device with its own provisioned credentials (issued once per cloud and device id). */
export const connectDevice = async (cloud: RunningCloud, clientId: string): Promise<MqttClient> => {
  const byId = issued.get(cloud) ?? new Map<string, string>();
  issued.set(cloud, byId);
  let password = byId.get(clientId);
  if (password === undefined) {
    password = (await cloud.identity.registry.issue(clientId)).password;
    byId.set(clientId, password);
  }
  return mqtt.connectAsync(cloud.mqttUrl, {
    clientId,
    username: clientId,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
};

/** Polls until `check` returns a truthy value (or throws on timeout with the last value seen). */
export const waitFor = async <T>(
  check: () => T | Promise<T>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<NonNullable<T>> => {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(last)}`);
};

// Loosely typed on purpose: tests assert on shapes with toMatchObject.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const getJson = async (cloud: RunningCloud, path: string): Promise<{ status: number; body: any }> => {
  const res = await fetch(cloud.httpUrl + path);
  return { status: res.status, body: await res.json() };
};
