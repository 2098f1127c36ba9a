export * from './port.js';
export { DuckDbStore, type DuckDbStoreOptions } from './duckdb/index.js';
export { InvalidCursorError } from './cursor.js';
export { InfluxStore, InfluxQueryError, type InfluxStoreOptions } from './influx/index.js';
