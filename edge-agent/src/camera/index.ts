import type { AgentConfig } from '../config/schema.js';
import { FolderCamera } from './folder.js';
import { HttpSnapshotCamera } from './http-snapshot.js';
import { CameraError, type CameraSource } from './source.js';

export * from './source.js';
export { HttpSnapshotCamera } from './http-snapshot.js';
export { FolderCamera } from './folder.js';

// Resolved at run time only: a field device installs the agent without the simulators package.
const SIMULATORS_PACKAGE = '@shelfsight/simulators';

export const createCamera = async (cfg: AgentConfig['camera']): Promise<CameraSource> => {
  switch (cfg.kind) {
    case 'http':
      return new HttpSnapshotCamera(cfg.url, cfg.timeoutMs);
    case 'folder':
      return new FolderCamera(cfg.dir, cfg.maxAgeS);
    case 'simulator': {
      let mod: { SimulatedCamera: new (o: Record<string, unknown>) => CameraSource };
      try {
        mod = (await import(SIMULATORS_PACKAGE)) as typeof mod;
      } catch (err) {
        throw new CameraError(
          `camera.kind "simulator" needs the ${SIMULATORS_PACKAGE} package installed: ${(err as Error).message}`,
        );
      }
      const { kind: _kind, speed, ...rest } = cfg;
      return new mod.SimulatedCamera({ ...rest, selfClockSpeed: speed });
    }
  }
};
