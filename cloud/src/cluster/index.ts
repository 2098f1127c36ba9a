import { createAdapter } from '@socket.io/redis-adapter';
import { Emitter } from '@socket.io/redis-emitter';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Server as IoServer } from 'socket.io';
import { z } from 'zod';
import { formatIssues } from '@shelfsight/protocol';
import type { AlertAct, AlertEngine } from '../analytics/service.js';
import type { Ingest } from '../ingest/index.js';
import type { FixtureSummary } from '../store/index.js';

/**
 * Several cloud processes (and ingest workers) as one deployment (docs/decisions.md D21).
 *
 * Observations reach the cluster through an MQTT shared subscription, so each is stored by one
 * process only. Alerts need every capture of a fixture, live push needs every event, and the
 * analytics caches need every new row, so whoever stored an observation relays its summary to
 * the other cloud processes over Redis (socket.io's server-side emit), and they apply it as if
 * they had stored it. Device status, replies, OTA states and door events are subscribed to by
 * every process directly. Acknowledging or resolving an alert is relayed the same way. Each
 * process then pushes every event to its own browsers only (live/index.ts uses `io.local`).
 */

/** Names of the inter-process events; a version suffix keeps mixed-version clusters apart. */
const OBSERVATION = 'shelfsight:observation:v1';
const ALERT_ACT = 'shelfsight:alert-act:v1';

// Peers are our own processes, but Redis is a boundary like any other: check what comes in.
const SkuTally = z.object({ sku: z.string(), count: z.number(), facings: z.number() });
const PeerObservation = z.object({
  messageId: z.string().min(1),
  outletId: z.string().min(1),
  fixtureId: z.string().min(1),
  deviceId: z.string().min(1),
  capturedAt: z.iso.datetime({ offset: true }),
  receivedAt: z.iso.datetime({ offset: true }),
  skus: z.array(SkuTally),
  emptyFacings: z.number(),
  unknownProducts: z.number(),
  model: z.looseObject({}),
  qualityFlags: z.array(z.string()),
});
const PeerAlertAct = z.object({
  id: z.string().min(1),
  action: z.enum(['acknowledge', 'resolve']),
  by: z.string(),
  at: z.iso.datetime({ offset: true }),
});

const connectRedis = async (url: string, logger: Logger, name: string): Promise<Redis> => {
  // lazyConnect: the first connect() rejects on a wrong URL or a Redis that is down, so a
  // misconfigured process fails at start with a clear error instead of retrying silently.
  const client = new Redis(url, { lazyConnect: true, connectionName: name, maxRetriesPerRequest: null });
  client.on('error', (err: Error) => logger.warn({ err: err.message, redis: name }, 'redis error'));
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw new Error(`cannot reach Redis at ${url}: ${(err as Error).message}`);
  }
  return client;
};

export interface ClusterLink {
  close(): Promise<void>;
}

/**
 * Joins a cloud process to the cluster: socket.io's Redis adapter (rooms, session disconnects
 * and server-side emits across processes), observations relayed both ways, alert acts replicated.
 */
export const joinCluster = async (opts: {
  redisUrl: string;
  io: IoServer;
  ingest: Ingest;
  alerts: AlertEngine;
  logger: Logger;
}): Promise<ClusterLink> => {
  const { io, ingest, alerts, logger } = opts;
  const pub = await connectRedis(opts.redisUrl, logger, 'shelfsight-cloud-pub');
  const sub = pub.duplicate({ connectionName: 'shelfsight-cloud-sub' });
  sub.on('error', (err: Error) => logger.warn({ err: err.message, redis: 'sub' }, 'redis error'));
  io.adapter(createAdapter(pub, sub));

  let relaying = false;
  const onStored = (s: FixtureSummary) => {
    if (!relaying) io.serverSideEmit(OBSERVATION, s);
  };
  const onAct = (a: AlertAct) => io.serverSideEmit(ALERT_ACT, a);
  ingest.on('observation', onStored);
  alerts.on('act', onAct);

  const refuse = (kind: string, issues: z.core.$ZodIssue[]) =>
    logger.warn({ kind, problem: formatIssues(issues) }, 'refused a malformed message from a cluster peer');
  io.on(OBSERVATION, (raw: unknown) => {
    const p = PeerObservation.safeParse(raw);
    if (!p.success) return refuse(OBSERVATION, p.error.issues);
    relaying = true;
    try {
      ingest.relay(p.data as unknown as FixtureSummary);
    } finally {
      relaying = false;
    }
  });
  io.on(ALERT_ACT, (raw: unknown) => {
    const p = PeerAlertAct.safeParse(raw);
    if (!p.success) return refuse(ALERT_ACT, p.error.issues);
    alerts.act(p.data.id, p.data.action, p.data.by, new Date(p.data.at), true);
  });
  logger.info({ redis: redact(opts.redisUrl) }, 'joined the cluster');
  return {
    close: async () => {
      ingest.off('observation', onStored);
      alerts.off('act', onAct);
      sub.disconnect();
      pub.disconnect();
    },
  };
};

/**
 * For an ingest worker (no socket.io server of its own): relays each observation it stored to
 * every cloud process of the cluster.
 */
export const clusterRelay = async (
  redisUrl: string,
  logger: Logger,
): Promise<{ observation(s: FixtureSummary): void; close(): Promise<void> }> => {
  const client = await connectRedis(redisUrl, logger, 'shelfsight-ingest-worker');
  const emitter = new Emitter(client);
  logger.info({ redis: redact(redisUrl) }, 'relaying stored observations to the cluster');
  return {
    observation: (s) => emitter.serverSideEmit(OBSERVATION, s),
    close: async () => {
      await client.quit().catch(() => client.disconnect());
    },
  };
};

/** The URL without its password, for logs. */
const redact = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
