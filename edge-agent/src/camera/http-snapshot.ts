import { CameraError, type CameraSource, type Frame } from './source.js';

/** Longest snapshot we accept; protects a small device from a misbehaving camera. */
const MAX_SNAPSHOT_BYTES = 20 * 1024 * 1024;

export class HttpSnapshotCamera implements CameraSource {
  readonly description: string;

  constructor(
    private readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.description = `http snapshot ${url}`;
  }

  async grab(): Promise<Frame> {
    const capturedAt = new Date();
    let res: Response;
    try {
      res = await fetch(this.url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new CameraError(`camera unreachable at ${this.url}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new CameraError(`camera at ${this.url} answered HTTP ${res.status}`);
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_SNAPSHOT_BYTES) throw new CameraError(`snapshot of ${length} bytes exceeds ${MAX_SNAPSHOT_BYTES}`);
    const image = Buffer.from(await res.arrayBuffer());
    if (image.byteLength === 0) throw new CameraError(`camera at ${this.url} returned an empty body`);
    const frameId = res.headers.get('x-frame-id') ?? undefined;
    return frameId ? { image, capturedAt, frameId } : { image, capturedAt };
  }

  async close(): Promise<void> {}
}
