// Writes a data stream's messages so that those sent in the same event-loop
// turn, or while an earlier write is still on its way, leave together, in
// one gRPC write.
//
// grpc-js writes a call's messages one at a time: each waits until the one
// before has reached the socket (its Writable has no writev), and each leaves
// in a system call of its own, from an immediate of its own. Under small
// requests that was one write per request on each hop's data connection, and
// as many wake-ups of the peer. Here the messages of a turn wait in order
// until the turn's I/O callbacks have run (an immediate), then leave
// together, framed back to back in one buffer (gRPC lets frames share a
// write: the peer's parser sees the same messages); those that come while a
// write is on its way leave together when it is written. A big message is
// never copied into such a buffer: it leaves alone, framed in place as before
// (a gathered one too, whose head alone is small).
import type { TunnelMessage } from '../gen/burrow/v1/tunnel.js';
import { EncodedMessages, encodeTunnelMessage, frameTogether, isGatheredHead } from './tunnel-codec.js';

/** The call as the writer uses it: grpc-js's Writable, whose callback runs once a write has reached the socket. */
export interface MessageCall {
  write(message: TunnelMessage | EncodedMessages, written: (error?: Error | null) => void): unknown;
}

/** Messages from this size on go alone: copying them into a shared buffer would cost more than their own write. */
const aloneFromBytes = 16 * 1024;
/** A shared buffer stops growing here; what is left goes in the next write. */
const togetherUpToBytes = 64 * 1024;
/** Emptied slots at the head of the queue, while it never empties, before they are cut off. */
const compactFromSlots = 1024;

export class CoalescingWriter {
  private writing = false;
  /** An immediate will write what this turn queued. */
  private turnEnding = false;
  /**
   * What waits for the turn's end or the write on its way, oldest first from `next`: encoded
   * messages, or a message that would not encode (grpc-js is given it alone
   * and fails the call, as it always did).
   */
  private waiting: (Buffer | TunnelMessage | undefined)[] = [];
  private next = 0;
  private readonly written = (): void => {
    this.writing = false;
    if (this.next < this.waiting.length) this.writeWaiting();
  };
  private readonly turnEnded = (): void => {
    this.turnEnding = false;
    if (!this.writing && this.next < this.waiting.length) this.writeWaiting();
  };

  /** `together` false writes every message as grpc-js would (for a side whose framing is not Burrow's own). */
  constructor(
    private readonly call: MessageCall,
    private readonly together: boolean,
  ) {}

  write(message: TunnelMessage): void {
    if (!this.together) {
      this.call.write(message, noop);
      return;
    }
    this.waiting.push(encodedOrAsIs(message));
    // With a write on its way, its callback writes what waits.
    if (this.writing || this.turnEnding) return;
    this.turnEnding = true;
    setImmediate(this.turnEnded);
  }

  /** Hands grpc-js whatever waits, in order, without waiting for the write on its way: before the call is ended. */
  flush(): void {
    while (this.next < this.waiting.length) this.writeWaiting();
  }

  private send(item: Buffer | TunnelMessage | EncodedMessages): void {
    this.writing = true;
    this.call.write(Buffer.isBuffer(item) ? new EncodedMessages(item) : item, this.written);
  }

  /** The oldest waiting messages: one big one alone, or as many small ones as fit together. */
  private writeWaiting(): void {
    const together: Buffer[] = [];
    let length = 0;
    while (this.next < this.waiting.length) {
      const item = this.waiting[this.next]!;
      const small = Buffer.isBuffer(item) && item.length < aloneFromBytes && !isGatheredHead(item);
      if (together.length > 0 && (!small || length + item.length > togetherUpToBytes)) break;
      // Let go of what is taken: a writer that never catches up (a busy spell) kept every buffer it had sent.
      this.waiting[this.next++] = undefined;
      if (!small) return this.sendAndCompact(item);
      together.push(item as Buffer);
      length += item.length;
    }
    this.sendAndCompact(together.length === 1 ? together[0]! : frameTogether(together, length));
  }

  private sendAndCompact(item: Buffer | TunnelMessage | EncodedMessages): void {
    if (this.next === this.waiting.length) {
      this.waiting = [];
      this.next = 0;
    } else if (this.next >= compactFromSlots && this.next * 2 >= this.waiting.length) {
      // The emptied slots go too, at a cost spread over those taken.
      this.waiting = this.waiting.slice(this.next);
      this.next = 0;
    }
    this.send(item);
  }
}

function encodedOrAsIs(message: TunnelMessage): Buffer | TunnelMessage {
  try {
    return encodeTunnelMessage(message);
  } catch {
    return message;
  }
}

const noop = (): void => {};
