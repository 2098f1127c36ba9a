#!/usr/bin/env node
import { mkdir, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { runMarket } from './run.js';

export const MARKET_USAGE = `usage: shelfsight-sim market --out DIR [--outlets 50] [--weeks 4] [--seed 1] [--no-promotions]
Writes DIR/masterdata.json (cloud master-data import), DIR/observations.jsonl (protocol Observations,
one per line, capture order) and DIR/truth.json (true sales, stockouts, restocks, promotion ROI).`;

const positiveInt = (name: string, raw: string | undefined, dflt: number): number => {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got '${raw}'`);
  return n;
};

/** `market …` subcommand; argv without the subcommand name. Returns the process exit code. */
export const marketCli = async (argv: string[]): Promise<number> => {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        outlets: { type: 'string' },
        weeks: { type: 'string' },
        seed: { type: 'string' },
        'no-promotions': { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${MARKET_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(MARKET_USAGE);
    return 0;
  }
  if (!values.out) {
    console.error(`--out is required\n${MARKET_USAGE}`);
    return 2;
  }
  let outlets: number, weeks: number, seed: number;
  try {
    outlets = positiveInt('outlets', values.outlets, 50);
    weeks = positiveInt('weeks', values.weeks, 4);
    seed = positiveInt('seed', values.seed, 1);
  } catch (err) {
    console.error(`${(err as Error).message}\n${MARKET_USAGE}`);
    return 2;
  }
  const t0 = Date.now();
  const run = runMarket({ outlets, weeks, seed, promotions: !values['no-promotions'] });
  await writeMarketRun(values.out, run);
  console.error(
    `market: ${outlets} outlets × ${weeks} weeks, seed ${seed}: ${run.observations.length} observations, ` +
      `${run.truth.stockouts.length} stockouts, ${run.truth.promotions.length} promotions in ${Date.now() - t0} ms → ${values.out}`,
  );
  return 0;
};

export const writeMarketRun = async (dir: string, run: ReturnType<typeof runMarket>): Promise<void> => {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'masterdata.json'), JSON.stringify(run.world.master, null, 1));
  await writeFile(path.join(dir, 'truth.json'), JSON.stringify(run.truth));
  const out = createWriteStream(path.join(dir, 'observations.jsonl'));
  for (const o of run.observations)
    if (!out.write(`${JSON.stringify(o)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  marketCli(args[0] === 'market' ? args.slice(1) : args).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
