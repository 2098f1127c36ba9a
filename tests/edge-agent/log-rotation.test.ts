import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@shelfsight/edge-agent';

describe('agent log file', () => {
  it('rotates by size and keeps a bounded number of files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'agent-logs-'));
    const log = createLogger('info', 'rotation-test', { file: path.join(dir, 'agent.log'), maxSizeMb: 1, keep: 2 });
    const line = 'x'.repeat(1000);
    // Logs trickle in the field; pino-roll rotates once the stream drains after crossing the size.
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 1000; i++) log.info({ round, i, line }, 'filler'); // ≈ 1 MB a round
      await new Promise<void>((resolve) => log.flush(() => resolve()));
      await new Promise((r) => setTimeout(r, 150));
    }
    const files = (await readdir(dir)).filter((f) => f.startsWith('agent'));
    // pino-roll keeps `keep` rotated files plus the one being written.
    expect(files.length).toBeGreaterThan(1);
    expect(files.length).toBeLessThanOrEqual(3);
    const sizes = await Promise.all(files.map(async (f) => (await stat(path.join(dir, f))).size));
    // A file may overshoot by one burst before it rolls.
    expect(Math.max(...sizes)).toBeLessThan(2.5 * 1024 * 1024);
  });
});
