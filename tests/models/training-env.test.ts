import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../helpers/processes.js';

// The training scripts read flag defaults from SHELFSIGHT_* variables through env_defaults.py, which
// needs no PyTorch: this runs it with the machine's python3 the way train.py uses it.
const script = `
import argparse, sys
sys.path.insert(0, ${JSON.stringify(repoPath('models/training'))})
from env_defaults import env_default, one_of, whole
ap = argparse.ArgumentParser(prog="train.py")
ap.add_argument("--emb-steps", type=whole(1), default=env_default(ap, "SHELFSIGHT_EMB_STEPS", 12000, whole(1)))
ap.add_argument("--extra", type=whole(0), default=env_default(ap, "SHELFSIGHT_EMB_EXTRA_BRANDS", 0, whole(0)))
ap.add_argument("--precision", choices=("auto", "bf16", "fp32"),
                default=env_default(ap, "SHELFSIGHT_TRAIN_PRECISION", "auto", one_of(("auto", "bf16", "fp32"))))
args = ap.parse_args()
print(args.emb_steps, args.extra, args.precision)
`;

const run = (env: Record<string, string>, args: string[] = []) => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SHELFSIGHT_')));
  return spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8', env: { ...clean, ...env } });
};

describe('training flag defaults from the environment', () => {
  it('uses the built-in default when the variable is unset or empty, and the value when it is a whole number', () => {
    expect(run({}).stdout.trim()).toBe('12000 0 auto');
    expect(run({ SHELFSIGHT_EMB_STEPS: '' }).stdout.trim()).toBe('12000 0 auto');
    expect(
      run({
        SHELFSIGHT_EMB_STEPS: '500',
        SHELFSIGHT_EMB_EXTRA_BRANDS: '0',
        SHELFSIGHT_TRAIN_PRECISION: 'fp32',
      }).stdout.trim(),
    ).toBe('500 0 fp32');
    // A flag still wins over the variable.
    expect(run({ SHELFSIGHT_EMB_STEPS: '500' }, ['--emb-steps', '7']).stdout.trim()).toBe('7 0 auto');
  });

  it('stops with one line naming the variable, its value and what is wrong, not a traceback', () => {
    const notNumber = run({ SHELFSIGHT_EMB_STEPS: '12k' });
    expect(notNumber.status).toBe(2);
    expect(notNumber.stdout).toBe('');
    expect(notNumber.stderr).toBe(
      "train.py: error: environment variable SHELFSIGHT_EMB_STEPS='12k': '12k' is not a whole number\n",
    );

    const tooSmall = run({ SHELFSIGHT_EMB_EXTRA_BRANDS: '-3' });
    expect(tooSmall.status).toBe(2);
    expect(tooSmall.stderr).toBe(
      "train.py: error: environment variable SHELFSIGHT_EMB_EXTRA_BRANDS='-3': -3 is less than 0, the least it may be\n",
    );

    const notAChoice = run({ SHELFSIGHT_TRAIN_PRECISION: 'fp16' });
    expect(notAChoice.status).toBe(2);
    expect(notAChoice.stderr).toBe(
      "train.py: error: environment variable SHELFSIGHT_TRAIN_PRECISION='fp16': must be one of auto, bf16, fp32\n",
    );
  });

  it('checks a flag the same way', () => {
    const bad = run({}, ['--emb-steps', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('argument --emb-steps: 0 is less than 1, the least it may be');
  });
});
