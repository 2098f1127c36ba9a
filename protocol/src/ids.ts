import { z } from 'zod';

/**
 * Identifiers appear inside MQTT topic levels, so they must never contain `/`, `+`, `#` or
 * whitespace. A conservative slug keeps topics, ACL patterns and store tags unambiguous.
 */
export const SLUG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const slug = (what: string) =>
  z.string().regex(SLUG_PATTERN, {
    message: `${what} must be 1-64 characters of letters, digits, '_', '.' or '-', starting with a letter or digit`,
  });

export const DeviceId = slug('deviceId');
export const OutletId = slug('outletId');
export const FixtureId = slug('fixtureId');
export const SkuId = slug('sku');

/** Message ids make ingest idempotent: the cloud stores each id at most once. */
export const MessageId = z.uuid({ message: 'messageId must be a UUID' });

/** RFC 3339 timestamp with an explicit offset (Z or ±hh:mm). */
export const Timestamp = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with offset' });
