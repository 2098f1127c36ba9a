export { OtaService, type OtaServiceOptions, type StoredArtifact } from './service.js';
export { createOtaRouters } from './router.js';
export { buildRelease, generateReleaseKey, type ReleaseOptions } from './release.js';
