import { randomBytes } from 'node:crypto';
import { cp, mkdir, readlink, rename, rm, symlink, readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Model folders on the device: `<root>/<name>/` each a complete model folder, and `<root>/current`
 * a symlink to the one in use. Switching is one rename of a symlink, so a power cut leaves either
 * the old or the new model active, never a mix.
 */
export class ModelStore {
  constructor(readonly root: string) {}

  get currentLink(): string {
    return path.join(this.root, 'current');
  }

  /** The active model folder, if an update was ever installed. */
  async current(): Promise<string | undefined> {
    try {
      return path.resolve(this.root, await readlink(this.currentLink));
    } catch {
      return undefined;
    }
  }

  /** A fresh staging folder for `version`, holding copies of `seed.files` from `seed.from` (if given). */
  async stage(version: string, seed?: { from: string; files: readonly string[] }): Promise<string> {
    await mkdir(this.root, { recursive: true });
    const dir = path.join(this.root, `${version.replace(/[^A-Za-z0-9_.-]/g, '_')}-${randomBytes(4).toString('hex')}`);
    await mkdir(dir);
    // Only the model's own files: the folder the agent shipped with may hold anything else
    // (in a development checkout, models/ also holds gigabytes of training caches).
    for (const f of seed?.files ?? []) await cp(path.join(seed!.from, f), path.join(dir, f), { dereference: true });
    return dir;
  }

  /** Points `current` at `dir` atomically; returns what it pointed at before. */
  async activate(dir: string): Promise<string | undefined> {
    const previous = await this.current();
    const tmp = path.join(this.root, `.current-${randomBytes(4).toString('hex')}`);
    await symlink(path.basename(dir), tmp);
    await rename(tmp, this.currentLink);
    return previous;
  }

  /** Removes the `current` link, so the agent falls back to the folder it shipped with. */
  async clear(): Promise<void> {
    await rm(this.currentLink, { force: true });
  }

  /** Keeps the active folder and the one before it (for rollback); removes other leftovers. */
  async prune(keep: (string | undefined)[]): Promise<void> {
    const keepNames = new Set(keep.filter((k): k is string => !!k).map((k) => path.basename(k)));
    for (const name of await readdir(this.root)) {
      if (name === 'current' || keepNames.has(name)) continue;
      await rm(path.join(this.root, name), { recursive: true, force: true });
    }
  }
}
