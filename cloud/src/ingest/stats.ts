import type { RejectReason } from '@shelfsight/protocol';

export interface IngestStatsSnapshot {
  accepted: number;
  duplicates: number;
  /** Only reasons that occurred appear; keys are the protocol's closed RejectReason set. */
  rejected: Partial<Record<RejectReason, number>>;
  /** Messages left un-acked because the store failed; the broker redelivers them. */
  storeErrors: number;
  statusUpdates: number;
  replies: number;
}

export class IngestStats {
  accepted = 0;
  duplicates = 0;
  storeErrors = 0;
  statusUpdates = 0;
  replies = 0;
  private readonly rejected = new Map<RejectReason, number>();

  reject(reason: RejectReason): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  snapshot(): IngestStatsSnapshot {
    return {
      accepted: this.accepted,
      duplicates: this.duplicates,
      rejected: Object.fromEntries(this.rejected),
      storeErrors: this.storeErrors,
      statusUpdates: this.statusUpdates,
      replies: this.replies,
    };
  }
}
