import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoPath = (rel: string): string => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

export interface Proc {
  child: ChildProcess;
  /** Every stdout line so far (pino JSON for our CLIs). */
  lines: string[];
  exited: Promise<number | null>;
  /** The last 4 kB of stderr. */
  stderr(): string;
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
}

/** Runs one of our built CLIs to its end with logs silenced, for checks on its exit code, stdout and stderr. */
export const runNodeSync = (script: string, args: string[]) =>
  spawnSync(process.execPath, [repoPath(script), ...args], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });

/** Runs one of our built CLIs as a real process, collecting its stdout lines. `env` adds to ours. */
export const runNode = (script: string, args: string[], env: Record<string, string> = {}): Proc => {
  const child = spawn(process.execPath, [repoPath(script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (buf) lines.push(buf);
      if (code !== 0 && code !== null && stderr) console.error(`${script} exited ${code}: ${stderr}`);
      resolve(code);
    }),
  );
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
};

/** pino JSON lines with the given msg. */
export const logEntries = <T = Record<string, unknown>>(lines: string[], msg: string): T[] =>
  lines.flatMap((l) => {
    try {
      const j = JSON.parse(l) as { msg?: string };
      return j.msg === msg ? [j as T] : [];
    } catch {
      return [];
    }
  });

export const waitUntil = async (cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** SIGTERM, resolved once the process has exited (at once if it already has). */
export const terminate = (child: ChildProcess): Promise<void> =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
