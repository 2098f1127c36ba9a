import { mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { DeviceConfig } from '@shelfsight/protocol';
import { z } from 'zod';
import { writeDurably } from './util/durable-write.js';

const AgentState = z.object({
  /** Next capture sequence number; persisted so a restart never reuses one. */
  nextSeq: z.number().int().min(0).default(0),
  appliedConfig: DeviceConfig.optional(),
  /** Last update version that failed, per kind: a retained announcement must not retry it forever. */
  otaFailed: z.record(z.string(), z.string()).default({}),
});
export type AgentState = z.infer<typeof AgentState>;

/** Small JSON state file written atomically (temp file, fsync, rename). */
export class StateFile {
  private constructor(
    private readonly file: string,
    public state: AgentState,
  ) {}

  static async open(dataDir: string): Promise<StateFile> {
    await mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, 'state.json');
    let state: AgentState = { nextSeq: 0, otaFailed: {} };
    try {
      const parsed = AgentState.safeParse(JSON.parse(await readFile(file, 'utf8')));
      // A corrupt state file must not keep the device from capturing; start over but keep going.
      if (parsed.success) state = parsed.data;
    } catch {
      /* first start, or unreadable: defaults */
    }
    return new StateFile(file, state);
  }

  async save(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    await writeDurably(tmp, JSON.stringify(this.state));
    await rename(tmp, this.file);
  }
}
