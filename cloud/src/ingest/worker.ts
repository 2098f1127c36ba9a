import type { Logger } from 'pino';
import { cloudSubscriptions } from '@shelfsight/protocol';
import type { FixtureSummary, TimeSeriesStore } from '../store/index.js';
import { Ingest, type IngestStatsSnapshot } from './index.js';

export interface IngestWorkerOptions {
  /** External broker (Mosquitto, EMQX, …) that supports MQTT v5 shared subscriptions. */
  brokerUrl: string;
  /**
   * Stable identity of this worker, e.g. `1` or the pod ordinal. Its sessions are named after it,
   * so a restarted worker resumes them and gets the messages the broker kept for it (see docs/decisions.md D16).
   */
  workerId: string;
  /** Shared-subscription group; every worker of one deployment uses the same. Default 'ingest'. */
  group?: string;
  /** MQTT sessions (connections) this worker opens in the group; each stores one message at a time. */
  sessions?: number;
  store: TimeSeriesStore;
  logger: Logger;
  username?: string;
  password?: string;
  /** How long the broker keeps a disconnected session (and its messages). Default 7 days. */
  sessionExpirySeconds?: number;
  /** Topic filters; default the observations of every device. */
  topics?: string[];
  /** Called with each observation this worker stored (the cluster relay, D21). */
  onStored?: (summary: FixtureSummary) => void;
}

export interface RunningIngestWorker {
  clientIds: string[];
  stats(): IngestStatsSnapshot;
  /** Stops taking messages, finishes (and acks) in-flight writes, disconnects. Leaves the store open. */
  close(): Promise<void>;
  /**
   * Retires this worker id for good: unsubscribes, stores what the broker had queued for its
   * sessions, then ends them so the broker stops handing this id a share. Leaves the store open.
   */
  leave(): Promise<void>;
}

export const WORKER_ID = /^[A-Za-z0-9_-]{1,40}$/;

/**
 * Ingest without the embedded broker: devices publish to an external broker, and N workers consume
 * `$share/<group>/shelfsight/v1/devices/+/observations`, so the broker hands each observation to
 * one session of one worker. Every session is persistent (MQTT v5, clean start off, session expiry)
 * and acknowledges a message only after the store write finished, so a killed worker loses nothing:
 * the broker keeps its unacknowledged and queued messages and resends them when the worker (same
 * `workerId`) reconnects. Redeliveries are harmless because the store is idempotent by messageId.
 *
 * mqtt.js hands a connection's messages over one at a time (the PUBACK of one before the next), so
 * a worker opens several sessions; the store groups their concurrent writes into one batch.
 */
export const startIngestWorker = async (opts: IngestWorkerOptions): Promise<RunningIngestWorker> => {
  if (!WORKER_ID.test(opts.workerId)) throw new Error('workerId must be 1-40 of letters, digits, _ and -');
  const sessions = opts.sessions ?? 64;
  if (!Number.isInteger(sessions) || sessions < 1 || sessions > 1000)
    throw new Error('sessions must be a whole number 1-1000');
  const group = opts.group ?? 'ingest';
  const clientIds = Array.from({ length: sessions }, (_, k) => `shelfsight-ingest-${opts.workerId}-${k}`);
  const ingests = clientIds.map(
    (clientId) =>
      new Ingest({
        brokerUrl: opts.brokerUrl,
        clientId,
        store: opts.store,
        logger: opts.logger.child({ session: clientId }),
        sharedGroup: group,
        topics: opts.topics ?? [cloudSubscriptions.observations],
        protocolVersion: 5,
        ...(opts.sessionExpirySeconds !== undefined ? { sessionExpirySeconds: opts.sessionExpirySeconds } : {}),
        ...(opts.password !== undefined ? { password: opts.password } : {}),
        ...(opts.username !== undefined ? { username: opts.username } : {}),
      }),
  );
  if (opts.onStored) for (const i of ingests) i.on('observation', opts.onStored);
  const started = await Promise.allSettled(ingests.map((i) => i.start()));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(ingests.map((i) => i.close()));
    throw failed.reason;
  }
  opts.logger.info({ workerId: opts.workerId, group, sessions }, 'ingest worker started');
  return {
    clientIds,
    stats: () => sumStats(ingests.map((i) => i.statsSnapshot())),
    close: async () => {
      await Promise.all(ingests.map((i) => i.close()));
    },
    leave: async () => {
      await Promise.all(ingests.map((i) => i.leave()));
    },
  };
};

export const sumStats = (all: IngestStatsSnapshot[]): IngestStatsSnapshot => {
  const out: IngestStatsSnapshot = {
    accepted: 0,
    duplicates: 0,
    rejected: {},
    storeErrors: 0,
    statusUpdates: 0,
    replies: 0,
  };
  for (const s of all) {
    out.accepted += s.accepted;
    out.duplicates += s.duplicates;
    out.storeErrors += s.storeErrors;
    out.statusUpdates += s.statusUpdates;
    out.replies += s.replies;
    for (const [reason, n] of Object.entries(s.rejected) as [keyof IngestStatsSnapshot['rejected'], number][])
      out.rejected[reason] = (out.rejected[reason] ?? 0) + n;
  }
  return out;
};
