import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudOptions } from '../config.js';
import { DuckDbStore } from './duckdb/index.js';
import { InfluxStore } from './influx/index.js';
import type { TimeSeriesStore } from './port.js';

/** Picks the adapter from configuration alone (`--store duckdb|influx`); both pass the same conformance suite. */
export const openStore = async (opts: CloudOptions): Promise<TimeSeriesStore> => {
  if (opts.store === 'influx') {
    if (opts.influxUrl === undefined) throw new Error('--influx-url is required with --store influx');
    return InfluxStore.open({
      url: opts.influxUrl,
      database: opts.influxDb,
      ...(opts.influxToken !== undefined ? { token: opts.influxToken } : {}),
      ...(opts.influxOrg !== undefined && opts.influxBucket !== undefined
        ? { org: opts.influxOrg, bucket: opts.influxBucket }
        : // 1.x: the database is ours to create (idempotent); 2.x/3.x buckets are provisioned.
          { createDatabase: true }),
    });
  }
  return DuckDbStore.open({ path: duckDbPath(opts.dataDir) });
};

const duckDbPath = (dataDir: string): string => {
  if (dataDir === ':memory:') return ':memory:';
  mkdirSync(dataDir, { recursive: true });
  return join(dataDir, 'shelfsight.duckdb');
};
