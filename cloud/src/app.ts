import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import express from 'express';
import { pino, type Logger } from 'pino';
import { createApiRouter, errorHandler, notFound } from './api/index.js';
import { cloudSubscriptions } from '@shelfsight/protocol';
import {
  INTERNAL_CLIENT_PREFIX,
  externalBroker,
  startBroker,
  type BrokerStats,
  type RunningBroker,
} from './broker/index.js';
import { CommandService } from './commands/index.js';
import { CloudOptions, type CloudOptionsInput } from './config.js';
import { dashboardRouter } from './http/static.js';
import { requireAdmin, startIdentity, type DeviceRegistry } from './identity/index.js';
import { Ingest, type IngestStatsSnapshot } from './ingest/index.js';
import { attachLive } from './live/index.js';
import { joinCluster } from './cluster/index.js';
import { createMetrics } from './metrics/index.js';
import { OtaService, createOtaRouters } from './ota/index.js';
import { CatalogService, createCatalogRouter } from './catalog/index.js';
import { startAnalytics } from './analytics/index.js';
import { openStore } from './store/factory.js';
import { TenantDirectory, startUsers, type UserStore } from './users/index.js';
import type { TimeSeriesStore } from './store/index.js';

/** Largest model artifact the cloud accepts for OTA distribution. */
const OTA_MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;

export interface RunningCloud {
  httpUrl: string;
  mqttUrl: string;
  httpPort: number;
  mqttPort: number;
  /** Set when the mqtts listener runs. */
  mqttsUrl?: string;
  mqttsPort?: number;
  /** Device registry and the admin bearer token (programmatic access; never logged). */
  identity: { registry: DeviceRegistry; adminToken: string };
  store: TimeSeriesStore;
  /** The HTTP app (tests enumerate its routes to check every one is tenant-scoped). */
  app: express.Express;
  /** Dashboard users; `initialAdminPassword` is set when this start created the admin (printed once). */
  users: { store: UserStore; initialAdminPassword: string | null };
  stats(): IngestStatsSnapshot;
  brokerStats(): BrokerStats;
  logger: Logger;
  /** Graceful: stop accepting, finish in-flight writes, close the store. Idempotent. */
  close(): Promise<void>;
}

export interface StartCloudExtras {
  /** Defaults to a pino logger at `logLevel`. */
  logger?: Logger;
  /** Inject a store (e.g. another adapter); it is closed with the cloud. */
  store?: TimeSeriesStore;
  /**
   * Refuse unauthenticated reads of the data API and anonymous live sockets. Default here: env
   * SHELFSIGHT_REQUIRE_LOGIN=1, else open reads (tests, embedding); the cloud binary (main.ts)
   * requires log-in unless SHELFSIGHT_REQUIRE_LOGIN=0. Open reads are unscoped: tenant scoping
   * applies to signed-in brand managers.
   */
  requireLogin?: boolean;
  /** Where the generated admin password is printed once; default console.log. */
  print?: (line: string) => void;
}

