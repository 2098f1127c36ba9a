import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OtaState, topics, type OtaAnnouncement } from '@shelfsight/protocol';
import type { Logger } from 'pino';
import type { Ingest } from '../ingest/index.js';

export interface OtaServiceOptions {
  /** Where artifacts and the state log live; ':memory:' keeps states only in memory and files in a temp dir. */
  dir: string;
  ingest: Ingest;
  logger: Logger;
  maxArtifactBytes: number;
}

export interface StoredArtifact {
  sha256: string;
  size: number;
}

const SHA = /^[0-9a-f]{64}$/;

/**
 * Distributes signed model and gallery updates: stores artifacts by content hash, announces
 * manifests on each device's retained `ota` topic, and keeps the latest OTA state per device.
 * The cloud never signs: signatures come from the release key, which stays offline.
 */
export class OtaService {
  private readonly states = new Map<string, OtaState>();
  private readonly filesDir: string;
  private readonly stateLog: string;

  private constructor(private readonly opts: OtaServiceOptions) {
    this.filesDir = path.join(opts.dir, 'files');
    this.stateLog = path.join(opts.dir, 'states.jsonl');
  }

  static async open(opts: OtaServiceOptions): Promise<OtaService> {
    const svc = new OtaService(opts);
    await mkdir(svc.filesDir, { recursive: true });
    try {
      for (const line of (await readFile(svc.stateLog, 'utf8')).split('\n')) {
        if (!line) continue;
        const parsed = OtaState.safeParse(JSON.parse(line));
        if (parsed.success) svc.states.set(parsed.data.deviceId, parsed.data);
      }
    } catch {
      /* no history yet */
    }
    opts.ingest.on('ota-state', (s) => void svc.record(s));
    return svc;
  }

  private async record(s: OtaState): Promise<void> {
    this.states.set(s.deviceId, s);
    await appendFile(this.stateLog, `${JSON.stringify(s)}\n`).catch((err: Error) =>
      this.opts.logger.warn({ err: err.message }, 'cannot append OTA state log'),
    );
  }

  listStates(): OtaState[] {
    return [...this.states.values()].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }

  /** Stores an uploaded artifact under its sha256 (idempotent). */
  async putArtifact(body: Buffer): Promise<StoredArtifact> {
    if (body.byteLength === 0) throw new Error('empty artifact');
    if (body.byteLength > this.opts.maxArtifactBytes)
      throw new Error(`artifact of ${body.byteLength} bytes exceeds ${this.opts.maxArtifactBytes}`);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const dest = path.join(this.filesDir, sha256);
    const tmp = `${dest}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, dest);
    return { sha256, size: body.byteLength };
  }

  /** A read stream for an artifact, or null if unknown. */
  async openArtifact(sha256: string): Promise<{ stream: NodeJS.ReadableStream; size: number } | null> {
    if (!SHA.test(sha256)) return null;
    const file = path.join(this.filesDir, sha256);
    try {
      const { size } = await stat(file);
      return { stream: createReadStream(file), size };
    } catch {
      return null;
    }
  }

  /** Publishes the announcement retained on every listed device's `ota` topic. */
  async announce(deviceIds: string[], ann: OtaAnnouncement): Promise<void> {
    for (const id of deviceIds)
      await this.opts.ingest.publish(topics.ota(id), JSON.stringify(ann), { qos: 1, retain: true });
    this.opts.logger.info(
      { kind: ann.manifest.kind, version: ann.manifest.version, devices: deviceIds.length },
      'ota announced',
    );
  }

  async withdraw(deviceIds: string[]): Promise<void> {
    for (const id of deviceIds) await this.opts.ingest.publish(topics.ota(id), '', { qos: 1, retain: true });
  }

  async removeArtifact(sha256: string): Promise<void> {
    if (SHA.test(sha256)) await rm(path.join(this.filesDir, sha256), { force: true });
  }
}
