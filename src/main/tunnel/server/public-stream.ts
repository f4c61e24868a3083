// The public end of one HTTP request or gRPC call, whatever carries it
// (HTTP/1.1 or HTTP/2): what the edge's exchange reads and writes. The
// adapters (http1-public-stream, http2-public-stream) translate; the
// exchange decides when.
import type { Readable } from 'node:stream';
import type { Header } from '../../gen/burrow/v1/tunnel.js';
import type { ItemSink } from '../flow-control.js';

export interface PublicRequestHead {
  method: string;
  /** Origin-form target: path and query. */
  path: string;
  /** End-to-end headers, in order, Host included. */
  headers: Header[];
  remoteAddress: string;
  scheme: string;
  /** The client's HTTP version: "1.0", "1.1" or "2.0". */
  httpVersion: string;
}

export interface PublicStream {
  readonly head: PublicRequestHead;
  /** Body length when declared up front, 0 when there is no body, NaN when it streams. */
  readonly bodyLength: number;
  readonly body: Readable;
  /** Request trailers; complete once the body has ended. */
  trailers(): Header[];
  /** Once the body has ended: why its trailers are refused (over the head limit), or undefined. */
  trailersRefused(): string | undefined;
  /**
   * Once the body has ended: whether the client sent all of it. Node also
   * ends an HTTP/2 stream's body when the stream or its connection goes
   * away (a reset, a closed connection), which is no end of the request.
   */
  bodyComplete(): boolean;
  /** Writes an interim (1xx) response ahead of the final one, where the protocol has a way; otherwise drops it. */
  inform(status: number, headers: Header[]): void;
  /** Writes the response head; `wholeBody` ends the response with it. */
  respond(status: number, statusMessage: string, headers: Header[], wholeBody?: Buffer): void;
  /** Takes response body chunks, calling back as each leaves our buffers. */
  readonly sink: ItemSink<Buffer>;
  /** Ends the response, with its trailers. */
  end(trailers: Header[]): void;
  /** Once the response has ended: cuts what is still queued for the client if it drains none of it for `idleMs` (0: never). */
  cutIfUnread(idleMs: number): void;
  /** Answers with an error: a status and a short text, a gRPC status, or a cut stream when too late for either. */
  fail(code: string, message: string, retryAfterSeconds?: number, http2ErrorCode?: number): void;
  /** The client went away before the response ended, with its HTTP/2 reset's code if it reset the stream; called at most once. */
  onGone(listener: (resetCode?: number) => void): void;
  /** The client drained what was written: progress, for idle timeouts. */
  onProgress(listener: () => void): void;
  /** The rest of the request body will not be read: let it drain away, or (HTTP/2, the answer complete) ask the client to stop sending it. */
  discardBody(): void;
}
