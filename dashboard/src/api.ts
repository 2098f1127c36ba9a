import type { DeviceStatus, FixtureSummary } from './types.js';

const getJson = async <T>(path: string): Promise<T> => {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) {
    let detail = res.statusText;
    try {
      detail = ((await res.json()) as { error?: string }).error ?? detail;
    } catch {
      // not JSON; keep the status text
    }
    throw new Error(`${path}: HTTP ${res.status} ${detail}`);
  }
  return (await res.json()) as T;
};

export const fetchFixtures = async (): Promise<FixtureSummary[]> =>
  (await getJson<{ items: FixtureSummary[] }>('/api/v1/fixtures')).items;

export const fetchDevices = async (): Promise<DeviceStatus[]> =>
  (await getJson<{ items: DeviceStatus[] }>('/api/v1/devices')).items;
