// A gRPC call's request body on its way to the local service's stream. It
// may come before the stream exists (a new connection's settings are not in
// yet), and a stream the service refuses (RST_STREAM REFUSED_STREAM: it was
// never processed) may be opened again and sent all of it, as grpc-js
// retries such a call once by itself. Pieces are kept for that until the
// service answers, up to the retry buffers grpc-js keeps, per call and for
// all calls: past them the call can no longer go again, as in grpc-js.
import type { Writable } from 'node:stream';
import type { ItemSink } from '../flow-control.js';

/** grpc-js's default 'grpc.per_rpc_retry_buffer_size'. */
export const replayLimitBytes = 256 * 1024;

/** What all calls keep at once, as grpc-js's 'grpc.retry_buffer_size' (16 MiB by default) bounds a channel's. */
export class ReplayBudget {
  private used = 0;

  constructor(readonly limitBytes = 16 * 1024 * 1024) {}

  /** Takes `bytes` if they fit. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }

  get usedBytes(): number {
    return this.used;
  }
}

const processBudget = new ReplayBudget();

type Done = (error?: Error | null) => void;

interface Piece {
  data: Buffer;
  /** Credit back for the piece: called once, when a stream first takes it. */
  done: Done | undefined;
}

export class ReplayableRequestBody {
  private stream: Writable | undefined;
  /** Pieces that came while no stream was open. */
  private waiting: Piece[] = [];
  /** Every piece so far, while all of them could go again; undefined once not. */
  private kept: Piece[] | undefined = [];
  private keptBytes = 0;
  private ended = false;

  readonly sink: ItemSink<Buffer>;

  constructor(
    private readonly limitBytes = replayLimitBytes,
    private readonly budget = processBudget,
  ) {
    const sink: ItemSink<Buffer> = (data, done) => this.take({ data, done });
    // Gathered pieces go to the stream in one write, as writableSink() does.
    sink.batch = (write) => {
      const stream = this.stream;
      stream?.cork();
      try {
        write();
      } finally {
        stream?.uncork();
      }
    };
    this.sink = sink;
  }

  /** The last piece has come. */
  end(): void {
    this.ended = true;
    this.stream?.end();
  }

  /** The stream is open: what waited goes to it, and from now on each piece as it comes. */
  open(stream: Writable): void {
    this.sendTo(stream, this.waiting);
  }

  /** Whether everything so far can still go to a new stream. */
  get replayable(): boolean {
    return this.kept !== undefined;
  }

  /** The stream was refused: pieces wait until reopen(). */
  detach(): void {
    this.stream = undefined;
  }

  /** A new stream for the refused one: everything goes again. Only while replayable. */
  reopen(stream: Writable): void {
    if (this.kept === undefined) throw new Error('the request body can no longer be sent again');
    this.sendTo(stream, this.kept);
  }

  /** The service answered, or the call ended: nothing will be sent again. */
  commit(): void {
    this.kept = undefined;
    this.budget.give(this.keptBytes);
    this.keptBytes = 0;
  }

  private take(piece: Piece): void {
    if (this.kept !== undefined) {
      const { length } = piece.data;
      if (this.keptBytes + length <= this.limitBytes && this.budget.take(length)) {
        this.keptBytes += length;
        this.kept.push(piece);
      } else {
        this.commit();
      }
    }
    if (this.stream === undefined) this.waiting.push(piece);
    else write(this.stream, piece);
  }

  private sendTo(stream: Writable, pieces: readonly Piece[]): void {
    this.stream = stream;
    this.waiting = [];
    for (const piece of pieces) write(stream, piece);
    if (this.ended) stream.end();
  }
}

function write(stream: Writable, piece: Piece): void {
  stream.write(piece.data, (error) => {
    // A refused stream fails its writes: the credit waits for the stream the piece goes to again.
    if (error) return;
    const { done } = piece;
    piece.done = undefined;
    done?.();
  });
}
