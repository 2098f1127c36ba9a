/**
 * Throwaway Mosquitto and influxd servers for the scale-out benchmark (Debian packages; the tests
 * have their own helpers in tests/helpers). Loopback only, temp dirs, killed on stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface BenchServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

const until = async (ok: () => Promise<boolean>, child: ChildProcess, what: string, log: () => string) => {
  const deadline = Date.now() + 20_000;
  while (!(await ok())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not come up\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
};

const stopper = (child: ChildProcess, dir: string) => async () => {
  if (child.exitCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
  await rm(dir, { recursive: true, force: true });
};

const spawnLogged = (bin: string, args: string[]) => {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, log: () => log };
};

export const startMosquittoServer = async (extraConfig: string[] = []): Promise<BenchServer> => {
  const bin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
  if (!bin) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', ...extraConfig].join(
      '\n',
    ),
  );
  const { child, log } = spawnLogged(bin, ['-c', conf]);
  await until(
    () =>
      new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      }),
    child,
    'mosquitto',
    log,
  );
  return { url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, stop: stopper(child, dir) };
};

export const startInfluxdServer = async (): Promise<BenchServer> => {
  const bin = process.env.SHELFSIGHT_INFLUXD ?? '/usr/bin/influxd';
  if (!existsSync(bin)) throw new Error(`${bin} not found (apt-get install influxdb)`);
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-influxd-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'influxdb.conf');
  await writeFile(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
  logging-enabled = false
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  wal-fsync-delay = "0s"
  index-version = "inmem"
  query-log-enabled = false
[retention]
  enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  max-row-limit = 0
[logging]
  level = "warn"
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
`,
  );
  const { child, log } = spawnLogged(bin, ['run', '-config', conf]);
  const url = `http://127.0.0.1:${httpPort}`;
  await until(
    async () => {
      try {
        return (await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) })).status === 204;
      } catch {
        return false;
      }
    },
    child,
    'influxd',
    log,
  );
  return { url, pid: child.pid!, stop: stopper(child, dir) };
};

/** utime + stime of a process in ms, from /proc (Linux). */
export const cpuMsOf = async (pid: number): Promise<number> => {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is state (field 3); utime and stime are fields 14 and 15, in clock ticks (100/s on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
