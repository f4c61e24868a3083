// Finds gRPC message boundaries in a body stream (each message is a 1-byte
// compressed flag, a 4-byte big-endian length, then the bytes) so the
// inspector can show messages, without holding up or copying the stream.

export interface GrpcMessageInfo {
  index: number;
  size: number;
  compressed: boolean;
  /** The bytes when they arrived within one chunk; empty otherwise (they are not reassembled). */
  data: Uint8Array;
}

export class GrpcMessageSplitter {
  private index = 0;
  private header = Buffer.alloc(5);
  private headerFilled = 0;
  /** Bytes of the current message still to skip. */
  private remaining = 0;
  private current: { size: number; compressed: boolean; whole: boolean } | undefined;

  constructor(private readonly onMessage: (message: GrpcMessageInfo) => void) {}

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.current === undefined) {
        const take = Math.min(5 - this.headerFilled, chunk.length - offset);
        this.header.set(chunk.subarray(offset, offset + take), this.headerFilled);
        this.headerFilled += take;
        offset += take;
        if (this.headerFilled < 5) return;
        this.headerFilled = 0;
        const size = this.header.readUInt32BE(1);
        this.current = { size, compressed: this.header[0] === 1, whole: chunk.length - offset >= size };
        this.remaining = size;
        if (size === 0) this.emit(new Uint8Array(0));
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      const piece = chunk.subarray(offset, offset + take);
      offset += take;
      this.remaining -= take;
      if (this.remaining === 0) this.emit(this.current.whole ? piece : new Uint8Array(0));
    }
  }

  private emit(data: Uint8Array): void {
    const { size, compressed } = this.current!;
    this.current = undefined;
    this.onMessage({ index: this.index++, size, compressed, data });
  }
}
