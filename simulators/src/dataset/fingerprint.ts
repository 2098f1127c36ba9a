import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folders of this package whose code decides what a dataset holds (images and truth). */
const RENDERING = ['catalog', 'dataset', 'fixtures', 'perturb', 'render', 'util'];

let cached: string | undefined;

/**
 * A short hash of the simulator code that renders datasets (this package's files in the folders
 * above, compiled or source, whichever runs). Exports record it as `info.simulator`, and
 * `currentDataset` (`sim dataset --reuse`) keeps only a set made by the same code.
 */
export function simulatorFingerprint(): string {
  if (cached) return cached;
  const root = fileURLToPath(new URL('..', import.meta.url));
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|ts)$/.test(e.name) && !e.name.endsWith('.d.ts')) {
        h.update(relative(root, p));
        h.update(readFileSync(p));
      }
    }
  };
  for (const d of RENDERING) walk(join(root, d));
  cached = h.digest('hex').slice(0, 12);
  return cached;
}
