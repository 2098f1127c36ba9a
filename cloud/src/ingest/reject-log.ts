import type { Logger } from 'pino';
import type { RejectReason } from '@shelfsight/protocol';

export interface RejectLogOptions {
  /** Lines per reason per window before suppression; a flood costs one summary line per window. */
  perWindow?: number;
  windowMs?: number;
  now?: () => number;
}

/**
 * Logs rejects with reason, detail and topic, but at most `perWindow` lines per reason per window,
 * so a device stuck in a loop sending garbage cannot fill the disk. Suppressed lines are counted
 * and reported once the window rolls over.
 */
export class RejectLog {
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly windows = new Map<RejectReason, { start: number; logged: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    opts: RejectLogOptions = {},
  ) {
    this.perWindow = opts.perWindow ?? 20;
    this.windowMs = opts.windowMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  log(reason: RejectReason, detail: string, topic: string): void {
    const t = this.now();
    let w = this.windows.get(reason);
    if (!w || t - w.start >= this.windowMs) {
      if (w && w.suppressed > 0)
        this.logger.warn({ reason, suppressed: w.suppressed }, 'ingest rejects suppressed in the last window');
      w = { start: t, logged: 0, suppressed: 0 };
      this.windows.set(reason, w);
    }
    if (w.logged >= this.perWindow) {
      w.suppressed++;
      return;
    }
    w.logged++;
    this.logger.warn({ reason, detail: detail.slice(0, 500), topic: topic.slice(0, 200) }, 'ingest reject');
  }
}
