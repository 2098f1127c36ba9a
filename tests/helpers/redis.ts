import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort, waitForPort } from './ports.js';
import { terminate } from './processes.js';

const BINARY = ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find((p) => existsSync(p));

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts Debian's redis-server on a free loopback port, in memory only. Fails loudly when the
 * package is missing: `.ci/run` installs it, and a skipped cluster test would hide a regression.
 */
export const startRedis = async (): Promise<RedisServer> => {
  if (!BINARY) throw new Error('redis-server is not installed (apt-get install redis-server); .ci/run installs it');
  const port = await freePort();
  const child = spawn(
    BINARY,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    await waitForPort(port, 5000, 'redis-server');
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => terminate(child),
  };
};
