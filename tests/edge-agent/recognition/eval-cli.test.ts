import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath, runNodeSync } from '../../helpers/processes.js';

const evalCli = (args: string[]) => runNodeSync('edge-agent/dist/eval/main.js', args);

interface CocoInfo {
  info: { simulator?: string };
}

describe('npm run eval', () => {
  it.each([
    [['--count', 'ten'], '--count must be a whole number'],
    [['--score-threshold', '1.5'], '--score-threshold must be a number from 0 to 1'],
    [['--fixture', 'fridge'], '--fixture must be upright, chest, shelf or mixed'],
    [['--threads', '0'], '--threads must be >= 1'],
    [['--colour', 'red'], "Unknown option '--colour'"],
  ])('refuses %j with a one-line reason and exit code 2', (args, reason) => {
    const r = evalCli(args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`eval: ${reason}`);
    expect(r.stdout).toBe('');
  });

  it('names a models folder it cannot load in one line, with exit code 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'eval-models-'));
    try {
      const fixtures = repoPath('tests/fixtures/recognition');
      let r = evalCli(['--json', '--dataset', fixtures, '--models', dir]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim()).toMatch(new RegExp(`^eval: --models ${dir}: ENOENT.*model\\.json'?$`));
      // A model.json whose detector file is missing: the recognizer refuses it, and the CLI says so.
      const cfg = JSON.parse(await readFile(repoPath('models/model.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(dir, 'model.json'), JSON.stringify(cfg));
      r = evalCli(['--json', '--dataset', fixtures, '--models', dir]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^eval: --models .*: /);
      expect(r.stdout).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names what is wrong with a broken set, where, in one line with exit code 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'eval-set-'));
    try {
      const fixtures = repoPath('tests/fixtures/recognition');
      const refusal = async (edit: (coco: Record<string, unknown[]>) => void) => {
        const coco = JSON.parse(await readFile(join(fixtures, 'annotations.json'), 'utf8')) as Record<
          string,
          unknown[]
        >;
        edit(coco);
        await writeFile(join(dir, 'annotations.json'), JSON.stringify(coco));
        const r = evalCli(['--json', '--dataset', dir, '--limit', '1']);
        expect(r.status, r.stderr).toBe(2);
        expect(r.stdout).toBe('');
        const lines = r.stderr.trim().split('\n');
        return lines[lines.length - 1]!;
      };
      const file = join(dir, 'annotations.json');
      let r = evalCli(['--json', '--dataset', dir]);
      expect(r.stderr.trim()).toBe(`eval: ${file}: no such file (is this a dataset folder?)`);
      expect(await refusal((c) => ((c.annotations![2] as { bbox: number[] }).bbox = [1, 2, 3]))).toBe(
        `eval: ${file}: not a COCO set: annotations.2.bbox: Too small: expected array to have >=4 items`,
      );
      expect(await refusal((c) => ((c.annotations![4] as { image_id: number }).image_id = 9999))).toBe(
        `eval: ${file}: annotations.4.image_id: no image has id 9999`,
      );
      // The annotations are fine but an image is not there, then not a JPEG.
      const first = (await refusal(() => {})).match(/^eval: (.*): no such file/)?.[1];
      expect(first).toBe(join(dir, 'images', '000001.jpg'));
      await cp(join(fixtures, 'images'), join(dir, 'images'), { recursive: true });
      await writeFile(join(dir, 'images', '000001.jpg'), 'not a jpeg');
      r = evalCli(['--json', '--dataset', dir, '--limit', '1']);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(
        `eval: ${first}: cannot decode image: Input buffer contains unsupported image format`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints one JSON object for a COCO set', () => {
    const r = evalCli(['--json', '--dataset', repoPath('tests/fixtures/recognition'), '--limit', '2']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      images: number;
      skuAccuracy: number;
      latencyMs: { p50: number; mean: number };
      stagesMs: Record<string, { p50: number; mean: number }>;
      tallies: { skuAccuracy: [number, number] };
      ci95: { skuAccuracy: { lo: number; hi: number; hits: number; of: number } };
      byFixture: Record<string, { ci95: { skuAccuracy: { of: number } } }>;
      targets: { skuAccuracy?: { target: number; verdict: string } };
    };
    expect(out.images).toBe(2);
    expect(out.skuAccuracy).toBeGreaterThan(0.5);
    expect(out.latencyMs.p50).toBeGreaterThan(0);
    // Where the time goes: the stages' means add up to the latency's (each mean rounded to 0.01 ms).
    expect(Object.keys(out.stagesMs)).toEqual(['decode', 'detect', 'count', 'identify']);
    const stageSum = Object.values(out.stagesMs).reduce((t, v) => t + v.mean, 0);
    expect(Math.abs(stageSum - out.latencyMs.mean)).toBeLessThan(0.05);
    // Every rate comes with the counts behind it and its 95 % interval.
    const [hits, of] = out.tallies.skuAccuracy;
    expect(of).toBeGreaterThan(10);
    expect(out.skuAccuracy).toBeCloseTo(hits / of, 10);
    expect(out.ci95.skuAccuracy).toMatchObject({ hits, of });
    expect(out.ci95.skuAccuracy.lo).toBeLessThan(out.skuAccuracy);
    expect(out.ci95.skuAccuracy.hi).toBeGreaterThan(out.skuAccuracy);
    expect(Object.values(out.byFixture).reduce((n, g) => n + g.ci95.skuAccuracy.of, 0)).toBe(of);
    // The committed frames are all `default` difficulty: the 99.5 % SKU target applies.
    expect(out.targets.skuAccuracy?.target).toBe(0.995);
    expect(['met', 'missed', 'unsettled']).toContain(out.targets.skuAccuracy?.verdict);
  });

  it('prints a table a person can read without --json: each rate, its interval and its counts', () => {
    const r = evalCli(['--dataset', repoPath('tests/fixtures/recognition'), '--limit', '2']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^2 frames of .*tests\/fixtures\/recognition\nmodel shelfsight-cooler@/);
    const row = (label: string) => {
      const m = new RegExp(
        `^${label} +(\\d+\\.\\d) % +(\\d+\\.\\d)–(\\d+\\.\\d) % +(\\d+) / (\\d+)(?: {3}≥ .*)?$`,
        'm',
      ).exec(r.stdout);
      expect(m, `${label} row in:\n${r.stdout}`).not.toBeNull();
      const [rate, lo, hi, hits, of] = m!.slice(1).map(Number) as [number, number, number, number, number];
      expect(rate).toBeCloseTo((hits / of) * 100, 0);
      expect(lo).toBeLessThanOrEqual(rate);
      expect(hi).toBeGreaterThanOrEqual(rate);
      return of;
    };
    expect(row('SKU accuracy \\(a miss is an error\\)')).toBeGreaterThan(10);
    row('Count exact, per \\(frame, SKU\\)');
    row('Empty-slot recall');
    // The fixtures are one difficulty, so the targets are judged by the intervals.
    expect(r.stdout).toMatch(
      /^SKU accuracy \(a miss is an error\) .* ≥ 99\.5 %: (met|missed|not settled by this set)/m,
    );
    expect(r.stdout).toMatch(/^Latency p50 \/ p95 per frame +\d+\.\d \/ \d+\.\d ms$/m);
    expect(r.stdout).toMatch(
      /^ {2}mean per stage +decode \d+\.\d · detect \d+\.\d · count \d+\.\d · identify \d+\.\d ms$/m,
    );
    expect(r.stdout).toMatch(/^SKU errors, instances +missed \d+ · unknown \d+ · other SKU \d+$/m);
    expect(r.stdout).not.toMatch(/^\{/);
  });
});

describe('npm run eval: generated held-out sets', () => {
  let cache: string;
  beforeAll(async () => {
    cache = await mkdtemp(join(tmpdir(), 'eval-cache-'));
  });
  afterAll(() => rm(cache, { recursive: true, force: true }));

  it('records which simulator code made a set, and makes a stale set again', async () => {
    const run = () => evalCli(['--json', '--count', '2', '--seed', '31337', '--cache-dir', cache]);
    const annotations = join(cache, 'eval-default-s31337-n2', 'annotations.json');
    const madeBy = async () => (JSON.parse(await readFile(annotations, 'utf8')) as CocoInfo).info.simulator;

    const first = run();
    expect(first.status, first.stderr).toBe(0);
    const fingerprint = await madeBy();
    expect(fingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect((JSON.parse(first.stdout) as { images: number }).images).toBe(2);
    const written = (await stat(annotations)).mtimeMs;

    // Made by the same code: used as it is.
    const again = run();
    expect(again.status, again.stderr).toBe(0);
    expect((await stat(annotations)).mtimeMs).toBe(written);

    // As if the renderer had changed since: the set is made again, not measured stale.
    const coco = JSON.parse(await readFile(annotations, 'utf8')) as CocoInfo;
    await writeFile(annotations, JSON.stringify({ ...coco, info: { ...coco.info, simulator: 'older' } }));
    const stale = run();
    expect(stale.status, stale.stderr).toBe(0);
    expect(await madeBy()).toBe(fingerprint);

    // So is a set whose annotations were cut short by an interrupted generation.
    await writeFile(annotations, '{"info": {"simu');
    const cut = run();
    expect(cut.status, cut.stderr).toBe(0);
    expect(await madeBy()).toBe(fingerprint);
  });
});
