import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FixtureKind, Planogram } from '../fixtures/types.js';
import type { Difficulty } from '../perturb/params.js';
import { log } from '../util/log.js';
import { hashString } from '../util/rng.js';
import type { CoolerSim } from './cooler.js';
import { SimulatedCamera } from './simulated-camera.js';

export interface CameraSpec {
  id: string;
  outletId: string;
  fixtureId: string;
  fixture?: FixtureKind;
  planogram?: Planogram;
  difficulty?: Difficulty;
}

export interface CameraInfo {
  id: string;
  outletId: string;
  fixtureId: string;
  fixture: FixtureKind;
  snapshotUrl: string;
  truthUrl: string;
  /** Server-sent events from the cooler's door sensor: {state: open|closed, at, durationS}. */
  doorEventsUrl: string;
}

export interface VirtualCameraOptions {
  port: number;
  host?: string;
  /** A count (ids cooler-01…) or explicit cameras. */
  cameras: number | CameraSpec[];
  seed: number;
  /** Mean packs sold per simulated hour per cooler (default 40). */
  salesPerHour?: number;
  /** Simulated seconds per real second (default 60: a real minute is a shop hour). */
  speed?: number;
  /** Restock when fewer than this fraction of positions hold product (default 0.35). */
  restockBelow?: number;
  /** Image degradation for all cameras without their own (default 'default'). */
  difficulty?: Difficulty;
  /** How many served frames per camera keep their truth for /truth.json (default 64). */
  truthHistory?: number;
}

export interface VirtualCameras {
  url: string;
  cameras: CameraInfo[];
  /** The simulated coolers, for tests and the demo (e.g. force a restock). */
  sims: Map<string, CoolerSim>;
  close(): Promise<void>;
}

interface Camera {
  spec: CameraSpec;
  info: CameraInfo;
  cam: SimulatedCamera;
}

const pad = (n: number) => String(n).padStart(2, '0');

function sendJson(res: ServerResponse, status: number, body: unknown) {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(data),
  });
  res.end(data);
}

/**
 * HTTP cameras over simulated coolers. Frames show the stock at request time; truth for a served
 * frame is fetched separately, so a recogniser under test never sees it by accident.
 */
