export { DeviceRegistry, ProvisionError, writeAtomic } from './registry.js';
export type {
  DeviceRecord,
  ClaimRecord,
  IssuedClaim,
  IssuedCredentials,
  NewClaim,
  RegistryOptions,
} from './registry.js';
export { hashPassword, verifyPassword, randomSecret, DEFAULT_PBKDF2_ITERATIONS } from './secrets.js';
export { resolveAdminToken, requireAdmin, ADMIN_TOKEN_FILE } from './admin.js';
export { createIdentityRouter, type IdentityRouterDeps } from './router.js';
export { startIdentity, identityDir, type IdentityService } from './service.js';
export {
  mosquittoPasswordFile,
  mosquittoAclFile,
  mosquittoConfig,
  writeMosquittoFiles,
  type MosquittoServiceUser,
} from './mosquitto.js';
