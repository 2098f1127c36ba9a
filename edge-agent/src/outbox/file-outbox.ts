import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

export interface OutboxEntry {
  /** Monotonic position in the outbox; entries drain in this order. */
  id: number;
  topic: string;
  payload: string;
}

export interface OutboxStats {
  depth: number;
  bytes: number;
  dropped: number;
}

const NAME = /^(\d{16})\.json$/;
const fileName = (id: number) => `${String(id).padStart(16, '0')}.json`;

/**
 * A durable FIFO of messages waiting for their PUBACK: one fsync'd file per message, written to a
 * temporary name and renamed into place, so a crash or power cut leaves either the whole message or
 * nothing. mqtt.js only keeps unacknowledged messages in memory, so without this a restart loses them.
 */
export class FileOutbox {
  private readonly ids: number[] = [];
  private nextId = 1;
  private dropped = 0;
  private bytes = 0;
  private readonly sizes = new Map<number, number>();

  private constructor(
    private readonly dir: string,
    private readonly maxMessages: number,
  ) {}

  static async open(dir: string, opts: { maxMessages: number }): Promise<FileOutbox> {
    await mkdir(dir, { recursive: true });
    const box = new FileOutbox(dir, opts.maxMessages);
    for (const name of (await readdir(dir)).sort()) {
      const m = NAME.exec(name);
      if (!m) {
        // A leftover temporary file from a write that never completed: it was never acknowledged to anyone.
        if (name.endsWith('.tmp')) await rm(path.join(dir, name), { force: true });
        continue;
      }
      const id = Number(m[1]);
      const size = (await stat(path.join(dir, name))).size;
      box.ids.push(id);
      box.sizes.set(id, size);
      box.bytes += size;
      box.nextId = Math.max(box.nextId, id + 1);
    }
    return box;
  }

  get depth(): number {
    return this.ids.length;
  }

  stats(): OutboxStats {
    return { depth: this.ids.length, bytes: this.bytes, dropped: this.dropped };
  }

  /** Persists a message; resolves once it is on disk. Drops the oldest when the outbox is full. */
  async append(topic: string, payload: string): Promise<OutboxEntry> {
    const id = this.nextId++;
    const body = JSON.stringify({ topic, payload });
    const final = path.join(this.dir, fileName(id));
    const tmp = `${final}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
    await this.syncDir();
    this.ids.push(id);
    const size = Buffer.byteLength(body);
    this.sizes.set(id, size);
    this.bytes += size;
    while (this.ids.length > this.maxMessages) {
      const oldest = this.ids[0]!;
      await this.remove(oldest);
      this.dropped++;
    }
    return { id, topic, payload };
  }

  /** The oldest `n` entries, in order, without removing them. */
  async peek(n: number): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = [];
    for (const id of this.ids.slice(0, n)) {
      const raw = JSON.parse(await readFile(path.join(this.dir, fileName(id)), 'utf8')) as {
        topic: string;
        payload: string;
      };
      out.push({ id, topic: raw.topic, payload: raw.payload });
    }
    return out;
  }

  /** Forgets an entry once the broker has acknowledged it. */
  async remove(id: number): Promise<void> {
    const i = this.ids.indexOf(id);
    if (i < 0) return;
    this.ids.splice(i, 1);
    this.bytes -= this.sizes.get(id) ?? 0;
    this.sizes.delete(id);
    await rm(path.join(this.dir, fileName(id)), { force: true });
  }

  private async syncDir(): Promise<void> {
    // The rename is only durable once the directory entry is flushed too.
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}
