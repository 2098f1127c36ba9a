import type { AgentConfig } from '../config/schema.js';
import { HttpSnapshotCamera } from './http-snapshot.js';
import type { CameraSource } from './source.js';

export * from './source.js';
export { HttpSnapshotCamera } from './http-snapshot.js';

export const createCamera = (cfg: AgentConfig['camera']): CameraSource => {
  switch (cfg.kind) {
    case 'http':
      return new HttpSnapshotCamera(cfg.url, cfg.timeoutMs);
  }
};
