import { copyFile, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { FolderCamera, HttpSnapshotCamera, createCamera, parseAgentConfig } from '@shelfsight/edge-agent';
import { startVirtualCameras } from '@shelfsight/simulators';
import { describeCameraConformance } from './camera-conformance.js';
import { repoPath } from '../helpers/processes.js';

let cameras: Awaited<ReturnType<typeof startVirtualCameras>>;
beforeAll(async () => {
  cameras = await startVirtualCameras({ port: 0, host: '127.0.0.1', cameras: 1, seed: 8 });
});
afterAll(async () => {
  await cameras?.close();
});

describeCameraConformance('http snapshot', {
  make: async () => new HttpSnapshotCamera(cameras.cameras[0]!.snapshotUrl, 5000),
  broken: async () => new HttpSnapshotCamera('http://127.0.0.1:9/snapshot.jpg', 1000),
});

const sample = repoPath('tests/fixtures/camera/sample.jpg');
let folder = '';
let drops = 0;
const drop = async () => {
  drops++;
  const file = path.join(folder, `img-${String(drops).padStart(4, '0')}.jpg`);
  await copyFile(sample, file);
  const t = new Date(Date.now() - 1000 + drops * 10);
  await utimes(file, t, t);
};
describeCameraConformance('watched folder', {
  make: async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'camfolder-'));
    await drop();
    return new FolderCamera(folder, 600);
  },
  advance: drop,
  broken: async () => {
    // The camera stopped uploading an hour ago.
    const dir = await mkdtemp(path.join(tmpdir(), 'camstale-'));
    const file = path.join(dir, 'old.jpg');
    await copyFile(sample, file);
    const old = new Date(Date.now() - 3600_000);
    await utimes(file, old, old);
    await writeFile(path.join(dir, 'notes.txt'), 'not an image');
    return new FolderCamera(dir, 600);
  },
});

const simConfig = (seed: number) =>
  parseAgentConfig({
    deviceId: 'cam-sim',
    outletId: 'o',
    fixtureId: 'f',
    mqtt: { url: 'mqtt://127.0.0.1:1' },
    camera: { kind: 'simulator', id: 'sim-1', seed },
    modelDir: '.',
    dataDir: '.',
  }).camera;
describeCameraConformance('in-process simulator', {
  make: () => createCamera(simConfig(4)),
  broken: async () => new FolderCamera('/nonexistent/camera', 600),
});
