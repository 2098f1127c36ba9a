import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../../helpers/processes.js';

const evalCli = (args: string[]) =>
  spawnSync(process.execPath, [repoPath('edge-agent/dist/eval/main.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });

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

  it('prints one JSON object for a COCO set', () => {
    const r = evalCli(['--json', '--dataset', repoPath('tests/fixtures/recognition'), '--limit', '2']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { images: number; skuAccuracy: number; latencyMs: { p50: number } };
    expect(out.images).toBe(2);
    expect(out.skuAccuracy).toBeGreaterThan(0.5);
    expect(out.latencyMs.p50).toBeGreaterThan(0);
  });
});
