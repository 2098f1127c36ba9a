/**
 * DuckDB schema, v1. Two shapes of the same data: `observations` keeps one row per capture (the
 * idempotency key lives here) and `sku_counts` one row per capture × SKU, the long/narrow form that
 * analytics (share of shelf, stockouts) aggregate over and that maps 1:1 onto InfluxDB points.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = [
  `CREATE TABLE IF NOT EXISTS schema_meta (version INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS observations (
     message_id       VARCHAR PRIMARY KEY,
     device_id        VARCHAR NOT NULL,
     outlet_id        VARCHAR NOT NULL,
     fixture_id       VARCHAR NOT NULL,
     captured_at      TIMESTAMPTZ NOT NULL,
     received_at      TIMESTAMPTZ NOT NULL,
     seq              BIGINT NOT NULL,
     model_name       VARCHAR NOT NULL,
     model_version    VARCHAR NOT NULL,
     gallery_name     VARCHAR,
     gallery_version  VARCHAR,
     image_width      INTEGER NOT NULL,
     image_height     INTEGER NOT NULL,
     brightness       DOUBLE,
     sharpness        DOUBLE,
     quality_flags    VARCHAR[] NOT NULL,
     empty_facings    INTEGER NOT NULL,
     unknown_products INTEGER NOT NULL,
     inference_ms     DOUBLE NOT NULL,
     detections       VARCHAR
   )`,
  `CREATE TABLE IF NOT EXISTS sku_counts (
     message_id  VARCHAR NOT NULL,
     captured_at TIMESTAMPTZ NOT NULL,
     outlet_id   VARCHAR NOT NULL,
     fixture_id  VARCHAR NOT NULL,
     device_id   VARCHAR NOT NULL,
     sku         VARCHAR NOT NULL,
     count       INTEGER NOT NULL,
     facings     INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS device_status (
     device_id     VARCHAR PRIMARY KEY,
     state         VARCHAR NOT NULL,
     reported_at   TIMESTAMPTZ,
     received_at   TIMESTAMPTZ NOT NULL,
     agent_version VARCHAR,
     model         VARCHAR,
     gallery       VARCHAR,
     health        VARCHAR
   )`,
];
