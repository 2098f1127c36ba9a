import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVirtualCameras, type VirtualCameras } from '@shelfsight/simulators';

let cams: VirtualCameras;

beforeAll(async () => {
  cams = await startVirtualCameras({ port: 0, cameras: 2, seed: 1, speed: 3600, salesPerHour: 60 });
});
afterAll(async () => {
  await cams.close();
});

describe('virtual cameras', () => {
  it('lists cameras with outlet and fixture ids', async () => {
    const res = await fetch(`${cams.url}/cameras`);
    expect(res.status).toBe(200);
    const list = (await res.json()) as { id: string; outletId: string; fixtureId: string; snapshotUrl: string }[];
    expect(list.map((c) => [c.id, c.outletId, c.fixtureId])).toEqual([
      ['cooler-01', 'outlet-01', 'cooler-01'],
      ['cooler-02', 'outlet-02', 'cooler-02'],
    ]);
    expect(list[0]!.snapshotUrl).toBe(`${cams.url}/cameras/cooler-01/snapshot.jpg`);
  });

  it('serves a decodable JPEG and the truth of that exact frame', async () => {
    const res = await fetch(cams.cameras[0]!.snapshotUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const frame = res.headers.get('x-frame-id');
    expect(frame).toMatch(/^\d+$/);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1280, 960]);
    const truth = (await (await fetch(`${cams.url}/cameras/cooler-01/truth.json?frame=${frame}`)).json()) as {
      frame: number;
      objects: unknown[];
    };
    expect(truth.frame).toBe(Number(frame));
    expect(truth.objects.length).toBeGreaterThan(0);
  });

  it('answers 404 JSON for unknown cameras and frames', async () => {
    const a = await fetch(`${cams.url}/cameras/nope/snapshot.jpg`);
    expect(a.status).toBe(404);
    expect(a.headers.get('content-type')).toMatch(/application\/json/);
    expect(await a.json()).toMatchObject({ error: 'unknown camera', id: 'nope' });
    const b = await fetch(`${cams.url}/cameras/cooler-01/truth.json?frame=99999`);
    expect(b.status).toBe(404);
  });

  it('sells stock over simulated time and restocks', () => {
    const sim = cams.sims.get('cooler-02')!;
    const before = sim.sold;
    sim.advance(24 * 3600);
    expect(sim.sold - before).toBeGreaterThan(500);
    expect(sim.restocks).toBeGreaterThan(0);
    expect(sim.filled()).toBeGreaterThan(0);
  });
});
