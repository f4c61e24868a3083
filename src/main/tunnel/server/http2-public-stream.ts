// A public HTTP/2 stream as a PublicStream: a gRPC call, or an HTTP request
// that the agent may forward over HTTP/1.1 (as nginx and cloudflared do).
// Errors take the caller's form: a gRPC status for gRPC, a status page
// otherwise; once too late for either, the stream is reset.
import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream, type ServerStreamResponseOptions } from 'node:http2';
import type { Header } from '../../gen/burrow/v1/tunnel.js';
import { writableSink, type ItemSink } from '../flow-control.js';
import { allowedInTrailers, headersFromHttp2Raw, headersToObject } from '../headers.js';
import { errorAnswer } from '../error-answer.js';
import { grpcErrorStatus } from './public-errors.js';
import { cutWhenUnread } from './unread-answer.js';
import type { PublicRequestHead, PublicStream } from './public-stream.js';

export type PublicErrorStyle = 'grpc' | 'http';

export class Http2PublicStream implements PublicStream {
  readonly head: PublicRequestHead;
  /** :authority, or Host from a client that sent that instead. */
  readonly authority: string;
  readonly bodyLength: number;
  readonly sink: ItemSink<Buffer>;
  private requestTrailers: Header[] = [];
  private responseTrailers: Record<string, string | string[]> = {};
  /** The answer ends with trailers (empty ones too) not sent yet: nothing may overtake them. */
  private trailersDue = false;
  /** The upload is to be stopped once the trailers have gone (discardBody). */
  private stopUploadAfterTrailers = false;

  constructor(
    private readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    rawHeaders: string[],
    /** The request's HEADERS frame ended the stream: no body. */
    endStream: boolean,
    private readonly errorStyle: PublicErrorStyle,
  ) {
    stream.on('error', () => {});
    stream.on('trailers', (_headers: IncomingHttpHeaders, _flags: number, raw: string[]) => (this.requestTrailers = headersFromHttp2Raw(raw)));
    // Trailers go when the response ends (the service's, or ours on failure).
    stream.on('wantTrailers', () => {
      stream.sendTrailers(this.responseTrailers);
      this.trailersDue = false;
      // Out of nghttp2's send, where a reset waits for a send that may not come.
      if (this.stopUploadAfterTrailers) setImmediate(() => this.stopUpload());
    });
    const authority = headers[':authority'] ?? headers.host ?? '';
    this.authority = authority;
    this.head = {
      method: String(headers[':method'] ?? 'GET'),
      path: String(headers[':path'] ?? '/'),
      headers: [{ name: 'host', value: authority }, ...joinCookies(headersFromHttp2Raw(rawHeaders))],
      remoteAddress: stream.session?.socket?.remoteAddress ?? '',
      // As the client reached the edge, not the :scheme it claims (over cleartext it may say https).
      scheme: stream.session?.encrypted === true ? 'https' : 'http',
      httpVersion: '2.0',
    };
    const declared = headers['content-length'];
    this.bodyLength = endStream ? 0 : declared === undefined ? NaN : Number(declared);
    this.sink = writableSink(stream);
  }

  get body(): ServerHttp2Stream {
    return this.stream;
  }

  trailers(): Header[] {
    return this.requestTrailers;
  }

  trailersRefused(): string | undefined {
    // Held by Node's HTTP/2 session to the size the edge announces (SETTINGS_MAX_HEADER_LIST_SIZE: the hop's room, request-head-size.ts).
    return undefined;
  }

  bodyComplete(): boolean {
    // A stream that closes while the response is still open (a reset, a lost connection) is marked aborted before Node ends its body.
    return !this.stream.aborted;
  }

  inform(status: number, headers: Header[]): void {
    if (this.stream.headersSent || this.stream.destroyed) return;
    const head: OutgoingHttpHeaders = headersToObject(headers);
    head[':status'] = status;
    try {
      this.stream.additionalHeaders(head);
    } catch {
      // Headers HTTP/2 cannot carry: the final answer is what matters.
    }
  }

  respond(status: number, _statusMessage: string, headers: Header[], wholeBody?: Buffer): void {
    // Set on the headers' own object, not a `{ ...copy, more }` literal, which keeps young objects alive (test/unit/spread-copies.test.ts).
    const head: OutgoingHttpHeaders = headersToObject(headers);
    head[':status'] = status;
    // RFC 9110 section 8.6: never on a 204. HTTP/1.1 clients let it pass (and get it, as directly); HTTP/2 ones reset the stream.
    if (status === 204) delete head['content-length'];
    // A Date the service did not send is a proxy's to add (RFC 9110 section 6.6.1), but gRPC callers read it as the service's metadata.
    const sendDate = this.errorStyle !== 'grpc';
    if (wholeBody !== undefined) {
      this.respondWhole(head, wholeBody, sendDate);
      return;
    }
    this.trailersDue = true;
    const options: RespondOptions = { waitForTrailers: true, sendDate };
    this.stream.respond(head, options);
  }

