import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Logger } from 'pino';

const WireDoorEvent = z.object({
  state: z.enum(['open', 'closed']),
  at: z.string().optional(),
  durationS: z.number().min(0).optional(),
});
export type DoorSignal = z.infer<typeof WireDoorEvent>;

export interface DoorSourceEvents {
  door: [DoorSignal];
}

/**
 * A door sensor that streams server-sent events (`data: {"state":"closed","durationS":7}`), as
 * fixture controllers and the simulator do. Reconnects with backoff; a malformed event is logged
 * and skipped.
 */
export class SseDoorSource extends EventEmitter<DoorSourceEvents> {
  private abort = new AbortController();
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {
    super();
  }

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  private async loop(): Promise<void> {
    let delay = 1000;
    while (!this.stopped) {
      try {
        const res = await fetch(this.url, { signal: this.abort.signal, headers: { accept: 'text/event-stream' } });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        delay = 1000;
        this.log.info({ url: this.url }, 'door sensor connected');
        let buf = '';
        const decoder = new TextDecoder();
        for await (const chunk of res.body) {
          buf += decoder.decode(chunk as Uint8Array, { stream: true });
          let end: number;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            this.handleEvent(buf.slice(0, end));
            buf = buf.slice(end + 2);
          }
        }
        throw new Error('stream ended');
      } catch (err) {
        if (this.stopped) return;
        this.log.warn({ url: this.url, err: (err as Error).message, retryMs: delay }, 'door sensor unavailable');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 60_000);
      }
    }
  }

  private handleEvent(block: string): void {
    const data = block
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    if (!data) return; // comment or keep-alive
    try {
      const parsed = WireDoorEvent.safeParse(JSON.parse(data));
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
      this.emit('door', parsed.data);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, data: data.slice(0, 200) }, 'ignoring malformed door event');
    }
  }
}
