/** Largest payload the cloud accepts on any topic; larger ones are rejected as `oversized`. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Bounds that keep one observation's storage and rendering cost predictable. */
export const MAX_SKUS_PER_OBSERVATION = 500;
export const MAX_DETECTIONS_PER_OBSERVATION = 1000;
export const MAX_COUNT_PER_SKU = 10_000;
