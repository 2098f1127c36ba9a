import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

/** Debian's `influxdb` package (1.6.x) puts the server here; override with SHELFSIGHT_INFLUXD. */
export const INFLUXD = process.env.SHELFSIGHT_INFLUXD ?? '/usr/bin/influxd';

export const influxdAvailable = (): boolean => existsSync(INFLUXD);

/**
 * Locally a missing influxd skips the Influx tests; under CI=true that would hide a regression,
 * so the caller turns it into a failure with this message.
 */
export const MISSING_INFLUXD = `${INFLUXD} not found: install the Debian package \`influxdb\` (apt-get install -y influxdb); .ci/run installs it`;

export interface Influxd {
  url: string;
  /** Creates an empty database with a unique name and returns the name. */
  createDatabase(prefix?: string): Promise<string>;
  /** SIGKILLs the server, keeping its directories and ports (an outage; `restart` ends it). */
  kill(): Promise<void>;
  /** Starts the server again on the same data directory and ports, and waits for /ping. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a hung server that still holds its connections open. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

const configToml = (root: string, httpPort: number, rpcPort: number): string =>
  `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${root}/meta"
  logging-enabled = false

[data]
  dir = "${root}/data"
  wal-dir = "${root}/wal"
  wal-fsync-delay = "0s"
  index-version = "inmem"
  query-log-enabled = false
  trace-logging-enabled = false

[coordinator]
  log-queries-after = "0s"

[retention]
  enabled = false

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  max-row-limit = 0
  flux-enabled = false

[logging]
  level = "warn"

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false
`;

const ping = async (url: string): Promise<boolean> => {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    return res.status === 204;
  } catch {
    return false;
  }
};

/**
 * Starts a throwaway influxd: generated config, temp dirs for meta/data/wal, random loopback ports for
 * both the HTTP API and the RPC (backup) service, no reporting, retention, CQs, monitor store or
 * subscribers. Waits for /ping. `stop()` kills it and removes the directory.
 */
export const startInfluxd = async (timeoutMs = 20_000): Promise<Influxd> => {
  if (!influxdAvailable()) throw new Error(MISSING_INFLUXD);
  const root = await mkdtemp(path.join(tmpdir(), 'shelfsight-influxd-'));
  // freePort() closes the probe socket before influxd binds, so another process could win the race;
  // one retry with fresh ports covers it.
  for (let attempt = 0; ; attempt++) {
    const httpPort = await freePort();
    let rpcPort = await freePort();
    while (rpcPort === httpPort) rpcPort = await freePort();
    const conf = path.join(root, 'influxdb.conf');
    await writeFile(conf, configToml(root, httpPort, rpcPort));
    const url = `http://127.0.0.1:${httpPort}`;
    let log = '';
    const launch = async (): Promise<{ child: ChildProcess; up: boolean }> => {
      const c: ChildProcess = spawn(INFLUXD, ['run', '-config', conf], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, INFLUXDB_REPORTING_DISABLED: 'true' },
      });
      const keep = (d: Buffer) => (log = (log + d.toString()).slice(-4000));
      c.stdout?.on('data', keep);
      c.stderr?.on('data', keep);
      const deadline = Date.now() + timeoutMs;
      let ok = false;
      while (Date.now() < deadline && c.exitCode === null) {
        if ((ok = await ping(url))) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      return { child: c, up: ok };
    };
    let { child, up } = await launch();
    if (!up) {
      child.kill('SIGKILL');
      if (attempt === 0 && /address already in use/.test(log)) continue;
      await rm(root, { recursive: true, force: true });
      throw new Error(`influxd did not answer /ping at ${url} within ${timeoutMs} ms\n${log}`);
    }
    let n = 0;
    return {
      url,
      createDatabase: async (prefix = 'shelfsight_test') => {
        const name = `${prefix}_${process.pid}_${n++}`;
        const res = await fetch(`${url}/query`, {
          method: 'POST',
          body: new URLSearchParams({ q: `CREATE DATABASE "${name}"` }),
        });
        const text = await res.text();
        if (!res.ok || text.includes('"error"')) throw new Error(`CREATE DATABASE ${name} failed: ${text}`);
        return name;
      },
      kill: async () => {
        if (child.exitCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await exited;
      },
      restart: async () => {
        ({ child, up } = await launch());
        if (!up) {
          child.kill('SIGKILL');
          throw new Error(`influxd did not come back at ${url} within ${timeoutMs} ms\n${log}`);
        }
      },
      pause: () => void child.kill('SIGSTOP'),
      resume: () => void child.kill('SIGCONT'),
      stop: async () => {
        if (child.exitCode === null) {
          child.kill('SIGCONT');
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        await rm(root, { recursive: true, force: true });
      },
    };
  }
};
