// Per-request credit windows. Many requests share one Proxy stream, so each
// request_id moves its body only as far as the receiving side has granted
// (as HTTP/2 and yamux do): a slow reader stalls only its own request, and
// neither side ever buffers more than one window per request.
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, BurrowError } from './errors.js';
import { allocateBodyBuffer } from './tunnel-codec.js';

/** Largest body chunk put in one TunnelMessage; bigger reads are split. */
export const maxChunkBytes = 1024 * 1024;

export interface CreditedSenderSink {
  chunk(data: Buffer): void;
  /** Takes a chunk that spans reads as the reads themselves (a sender that writes them gathered); without this, such a chunk comes joined to `chunk`. */
  parts?(parts: Buffer[], length: number): void;
  end(): void;
}

/**
 * Reads `source` and hands its bytes to `sink` without ever exceeding the
 * credit the peer granted; pauses the source while out of credit. Reads that
 * arrive in the same event-loop turn go out as one chunk: per-message costs
 * (framing, copies, garbage) dominate bulk transfers, not bytes.
 */
export class CreditedSender {
  private credit: number;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private flushScheduled = false;
  private sourceEnded = false;
  private finished = false;

  constructor(
    private readonly source: Readable,
    initialCredit: number,
    private readonly sink: CreditedSenderSink,
  ) {
    this.credit = initialCredit;
    source.on('data', this.onData);
    source.once('end', this.onEnd);
    // A source whose end came before us says so no more: Node ends a public
    // HTTP/2 body nothing has read yet at its END_STREAM, and an empty one
    // ended unseen while admission waited (a cluster's edge asking the others
    // who holds the tunnel), the forwarded request waiting for it until cut.
    if (source.readableEnded) queueMicrotask(this.onEnd);
  }

  /** The peer granted `bytes` more. */
  grant(bytes: number): void {
    if (this.finished) return;
    this.credit += bytes;
    this.flush();
  }

  /** Whether what holds the body up is its source (a client that stopped sending), not the peer's credit. */
  get waitingForSource(): boolean {
    return !this.finished && !this.sourceEnded && (this.heldBytes === 0 || this.credit > 0);
  }

  /** Stops reading; the caller owns destroying the source. */
  stop(): void {
    this.finished = true;
    this.held = [];
    this.heldBytes = 0;
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
  }

  private readonly onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    if (this.heldBytes >= maxChunkBytes) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.onFlushTimer);
    }
    if (this.heldBytes > 0 && this.credit <= 0) this.source.pause();
  };

  private readonly onFlushTimer = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  private readonly onEnd = (): void => {
    this.sourceEnded = true;
    this.flush();
  };

  private flush(): void {
    if (this.finished) return;
    while (this.heldBytes > 0 && this.credit > 0) {
      const size = Math.min(this.heldBytes, this.credit, maxChunkBytes);
      this.credit -= size;
      if (this.sink.parts !== undefined && this.held[0]!.length < size) this.sink.parts(this.takeParts(size), size);
      else this.sink.chunk(this.take(size));
    }
    if (this.heldBytes > 0) {
      this.source.pause();
      return;
    }
    if (this.sourceEnded) {
      this.finished = true;
      this.sink.end();
    } else {
      this.source.resume();
    }
  }

  /** Removes the first `size` held bytes as the reads they span, the last one cut at `size`. */
  private takeParts(size: number): Buffer[] {
    const parts: Buffer[] = [];
    let taken = 0;
    while (taken < size) {
      const next = this.held[0]!;
      const n = Math.min(next.length, size - taken);
      if (n === next.length) {
        this.held.shift();
        parts.push(next);
      } else {
        this.held[0] = next.subarray(n);
        parts.push(next.subarray(0, n));
      }
      taken += n;
    }
    this.heldBytes -= size;
    return parts;
  }

  /**
   * Removes the first `size` held bytes, copying only when they span reads,
   * and then into a buffer the encoder can send without another copy.
   */
  private take(size: number): Buffer {
    const first = this.held[0];
    if (first.length === size) {
      this.held.shift();
      this.heldBytes -= size;
      return first;
    }
    if (first.length > size) {
      this.held[0] = first.subarray(size);
      this.heldBytes -= size;
      return first.subarray(0, size);
    }
    const out = allocateBodyBuffer(size);
    let filled = 0;
    for (const part of this.takeParts(size)) filled += part.copy(out, filled);
    return out;
  }
}

