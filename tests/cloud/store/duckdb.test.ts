import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDbStore } from '@shelfsight/cloud';
import { makeObservation } from '../helpers/observations.js';
import { describeStoreConformance } from './conformance.js';

describeStoreConformance('DuckDB (:memory:)', () => DuckDbStore.open({ path: ':memory:' }));

describe('DuckDbStore on a file', () => {
  it('keeps observations across reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shelfsight-duck-'));
    try {
      const path = join(dir, 'store.duckdb');
      const obs = makeObservation();
      const a = await DuckDbStore.open({ path });
      await a.writeObservation(obs, new Date());
      await a.close();
      const b = await DuckDbStore.open({ path });
      expect((await b.writeObservation(obs, new Date())).inserted).toBe(false);
      expect((await b.queryObservations({})).items.map((i) => i.messageId)).toEqual([obs.messageId]);
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
