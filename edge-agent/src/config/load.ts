import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatIssues } from '@shelfsight/protocol';
import { AgentConfig } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads and validates an agent config file. Relative paths inside it are resolved against the
 * file's folder, so a config and its model folder can be moved together.
 */
export const loadAgentConfig = async (file: string): Promise<AgentConfig> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseAgentConfig(json, file);
};

export const parseAgentConfig = (json: unknown, source = 'config'): AgentConfig => {
  const parsed = AgentConfig.safeParse(json);
  if (!parsed.success) throw new ConfigError(`invalid ${source}: ${formatIssues(parsed.error.issues)}`);
  const base = source.endsWith('.json') ? path.dirname(path.resolve(source)) : process.cwd();
  const cfg = parsed.data;
  return {
    ...cfg,
    modelDir: path.resolve(base, cfg.modelDir),
    dataDir: path.resolve(base, cfg.dataDir),
    ota: { ...cfg.ota, publicKeyFiles: cfg.ota.publicKeyFiles.map((f) => path.resolve(base, f)) },
    camera: cfg.camera.kind === 'folder' ? { ...cfg.camera, dir: path.resolve(base, cfg.camera.dir) } : cfg.camera,
    ...(cfg.logFile ? { logFile: { ...cfg.logFile, file: path.resolve(base, cfg.logFile.file) } } : {}),
  };
};