export async function startVirtualCameras(o: VirtualCameraOptions): Promise<VirtualCameras> {
  const host = o.host ?? '127.0.0.1';
  const speed = o.speed ?? 60;
  const history = o.truthHistory ?? 64;
  const specs: CameraSpec[] =
    typeof o.cameras === 'number'
      ? Array.from({ length: o.cameras }, (_, i) => ({
          id: `cooler-${pad(i + 1)}`,
          outletId: `outlet-${pad(i + 1)}`,
          fixtureId: `cooler-${pad(i + 1)}`,
        }))
      : o.cameras;

  const cameras = new Map<string, Camera>();
  const doorClients = new Map<string, Set<ServerResponse>>();
  const doorTimers = new Set<NodeJS.Timeout>();
  const sendDoor = (id: string, event: Record<string, unknown>) => {
    for (const res of doorClients.get(id) ?? []) res.write(`data: ${JSON.stringify(event)}\n\n`);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err, url: req.url }, 'camera request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'render failed' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`;

  specs.forEach((spec, i) => {
    const fixture = spec.fixture ?? 'upright';
    const seed = hashString(`camera|${o.seed}|${spec.id}|${i}`);
    const cam = new SimulatedCamera({
      id: spec.id,
      seed,
      fixture,
      ...(spec.planogram ? { planogram: spec.planogram } : {}),
      difficulty: spec.difficulty ?? o.difficulty ?? 'default',
      salesPerHour: o.salesPerHour ?? 40,
      restockBelow: o.restockBelow ?? 0.35,
      truthHistory: history,
    });
    const id = encodeURIComponent(spec.id);
    // Doors open for each sale and restock; simulated durations play back scaled by the clock speed.
    cam.sim.onDoor = (d) => {
      sendDoor(spec.id, { state: 'open', at: new Date().toISOString(), reason: d.reason });
      const t = setTimeout(
        () => {
          doorTimers.delete(t);
          sendDoor(spec.id, {
            state: 'closed',
            at: new Date().toISOString(),
            durationS: Math.round(d.durationS * 10) / 10,
          });
        },
        (d.durationS / Math.max(speed, 1e-9)) * 1000,
      );
      doorTimers.add(t);
    };
    cameras.set(spec.id, {
      spec,
      cam,
      info: {
        id: spec.id,
        outletId: spec.outletId,
        fixtureId: spec.fixtureId,
        fixture,
        snapshotUrl: `${url}/cameras/${id}/snapshot.jpg`,
        truthUrl: `${url}/cameras/${id}/truth.json`,
        doorEventsUrl: `${url}/cameras/${id}/door-events`,
      },
    });
  });

  // Sales happen on a clock, not per request, so counts change whether or not anyone is looking.
  const tickMs = 1000;
  const timer = setInterval(() => {
    for (const c of cameras.values()) c.cam.sim.advance((tickMs / 1000) * speed);
  }, tickMs);
  timer.unref();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const u = new URL(req.url ?? '/', url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' });
    if (u.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    if (u.pathname === '/cameras' || u.pathname === '/cameras/') {
      return sendJson(
        res,
        200,
        [...cameras.values()].map((c) => c.info),
      );
    }
    const m = /^\/cameras\/([^/]+)\/(snapshot\.jpg|truth\.json|planogram\.json|state\.json|door-events)$/.exec(
      u.pathname,
    );
    if (!m) return sendJson(res, 404, { error: 'not found', path: u.pathname });
    const id = decodeURIComponent(m[1]!);
    const cam = cameras.get(id);
    if (!cam) return sendJson(res, 404, { error: 'unknown camera', id });
    switch (m[2]) {
      case 'snapshot.jpg': {
        const { frame, jpeg } = await cam.cam.render();
        res.writeHead(200, {
          'content-type': 'image/jpeg',
          'content-length': jpeg.length,
          'cache-control': 'no-store',
          'x-frame-id': String(frame),
          'x-sim-time-s': String(Math.round(cam.cam.sim.simTimeS)),
        });
        res.end(req.method === 'HEAD' ? undefined : jpeg);
        return;
      }
      case 'truth.json': {
        const q = u.searchParams.get('frame');
        const frame = q === null ? cam.cam.lastFrame : Number(q);
        const truth = cam.cam.truth(frame);
        if (!truth) return sendJson(res, 404, { error: 'unknown or expired frame', id, frame: q });
        return sendJson(res, 200, { cameraId: id, frame, ...truth });
      }
      case 'door-events': {
        // Server-sent events: the cooler's door sensor, as a real fixture controller would stream it.
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write(': door events\n\n');
        const set = doorClients.get(id) ?? new Set<ServerResponse>();
        doorClients.set(id, set);
        set.add(res);
        req.on('close', () => set.delete(res));
        return;
      }
      case 'planogram.json':
        return sendJson(res, 200, cam.cam.sim.planogram);
      default:
        return sendJson(res, 200, {
          simTimeS: cam.cam.sim.simTimeS,
          sold: cam.cam.sim.sold,
          restocks: cam.cam.sim.restocks,
          filled: cam.cam.sim.filled(),
          capacity: cam.cam.sim.capacity(),
        });
    }
  }

  return {
    url,
    cameras: [...cameras.values()].map((c) => c.info),
    sims: new Map([...cameras].map(([k, c]) => [k, c.cam.sim])),
    close: () =>
      new Promise<void>((resolve, reject) => {
        clearInterval(timer);
        doorTimers.forEach(clearTimeout);
        for (const set of doorClients.values()) for (const res of set) res.end();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