  /**
   * A head and its whole body. With a whole body of nothing, headers alone
   * end it (for gRPC, a trailers-only answer). A body that comes while the
   * client is still uploading ends with empty trailers: those go only once
   * its last byte has, and the upload is stopped after them (discardBody).
   */
  private respondWhole(head: OutgoingHttpHeaders, body: Buffer, sendDate: boolean): void {
    this.trailersDue = body.length > 0 && this.uploading();
    const options: RespondOptions = this.trailersDue ? { waitForTrailers: true, sendDate } : { endStream: body.length === 0, sendDate };
    this.stream.respond(head, options);
    if (body.length > 0) this.stream.end(body);
  }

  /** The client has yet to end its request body. */
  private uploading(): boolean {
    return !this.stream.closed && this.stream.state.remoteClose !== 1;
  }

  end(trailers: Header[]): void {
    this.responseTrailers = headersToObject(trailers.filter((h) => allowedInTrailers(h.name)));
    this.stream.end();
  }

  cutIfUnread(idleMs: number): void {
    cutWhenUnread(this.stream, idleMs, () => this.stream.close(constants.NGHTTP2_CANCEL));
  }

  /** An expectation other than 100-continue: 417, as Node's HTTP/2 server answers it, and HTTP/1.1's (RFC 9110 section 10.1.1). */
  refuseExpectation(): void {
    if (!this.stream.closed && !this.stream.headersSent) this.stream.respond({ ':status': 417 }, { endStream: true });
  }

  fail(code: string, message: string, retryAfterSeconds?: number, http2ErrorCode?: number): void {
    const { stream } = this;
    if (stream.closed || stream.destroyed) return;
    if (this.errorStyle === 'grpc') {
      const status = grpcErrorStatus(code, message);
      if (!stream.headersSent) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...status }, grpcTrailersOnly);
      } else if (!stream.writableEnded) {
        this.responseTrailers = status;
        stream.end();
      } else {
        stream.close(constants.NGHTTP2_CANCEL);
      }
      return;
    }
    // The service's own reset, before its head too, as its client would have met it directly (REFUSED_STREAM
    // says the request may be sent again); after the head, a truncated body must not look complete either.
    if (http2ErrorCode !== undefined || stream.headersSent) {
      stream.close(http2ErrorCode ?? constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const answer = errorAnswer(code, message, retryAfterSeconds);
    this.respondWhole({ ':status': answer.status, ...answer.headers }, Buffer.from(answer.body), true);
  }

  onGone(listener: (resetCode?: number) => void): void {
    const { session } = this.stream;
    // Closed before the answer's end (aborted) on a session still up: the client's own RST_STREAM, whose code
    // the service is to hear as it would directly (REFUSED_STREAM, INTERNAL_ERROR...). A lost connection has none.
    this.stream.once('close', () => listener(this.stream.aborted && session?.destroyed === false ? this.stream.rstCode : undefined));
  }

  onProgress(listener: () => void): void {
    this.stream.on('drain', listener);
  }

  /**
   * An answer complete before the upload's end: RST_STREAM NO_ERROR, as
   * Node's own server and nginx send it, stops the client sending what
   * nobody reads (RFC 9113 section 8.1). Drained instead, a browser sent a
   * refused upload whole before it showed the refusal. It goes after the
   * answer's trailers: nghttp2 sends a reset ahead of frames still queued
   * (a gRPC status was lost that way); Node sends the data queued first.
   */
  discardBody(): void {
    if (this.stream.readableEnded) return;
    if (!this.stream.writableEnded || !this.uploading()) this.stream.resume();
    else if (this.trailersDue) this.stopUploadAfterTrailers = true;
    else this.stopUpload();
  }

  private stopUpload(): void {
    if (this.uploading()) this.stream.close(constants.NGHTTP2_NO_ERROR);
  }
}

/** HTTP/2 may split Cookie into several fields; any other hop needs one (RFC 9113 section 8.2.3). */
function joinCookies(headers: Header[]): Header[] {
  const cookies = headers.filter((h) => h.name.toLowerCase() === 'cookie');
  if (cookies.length < 2) return headers;
  const joined = { name: 'cookie', value: cookies.map((h) => h.value).join('; ') };
  return [...headers.filter((h) => h.name.toLowerCase() !== 'cookie'), joined];
}

/** respond()'s options: Node honours sendDate there too (@types/node does not list it). */
export type RespondOptions = ServerStreamResponseOptions & { sendDate?: boolean };

/** A trailers-only gRPC answer of the edge's own: no Date, which a caller would read as the service's metadata. */
export const grpcTrailersOnly: RespondOptions = { endStream: true, sendDate: false };
