import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { AgentConfig } from '../config/schema.js';
import { ModelStore } from './store.js';
import { parsePublicKey } from './verify.js';

export { applyUpdate, MODEL_FILES, type OtaHost } from './updater.js';
export { ModelStore } from './store.js';
export { verifyAnnouncement, parsePublicKey, OtaVerificationError } from './verify.js';
export { downloadFile, OtaDownloadError } from './download.js';

export const modelStoreFor = (config: AgentConfig): ModelStore => new ModelStore(path.join(config.dataDir, 'models'));

/** The folder to load models from: the last installed update if any, else the shipped one. */
export const resolveModelDir = async (config: AgentConfig): Promise<string> =>
  (await modelStoreFor(config).current()) ?? config.modelDir;

export const loadTrustedKeys = async (config: AgentConfig): Promise<KeyObject[]> => {
  const texts = [
    ...config.ota.publicKeys,
    ...(await Promise.all(config.ota.publicKeyFiles.map((f) => readFile(f, 'utf8')))),
  ];
  return texts.map((t, i) => {
    try {
      return parsePublicKey(t);
    } catch (err) {
      throw new Error(`ota public key ${i + 1}: ${(err as Error).message}`);
    }
  });
};
