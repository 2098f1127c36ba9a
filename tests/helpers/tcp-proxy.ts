import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that can black-hole traffic: connections stay open but nothing passes,
 * as when a shop's uplink dies without resetting anything. New connections hang too.
 */
export class TcpProxy {
  private server: Server;
  private sockets = new Set<Socket>();
  private blocked = false;
  port = 0;

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => undefined);
      if (this.blocked) return; // accepted, never answered
      const upstream = connect(this.targetPort, '127.0.0.1');
      this.sockets.add(upstream);
      upstream.on('close', () => (this.sockets.delete(upstream), client.destroy()));
      client.on('close', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('data', (d) => !this.blocked && upstream.write(d));
      upstream.on('data', (d) => !this.blocked && client.write(d));
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  block(): void {
    this.blocked = true;
  }

  /** Restores service; connections that lived through the outage are cut, as a NAT would forget them. */
  unblock(): void {
    this.blocked = false;
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
