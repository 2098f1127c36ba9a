import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { createAuthHooks } from './auth.js';
import { FrameLimitedConnection } from './frame-limit.js';

export { INTERNAL_CLIENT_PREFIX, authorizeDevicePublish, isInternalClientId } from './auth.js';

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
}

export interface BrokerStats {
  connectedClients: number;
  packetsTooLarge: number;
}

export interface RunningBroker {
  url: string;
  port: number;
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

  const server: Server = createServer((socket) => {
    const conn = new FrameLimitedConnection(socket, opts.maxPacketBytes, (declared) => {
      packetsTooLarge++;
      log.warn(
        { remoteAddress: socket.remoteAddress, declaredBytes: declared, limit: opts.maxPacketBytes },
        'mqtt packet over the size limit; connection dropped',
      );
    });
    aedes.handle(conn);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  log.info({ host: opts.host, port, maxPacketBytes: opts.maxPacketBytes }, 'mqtt broker listening');

  return {
    url: `mqtt://${urlHost}:${port}`,
    port,
    stats: () => ({ connectedClients: aedes.connectedClients, packetsTooLarge }),
    close: async () => {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await serverClosed;
    },
  };
};
