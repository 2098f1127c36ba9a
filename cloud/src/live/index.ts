import type { Server as HttpServer } from 'node:http';
import { Server as IoServer } from 'socket.io';
import type { Ingest } from '../ingest/index.js';

/** Live push to dashboards. Events carry the same shapes as the REST resources they update. */
export const attachLive = (http: HttpServer, ingest: Ingest): IoServer => {
  const io = new IoServer(http, { serveClient: false, cors: { origin: false } });
  ingest.on('observation', (summary) => io.emit('observation', summary));
  ingest.on('device-status', (status) => io.emit('device-status', status));
  ingest.on('ota-state', (state) => io.emit('ota-state', state));
  ingest.on('door-event', (event) => io.emit('door-event', event));
  return io;
};
