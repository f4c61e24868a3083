// Finds gRPC message boundaries in a body stream (each message is a 1-byte
// compressed flag, a 4-byte big-endian length, then the bytes) so the
// inspector can show messages, without holding up the stream. A message
// within one chunk is passed on as it lies there; of one that spans chunks
// (any over a chunk's size, and some small ones at a chunk's edge) the first
// bytes are gathered: passed on empty, such messages could not be decoded.

/** The most of one message passed on: all the inspector keeps of it (traffic-log.ts), enough to decode most. */
export const observedMessageBytes = 16 * 1024;

export interface GrpcMessageInfo {
  index: number;
  size: number;
  compressed: boolean;
  /** The message's bytes; its first `observedMessageBytes` when larger. */
  data: Uint8Array;
}

interface MessageUnderWay {
  size: number;
  compressed: boolean;
  /** The first bytes gathered so far, for a message that spans chunks. */
  gathered: Buffer | undefined;
  gatheredBytes: number;
}

export class GrpcMessageSplitter {
  private index = 0;
  private header = Buffer.alloc(5);
  private headerFilled = 0;
  /** Bytes of the current message still to come. */
  private remaining = 0;
  private current: MessageUnderWay | undefined;

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
        const whole = chunk.length - offset >= size;
        this.current = { size, compressed: this.header[0] === 1, gathered: whole ? undefined : Buffer.allocUnsafe(Math.min(size, observedMessageBytes)), gatheredBytes: 0 };
        this.remaining = size;
        if (size === 0) this.emit(new Uint8Array(0));
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      const piece = chunk.subarray(offset, offset + take);
      offset += take;
      this.remaining -= take;
      const { gathered } = this.current;
      if (gathered !== undefined && this.current.gatheredBytes < gathered.length) {
        this.current.gatheredBytes += Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).copy(gathered, this.current.gatheredBytes);
      }
      if (this.remaining === 0) this.emit(gathered ?? piece.subarray(0, observedMessageBytes));
    }
  }

  private emit(data: Uint8Array): void {
    const { size, compressed } = this.current!;
    this.current = undefined;
    this.onMessage({ index: this.index++, size, compressed, data });
  }
}
