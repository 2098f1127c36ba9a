import { randomUUID } from 'node:crypto';
import type { CommandName, CommandReply } from '@shelfsight/protocol';
import { Command, topics } from '@shelfsight/protocol';
import type { Ingest } from '../ingest/index.js';

export const DEFAULT_COMMAND_TIMEOUT_MS = 15_000;

export type CommandOutcome = { ok: true; command: Command; reply: CommandReply } | { ok: false; command: Command };

/**
 * Request/response over MQTT: publish a Command, wait for the CommandReply with the same id.
 * Pending commands live in this process, so with scale-out (`$share` ingest) a reply may land on
 * another instance; that issue needs replies routed by commandId (e.g. a per-instance reply topic).
 */
export class CommandService {
  private readonly pending = new Map<string, (reply: CommandReply) => void>();

  constructor(
    private readonly ingest: Ingest,
    private readonly timeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
  ) {
    ingest.on('reply', (reply) => this.pending.get(reply.commandId)?.(reply));
  }

  async send(deviceId: string, name: CommandName, args?: Record<string, unknown>): Promise<CommandOutcome> {
    const issuedAt = new Date();
    const command = Command.parse({
      id: randomUUID(),
      name,
      issuedAt: issuedAt.toISOString(),
      // The device must not run a command we have already given up on.
      expiresAt: new Date(issuedAt.getTime() + this.timeoutMs).toISOString(),
      ...(args ? { args } : {}),
    });
    // Registered before publishing, so a fast reply cannot slip past.
    const replied = new Promise<CommandReply | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), this.timeoutMs);
      this.pending.set(command.id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
    try {
      await this.ingest.publish(topics.commands(deviceId), JSON.stringify(command), { qos: 1 });
      const reply = await replied;
      return reply ? { ok: true, command, reply } : { ok: false, command };
    } finally {
      this.pending.delete(command.id);
    }
  }
}
