import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { createAuthHooks } from './auth.js';
import { FrameLimitedConnection } from './frame-limit.js';

export {
  INTERNAL_CLIENT_PREFIX,
  authorizeDevicePublish,
  authorizeDeviceSubscribe,
  isInternalClientId,
} from './auth.js';

export interface BrokerTlsOptions {
  /** 0 picks a free port. */
  port: number;
  /** PEM certificate chain and private key (contents, not paths). */
  cert: Buffer | string;
  key: Buffer | string;
}

export interface BrokerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * Transport limit on a whole MQTT packet. Set above the protocol's payload limit so that a
   * payload slightly too big still reaches ingest and is counted as `oversized`, while a huge one
   * is cut off at the socket.
   */
  maxPacketBytes: number;
  internalSecret: string;
  logger: Logger;
  /** Embedded ingest: see `AuthPolicyOptions.onDevicePublish`. */
  onDevicePublish?: (topic: string, payload: Buffer) => Promise<'ack' | 'hold'>;
  /** Device authentication and subscribe ACL: see `AuthPolicyOptions.verifyDevice`. Absent = auth off. */
  verifyDevice?: (deviceId: string, password: Buffer) => Promise<boolean>;
  /** An extra mqtts:// listener on the same host, with the same limits and policy. */
  tls?: BrokerTlsOptions;
}

export interface BrokerStats {
  connectedClients: number;
  packetsTooLarge: number;
}

export interface RunningBroker {
  url: string;
  port: number;
  /** Set when a TLS listener runs. */
  tlsUrl?: string;
  tlsPort?: number;
  /** Drops a client's connection (e.g. after its credentials were revoked); true if it was connected. */
  disconnect(clientId: string): boolean;
  stats(): BrokerStats;
  /** Stops accepting connections, disconnects clients, closes aedes. */
  close(): Promise<void>;
}

export const startBroker = async (opts: BrokerOptions): Promise<RunningBroker> => {
  const log = opts.logger;
  const aedes = await Aedes.createBroker({
    ...createAuthHooks({
      internalSecret: opts.internalSecret,
      logger: log,
      ...(opts.onDevicePublish ? { onDevicePublish: opts.onDevicePublish } : {}),
      ...(opts.verifyDevice ? { verifyDevice: opts.verifyDevice } : {}),
    }),
    // Device ids may be up to 64 chars; MQTT 3.1.0's 23-char default would refuse them.
    maxClientsIdLength: 64,
    drainTimeout: 30_000,
    connectTimeout: 10_000,
  });
  let packetsTooLarge = 0;
  aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
  aedes.on('connectionError', (client, err) =>
    log.debug({ clientId: client.id, err: err.message }, 'mqtt connection error'),
  );
  aedes.on('client', (client) => log.debug({ clientId: client.id }, 'mqtt client connected'));
  aedes.on('clientDisconnect', (client) => log.debug({ clientId: client.id }, 'mqtt client disconnected'));

  const handle = (socket: Socket) => {
    const conn = new FrameLimitedConnection(socket, opts.maxPacketBytes, (declared) => {
      packetsTooLarge++;
      log.warn(
        { remoteAddress: socket.remoteAddress, declaredBytes: declared, limit: opts.maxPacketBytes },
        'mqtt packet over the size limit; connection dropped',
      );
    });
    aedes.handle(conn);
  };
  const listen = (srv: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, opts.host, () => {
        srv.off('error', reject);
        resolve((srv.address() as AddressInfo).port);
      });
    });
  const closeServer = (srv: Server) => new Promise<void>((resolve) => srv.close(() => resolve()));

  const server: Server = createServer(handle);
  const port = await listen(server, opts.port);
  const urlHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  log.info(
    { host: opts.host, port, maxPacketBytes: opts.maxPacketBytes, deviceAuth: opts.verifyDevice !== undefined },
    'mqtt broker listening',
  );

  let tlsServer: Server | undefined;
  let tlsPort: number | undefined;
  if (opts.tls) {
    // The TLS socket is handed to the same frame limiter once the handshake is done.
    const srv = createTlsServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }, handle);
    srv.on('tlsClientError', (err, socket) =>
      log.debug({ remoteAddress: socket.remoteAddress, err: err.message }, 'mqtts handshake failed'),
    );
    try {
      tlsPort = await listen(srv, opts.tls.port);
    } catch (err) {
      await closeServer(server);
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw err;
    }
    tlsServer = srv;
    log.info({ host: opts.host, port: tlsPort }, 'mqtts (TLS) listener up');
  }

  return {
    url: `mqtt://${urlHost}:${port}`,
    port,
    ...(tlsPort !== undefined ? { tlsUrl: `mqtts://${urlHost}:${tlsPort}`, tlsPort } : {}),
    stats: () => ({ connectedClients: aedes.connectedClients, packetsTooLarge }),
    disconnect: (clientId) => {
      // `clients` is aedes' live map by client id (not in its type declarations).
      const client = (aedes as unknown as { clients: Record<string, { close(): void } | undefined> }).clients[clientId];
      if (!client) return false;
      log.info({ clientId }, 'disconnecting client');
      client.close();
      return true;
    },
    close: async () => {
      const serversClosed = Promise.all([server, ...(tlsServer ? [tlsServer] : [])].map(closeServer));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await serversClosed;
    },
  };
};

/**
 * Stands in for the embedded broker when devices use an external one (`--mqtt-url`): nothing to
 * start or close, no connection count to report, and no way to drop a device's connection from
 * here (revoke its credentials in the broker's password file instead).
 */
export const externalBroker = (url: string): RunningBroker => {
  const port = Number(new URL(url).port) || (url.startsWith('mqtts:') ? 8883 : 1883);
  return {
    url,
    port,
    stats: () => ({ connectedClients: 0, packetsTooLarge: 0 }),
    disconnect: () => false,
    close: async () => undefined,
  };
};
