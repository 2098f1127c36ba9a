/** Helpers shared by the ingest benchmarks: forked load generators (`load-client.ts`) and percentiles. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadCommand, LoadReply } from './load-client.js';

export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
export const round1 = (x: number): number => Math.round(x * 10) / 10;

/** L forked load generators; `ask` sends one command and waits for its reply. */
export const startLoaders = (count: number, window: number) => {
  const script = fileURLToPath(new URL('./load-client.js', import.meta.url));
  // execArgv: [] so that `node --cpu-prof bench` profiles the cloud only, not the clients too.
  const children: ChildProcess[] = Array.from({ length: count }, () =>
    fork(script, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  const ask = <R extends LoadReply>(child: ChildProcess, cmd: LoadCommand) =>
    new Promise<R>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`load generator exited (${code}) during ${cmd.cmd}`));
      child.once('exit', onExit);
      child.once('message', (reply: LoadReply) => {
        child.off('exit', onExit);
        if (reply.ok) resolve(reply as R);
        else reject(new Error(`load generator: ${reply.error}`));
      });
      child.send(cmd);
    });
  /** Splits `items` round-robin over the loaders. */
  const split = <T>(items: T[]) => children.map((_, l) => items.filter((__, i) => i % count === l));
  /** Publishes from every device (spread over the loaders); returns all latencies and the wall time. */
  const pumpAll = async (url: string, deviceIds: string[], per: number, payload: 'observation' | 'raw') => {
    const parts = split(deviceIds);
    const t0 = performance.now();
    const replies = await Promise.all(
      children.map((c, l) =>
        parts[l]!.length === 0
          ? Promise.resolve({ latenciesMs: [] as number[] })
          : ask<Extract<LoadReply, { cmd: 'pump' }>>(c, {
              cmd: 'pump',
              url,
              devices: parts[l]!,
              per,
              window,
              payload,
              seqBase: Date.now(),
            }),
      ),
    );
    return { latenciesMs: replies.flatMap((r) => r.latenciesMs), seconds: (performance.now() - t0) / 1000 };
  };
  return {
    children,
    ask,
    split,
    pumpAll,
    close: async () => {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.send({ cmd: 'exit' } satisfies LoadCommand);
            }),
        ),
      );
    },
  };
};
