/** Largest payload the cloud accepts on any topic; larger ones are rejected as `oversized`. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Bounds that keep one observation's storage and rendering cost predictable. */
export const MAX_SKUS_PER_OBSERVATION = 500;
export const MAX_DETECTIONS_PER_OBSERVATION = 1000;
export const MAX_COUNT_PER_SKU = 10_000;
/**
 * How far an observation's capturedAt may lie ahead of the cloud's receive time. Further ahead, the
 * device clock is wrong and the observation is rejected as `clock_skew` (docs/decisions.md D20).
 */
export const MAX_FUTURE_SKEW_MS = 10 * 60_000;
