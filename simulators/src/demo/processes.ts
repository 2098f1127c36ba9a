import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface Managed {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

/**
 * Starts a child in its own process group so that Ctrl-C reaches only the demo, which then stops
 * the parts in order (agents first, so they can say goodbye to the broker, then the cloud).
 */
export const startProcess = (
  name: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): Managed => {
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, logFile, exited };
};

export const stopProcess = async (p: Managed, graceMs = 10_000): Promise<void> => {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
};

export const tail = async (file: string, lines = 15): Promise<string> => {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
};
