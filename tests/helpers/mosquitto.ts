import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { terminate } from './processes.js';

const BINARY = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));

export interface Mosquitto {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  /** Lines appended to the generated config. */
  config?: string;
  /** Default true; false for configs that bring their own password_file / acl_file. */
  allowAnonymous?: boolean;
}

/**
 * Starts Debian's Mosquitto on a free loopback port with a throwaway config. Fails loudly when the
 * package is missing: `.ci/run` installs it, and a skipped broker test would hide a regression.
 */
export const startMosquitto = async (opts: string | MosquittoOptions = ''): Promise<Mosquitto> => {
  const { config: extraConfig = '', allowAnonymous = true } = typeof opts === 'string' ? { config: opts } : opts;
  if (!BINARY) throw new Error('mosquitto is not installed (apt-get install mosquitto); .ci/run installs it');
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      `allow_anonymous ${allowAnonymous}`,
      'persistence false',
      'log_dest stderr',
      extraConfig,
    ].join('\n'),
  );
  const child: ChildProcess = spawn(BINARY, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    await waitForPort(port, 5000, 'mosquitto');
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: () => terminate(child),
  };
};
