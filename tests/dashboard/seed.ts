import type { RunningCloud } from '@shelfsight/cloud';
import { runMarket, type MarketRun } from '../../simulators/src/market/index.js';

/** Monday (UTC date) `weeksBack` weeks before this week's Monday. */
export const mondayWeeksAgo = (weeksBack: number, now = new Date()): string => {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const dow = (d.getUTCDay() + 6) % 7;
  return new Date(d.getTime() - (dow + 7 * weeksBack) * 86_400_000).toISOString().slice(0, 10);
};

/**
 * A simulated market whose history ends now: `weeks` simulated weeks, the last one this week, with
 * whatever lies after the present dropped. (Ending at last Sunday left the dashboard's default 7-day
 * window empty on Sunday evenings.) Master data is imported through the API (admin token),
 * observations written through the store port (the bulk path; no MQTT).
 */
export const seedMarket = async (
  cloud: RunningCloud,
  opts: { outlets: number; weeks: number; seed?: number },
): Promise<MarketRun> => {
  const run = runMarket({
    seed: opts.seed ?? 7,
    outlets: opts.outlets,
    weeks: opts.weeks,
    startDate: mondayWeeksAgo(opts.weeks - 1),
  });
  const now = Date.now();
  run.observations = run.observations.filter((o) => Date.parse(o.capturedAt) <= now);
  const res = await fetch(`${cloud.httpUrl}/api/v1/masterdata/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cloud.identity.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(run.world.master),
  });
  if (!res.ok) throw new Error(`master data import: HTTP ${res.status} ${await res.text()}`);
  const received = new Date();
  for (const o of run.observations) await cloud.store.writeObservation(o, received);
  return run;
};

/**
 * Makes `brand` the tenant of every ambient shelf (explicit fixture brand in master data); the
 * branded coolers stay the own brand's. Re-imports the current document (promotions included).
 * Returns the outlets the brand now sees.
 */
export const giveShelvesTo = async (cloud: RunningCloud, brand: string): Promise<Set<string>> => {
  const headers = { authorization: `Bearer ${cloud.identity.adminToken}`, 'content-type': 'application/json' };
  const current = (await (await fetch(`${cloud.httpUrl}/api/v1/masterdata`, { headers })).json()) as {
    counts?: unknown;
    fixtures: { kind: string; outletId: string; brand?: string }[];
  };
  delete current.counts;
  current.fixtures = current.fixtures.map((f) => (f.kind === 'shelf' ? { ...f, brand } : f));
  const res = await fetch(`${cloud.httpUrl}/api/v1/masterdata/import`, {
    method: 'POST',
    headers,
    body: JSON.stringify(current),
  });
  if (!res.ok) throw new Error(`master data import: HTTP ${res.status} ${await res.text()}`);
  return new Set(current.fixtures.filter((f) => f.brand === brand).map((f) => f.outletId));
};