/** Delivers one item and calls `done` once it has left our buffers (or with an error). */
export interface ItemSink<T> {
  (item: T, done: (error?: Error | null) => void): void;
  /** Delivers what `write` delivers as one batch: a socket writes them with one system call. */
  batch?(write: () => void): void;
  /** Whether a batch of `length` bytes is worth taking as one (else it comes joined); without this, always. */
  takesBatchOf?(length: number): boolean;
}

export function writableSink(sink: Writable): ItemSink<Buffer> {
  const deliver: ItemSink<Buffer> = (data, done) => sink.write(data, done);
  deliver.batch = (write) => {
    sink.cork();
    try {
      write();
    } finally {
      sink.uncork();
    }
  };
  return deliver;
}

/**
 * Hands received chunks to `sink` and grants credit back as the sink
 * accepts them, so the peer's sending rate follows the sink's reading rate.
 */
export class CreditedReceiver<T = Buffer> {
  /** Bytes the peer may still send without a new grant. */
  private outstanding: number;
  private flushedSinceGrant = 0;
  private readonly grantThreshold: number;

  constructor(
    private readonly sink: ItemSink<T>,
    private readonly window: number,
    private readonly sendGrant: (bytes: number) => void,
  ) {
    this.outstanding = window;
    // Granting in quarters keeps WindowUpdate traffic low without stalling the sender.
    this.grantThreshold = Math.max(1, Math.floor(window / 4));
  }

  /**
   * Throws BurrowError(FlowControl) when the peer sent with no credit left.
   * A sender may overshoot by one item it could not split (a WebSocket
   * frame, at most maxChunkBytes), so buffering stays within a window plus
   * one chunk.
   */
  write(item: T, length: number): void {
    this.spend(length);
    this.deliver(item, length);
  }

  /** The sink can take several items of `length` bytes in all as one batch (writeBatch). */
  batches(length: number): boolean {
    return this.sink.batch !== undefined && (this.sink.takesBatchOf?.(length) ?? true);
  }

  /** Items that came as one (the pieces of a gathered body chunk): credit spent once, delivered as one batch. */
  writeBatch(items: readonly T[], length: number, lengthOf: (item: T) => number): void {
    this.spend(length);
    const deliverAll = (): void => {
      for (const item of items) this.deliver(item, lengthOf(item));
    };
    if (this.sink.batch !== undefined) this.sink.batch(deliverAll);
    else deliverAll();
  }

  private spend(length: number): void {
    if (this.outstanding <= 0) {
      throw new BurrowError(ErrorCode.FlowControl, `peer sent ${length} bytes with no credit left (window ${this.window})`);
    }
    this.outstanding -= length;
  }

  private deliver(item: T, length: number): void {
    this.sink(item, (error) => {
      if (error) return;
      this.flushedSinceGrant += length;
      if (this.flushedSinceGrant >= this.grantThreshold) {
        const grant = this.flushedSinceGrant;
        this.flushedSinceGrant = 0;
        this.outstanding += grant;
        this.sendGrant(grant);
      }
    });
  }
}

/**
 * Credit for a source of whole items (WebSocket frames): each item waits, in
 * order, until the peer's credit is above zero, then goes and spends its size
 * (so the balance may dip below zero by one item, which the receiver allows).
 * Nothing is ever sent without credit, even when the source cannot stop at
 * once: `backlog(true)` asks it to pause while items wait, `backlog(false)`
 * to go on.
 */
export class CreditedQueue<T> {
  private readonly waiting: { item: T; size: number }[] = [];
  private waitingSize = 0;
  private backlogged = false;

  constructor(
    private credit: number,
    private readonly send: (item: T) => void,
    private readonly backlog: (waiting: boolean) => void,
  ) {}

  /** Items waiting for credit. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Bytes waiting for credit. */
  get pendingBytes(): number {
    return this.waitingSize;
  }

  push(item: T, size: number): void {
    this.waiting.push({ item, size });
    this.waitingSize += size;
    this.pump();
  }

  grant(bytes: number): void {
    this.credit += bytes;
    this.pump();
  }

  /** Drops what waits (the exchange ended). */
  clear(): void {
    this.waiting.length = 0;
    this.waitingSize = 0;
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.credit > 0) {
      const { item, size } = this.waiting.shift()!;
      this.credit -= size;
      this.waitingSize -= size;
      this.send(item);
    }
    const backlogged = this.waiting.length > 0;
    if (backlogged !== this.backlogged) {
      this.backlogged = backlogged;
      this.backlog(backlogged);
    }
  }
}