/** Wires broker → ingest → store → API/live. Ports 0 pick free ports; the chosen ones are returned. */
export const startCloud = async (
  input: CloudOptionsInput = {},
  extras: StartCloudExtras = {},
): Promise<RunningCloud> => {
  const opts = CloudOptions.parse(input);
  const logger = extras.logger ?? pino({ level: opts.logLevel, name: 'shelfsight-cloud' });
  const cleanups: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of cleanups.splice(0).reverse())
      await c().catch((err: unknown) => logger.error({ err }, 'close step failed'));
  };

  try {
    const store = extras.store ?? (await openStore(opts));
    cleanups.push(() => store.close());

    // A fresh secret per process: the embedded broker and its internal clients live together.
    const internalSecret = randomBytes(24).toString('base64url');
    // Device messages are ingested inside the broker's publish hook (see broker/auth.ts); until
    // ingest exists they are refused and the devices simply publish them again.
    const ingestRef: { current?: Ingest } = {};
    const identity = await startIdentity(opts, logger.child({ component: 'identity' }));
    const external = opts.mqttUrl !== undefined;
    const broker: RunningBroker = external
      ? externalBroker(opts.mqttUrl!)
      : await startBroker({
          ...(identity.verifyDevice ? { verifyDevice: identity.verifyDevice } : {}),
          ...(identity.tls ? { tls: identity.tls } : {}),
          host: opts.host,
          port: opts.mqttPort,
          maxPacketBytes: opts.maxPacketBytes,
          internalSecret,
          logger: logger.child({ component: 'broker' }),
          onDevicePublish: (topic, payload) =>
            ingestRef.current?.ingestDirect(topic, payload) ?? Promise.resolve('hold'),
        });
    cleanups.push(() => broker.close());
    if (external)
      logger.info(
        { mqttUrl: opts.mqttUrl, ingestGroup: opts.ingestGroup ?? null },
        'external broker: device authentication and ACLs are the broker’s (export them with identity/export-mosquitto)',
      );

    const metrics = createMetrics({ broker: () => broker.stats() });
    const ingest = new Ingest({
      brokerUrl: broker.url,
      clientId: `${INTERNAL_CLIENT_PREFIX}ingest`,
      store: metrics.instrument(store),
      logger: logger.child({ component: 'ingest' }),
      ...(external
        ? {
            // A subscriber on the external broker (D5): persistent v5 session, PUBACK after the write.
            protocolVersion: 5 as const,
            ...(opts.mqttPassword !== undefined
              ? { password: opts.mqttPassword, ...(opts.mqttUsername ? { username: opts.mqttUsername } : {}) }
              : {}),
            ...(opts.ingestGroup !== undefined
              ? { sharedGroup: opts.ingestGroup, sharedTopics: [cloudSubscriptions.observations] }
              : {}),
          }
        : { password: internalSecret, subscribe: false }),
    });
    ingestRef.current = ingest;
    metrics.watch(ingest);
    await ingest.start();
    cleanups.push(() => ingest.close());

    const analytics = startAnalytics({
      dataDir: opts.dataDir,
      store,
      ingest,
      logger: logger.child({ component: 'analytics' }),
    });
    cleanups.push(async () => analytics.close());
    const commands = new CommandService(ingest, opts.commandTimeoutMs);
    const ota = await OtaService.open({
      dir: opts.dataDir === ':memory:' ? await mkdtemp(join(tmpdir(), 'shelfsight-ota-')) : join(opts.dataDir, 'ota'),
      ingest,
      logger: logger.child({ component: 'ota' }),
      maxArtifactBytes: OTA_MAX_ARTIFACT_BYTES,
    });
    const otaRouters = createOtaRouters(ota, OTA_MAX_ARTIFACT_BYTES, requireAdmin(identity.adminToken));
    const catalog = await CatalogService.open({
      dataDir: opts.dataDir,
      modelDir: existsSync(join(opts.modelDir, 'model.json')) ? opts.modelDir : undefined,
      masterdata: analytics.masterdata,
      onMasterDataChanged: () => analytics.service.invalidate(),
      logger: logger.child({ component: 'catalog' }),
    });
    const requireLogin = extras.requireLogin ?? process.env.SHELFSIGHT_REQUIRE_LOGIN === '1';
    // Who owns which fixture, outlet, device and promotion (brand tenancy; users/tenant.ts).
    const tenants = new TenantDirectory(analytics.masterdata, store);
    ingest.on('observation', (s) => tenants.observe(s));
    await tenants.ready();
    const users = await startUsers({
      dataDir: opts.dataDir,
      adminToken: identity.adminToken,
      masterdata: analytics.masterdata,
      tenants,
      alerts: analytics.alerts,
      logger: logger.child({ component: 'users' }),
      requireLogin,
      ...(extras.print ? { print: extras.print } : {}),
    });
    const app = express();
    app.disable('x-powered-by');
    app.use('/api/v1', users.middleware);
    app.use('/api/v1', users.router);
    // Before the API router: its JSON parser caps bodies at 64 kB, and enrolment uploads images.
    app.use('/api/v1', createCatalogRouter(catalog));
    app.use(
      '/api/v1',
      createApiRouter({
        store,
        commands,
        stats: () => ingest.statsSnapshot(),
        health: () => ({ broker: broker.stats() }),
      }),
    );
    app.use('/api/v1', analytics.router);
    app.use('/api/v1', identity.router({ mqttUrl: broker.tlsUrl ?? broker.url, disconnect: broker.disconnect }));
    app.use('/api/v1', otaRouters.api);
    app.use('/api', notFound);
    app.use(otaRouters.files);
    app.use(metrics.router);
    app.use(dashboardRouter(opts.dashboardDir));
    app.use(notFound);
    app.use(errorHandler(logger.child({ component: 'api' })));

    const http = createHttpServer(app);
    // Live events, alerts included, go to per-brand rooms (live/index.ts).
    const io = attachLive(http, ingest, {
      principal: users.socketAuth,
      requireLogin,
      tenants,
      alerts: analytics.alerts,
      onSessionEnd: users.onSessionEnd,
    });
    if (opts.redisUrl !== undefined) {
      const link = await joinCluster({
        redisUrl: opts.redisUrl,
        io,
        ingest,
        alerts: analytics.alerts,
        logger: logger.child({ component: 'cluster' }),
      });
      cleanups.push(() => link.close());
    } else if (opts.ingestGroup !== undefined)
      logger.warn(
        { ingestGroup: opts.ingestGroup },
        'observations are shared with other processes but no --redis-url joins them: alerts, live push and caches here see only this process’s share (D21)',
      );
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(opts.httpPort, opts.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    cleanups.push(async () => {
      await io.close(); // also closes the HTTP server
      http.closeAllConnections();
    });
    const httpPort = (http.address() as AddressInfo).port;
    const urlHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    const httpUrl = `http://${urlHost}:${httpPort}`;
    logger.info(
      { httpUrl, mqttUrl: broker.url, mqttsUrl: broker.tlsUrl, dataDir: opts.dataDir },
      'shelfsight cloud started',
    );

    let closing: Promise<void> | null = null;
    return {
      httpUrl,
      mqttUrl: broker.url,
      httpPort,
      mqttPort: broker.port,
      ...(broker.tlsUrl !== undefined ? { mqttsUrl: broker.tlsUrl, mqttsPort: broker.tlsPort! } : {}),
      identity: { registry: identity.registry, adminToken: identity.adminToken },
      store,
      app,
      users: { store: users.users, initialAdminPassword: users.initialAdminPassword },
      logger,
      stats: () => ingest.statsSnapshot(),
      brokerStats: () => broker.stats(),
      close: () => (closing ??= closeAll().then(() => logger.info('shelfsight cloud stopped'))),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
};
