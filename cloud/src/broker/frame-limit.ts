import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/**
 * aedes has no maximum packet size, and it buffers a whole PUBLISH before handing it on, so one
 * client announcing a huge remaining length could make the broker hold gigabytes. This wrapper
 * reads MQTT fixed headers as bytes stream past and cuts the connection as soon as a packet
 * declares more than `maxPacketBytes`, before its body is buffered.
 */
export class FrameLimitedConnection extends Duplex {
  private headerBytes = 0; // bytes of the current fixed header seen (type byte + length varint)
  private remaining = 0; // declared length being accumulated from the varint
  private multiplier = 1;
  private bodyLeft = 0; // body bytes still to pass before the next header

  constructor(
    private readonly socket: Socket,
    private readonly maxPacketBytes: number,
    private readonly onTooLarge: (declared: number) => void,
  ) {
    super({ allowHalfOpen: false });
    socket.on('data', (chunk: Buffer) => {
      if (!this.inspect(chunk)) return;
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.socket.write(chunk, encoding, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }

  /** Returns false (and drops the connection) when a packet is too large or its header malformed. */
  private inspect(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.headerBytes === 0) {
        this.headerBytes = 1; // packet type and flags
        this.remaining = 0;
        this.multiplier = 1;
        continue;
      }
      this.remaining += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.headerBytes++;
      if (byte & 0x80) {
        if (this.headerBytes > 4) return this.refuse(-1); // varint longer than MQTT allows
        continue;
      }
      if (this.remaining > this.maxPacketBytes) return this.refuse(this.remaining);
      this.bodyLeft = this.remaining;
      this.headerBytes = 0;
    }
    return true;
  }

  private refuse(declared: number): false {
    this.onTooLarge(declared);
    this.socket.destroy();
    this.destroy();
    return false;
  }
}
