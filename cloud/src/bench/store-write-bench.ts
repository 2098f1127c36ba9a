/**
 * Write throughput of the DuckDB adapter through the store port, at several numbers of writes in
 * flight (group commit only helps when writes overlap, as they do with many devices).
 *   node cloud/dist/bench/store-write-bench.js [--count 3000]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Observation } from '@shelfsight/protocol';
import { DuckDbStore } from '../store/index.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '3000' } } });
const count = Number(values.count);
if (!Number.isInteger(count) || count < 100) throw new Error('--count must be a whole number ≥ 100');

const observation = (i: number): Observation => ({
  messageId: randomUUID(),
  deviceId: `d${i % 50}`,
  outletId: `o${i % 50}`,
  fixtureId: `f${i % 50}`,
  capturedAt: new Date(Date.now() - i * 1000).toISOString(),
  seq: i,
  model: { name: 'bench', version: '1' },
  image: { width: 1280, height: 960, qualityFlags: [] },
  skus: Array.from({ length: 24 }, (_, k) => ({ sku: `sku-${k}`, count: k % 7, facings: k % 3 })),
  emptyFacings: 1,
  unknownProducts: 0,
  inferenceMs: 50,
});

const dir = mkdtempSync(path.join(tmpdir(), 'store-write-bench-'));
const store = await DuckDbStore.open({ path: path.join(dir, 'bench.duckdb') });
const results: Record<string, number> = {};
let n = 0;
for (const inFlight of [1, 8, 64]) {
  const total = inFlight === 1 ? Math.min(300, count) : count;
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        next++;
        await store.writeObservation(observation(n++), new Date());
      }
    }),
  );
  results[`inFlight${inFlight}ObsPerSec`] = Math.round(total / ((performance.now() - t0) / 1000));
}
await store.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    adapter: 'duckdb',
    skusPerObservation: 24,
    ...results,
    rssMb: Math.round(process.memoryUsage().rss / 1048576),
  }),
);
