import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeDurably } from '../util/durable-write.js';

export interface OutboxEntry {
  /** Monotonic position in the outbox; entries drain in this order. */
  id: number;
  topic: string;
  payload: string;
}

export interface OutboxStats {
  depth: number;
  bytes: number;
  /** Entries dropped since start because the outbox was over one of its bounds. */
  dropped: number;
  /** Age of the oldest entry in seconds, 0 when empty. */
  oldestAgeS: number;
}

export interface OutboxBounds {
  maxMessages: number;
  /** Total bytes on disk; past it the oldest entries are dropped. */
  maxBytes?: number;
  /** Entries older than this are dropped: an observation from last month is no use to anyone. */
  maxAgeS?: number;
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
  private readonly written = new Map<number, number>();

  private constructor(
    private readonly dir: string,
    private readonly bounds: OutboxBounds,
  ) {}

  static async open(dir: string, bounds: OutboxBounds): Promise<FileOutbox> {
    await mkdir(dir, { recursive: true });
    const box = new FileOutbox(dir, bounds);
    for (const name of (await readdir(dir)).sort()) {
      const m = NAME.exec(name);
      if (!m) {
        // A leftover temporary file from a write that never completed: it was never acknowledged to anyone.
        if (name.endsWith('.tmp')) await rm(path.join(dir, name), { force: true });
        continue;
      }
      const id = Number(m[1]);
      const st = await stat(path.join(dir, name));
      const size = st.size;
      box.ids.push(id);
      box.written.set(id, st.mtimeMs);
      box.sizes.set(id, size);
      box.bytes += size;
      box.nextId = Math.max(box.nextId, id + 1);
    }
    await box.enforceBounds();
    return box;
  }

  get depth(): number {
    return this.ids.length;
  }

  stats(): OutboxStats {
    const oldest = this.ids[0];
    const oldestAgeS =
      oldest === undefined ? 0 : Math.max(0, (Date.now() - (this.written.get(oldest) ?? Date.now())) / 1000);
    return { depth: this.ids.length, bytes: this.bytes, dropped: this.dropped, oldestAgeS: Math.round(oldestAgeS) };
  }

  /** Persists a message; resolves once it is on disk. Drops the oldest when the outbox is full. */
  async append(topic: string, payload: string): Promise<OutboxEntry> {
    const id = this.nextId++;
    const body = JSON.stringify({ topic, payload });
    const final = path.join(this.dir, fileName(id));
    const tmp = `${final}.tmp`;
    await writeDurably(tmp, body);
    await rename(tmp, final);
    await this.syncDir();
    this.ids.push(id);
    const size = Buffer.byteLength(body);
    this.sizes.set(id, size);
    this.written.set(id, Date.now());
    this.bytes += size;
    await this.enforceBounds(id);
    return { id, topic, payload };
  }

  /**
   * Drops the oldest entries while any bound is exceeded. The newest entry is kept even if it alone
   * breaks the byte bound: losing the observation just taken would be the worst choice.
   */
  async enforceBounds(keep?: number): Promise<number> {
    const { maxMessages, maxBytes, maxAgeS } = this.bounds;
    const tooOld = maxAgeS === undefined ? -Infinity : Date.now() - maxAgeS * 1000;
    let n = 0;
    for (;;) {
      const oldest = this.ids[0];
      if (oldest === undefined || oldest === keep) break;
      const over =
        this.ids.length > maxMessages ||
        (maxBytes !== undefined && this.bytes > maxBytes) ||
        (this.written.get(oldest) ?? Infinity) < tooOld;
      if (!over) break;
      await this.remove(oldest);
      this.dropped++;
      n++;
    }
    return n;
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
    this.written.delete(id);
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
