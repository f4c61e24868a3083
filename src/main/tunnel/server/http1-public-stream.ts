// A public HTTP/1.1 request and its response as a PublicStream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Header } from '../../gen/burrow/v1/tunnel.js';
import { writableSink, type ItemSink } from '../flow-control.js';
import { allowedInTrailers, headersFromRaw, headersToObject, headersToRaw, headerValue } from '../headers.js';
import { closeAfterAnswer } from './closing-connections.js';
import { respondWithError } from './public-errors.js';
import type { PublicRequestHead, PublicStream } from './public-stream.js';
import { fieldBytes } from './request-head-size.js';
import { cutWhenUnread } from './unread-answer.js';

export class Http1PublicStream implements PublicStream {
  readonly head: PublicRequestHead;
  readonly bodyLength: number;
  readonly sink: ItemSink<Buffer>;
  /** The 100 (Continue) is written. */
  private continued = false;
  /** The response's body is framed by the connection's close (no length, no chunks). */
  private framedByClose = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    /** Where the request goes, as the edge rules resolved it (absolute-form targets included). */
    target: { host: string; path: string },
    /** Trailers are held to this, as the head is (request-head-size.ts); Node's own limit leaves room for a hop's fields. */
    private readonly maxTrailerBytes: number,
  ) {
    const headers = headersFromRaw(req.rawHeaders).map((h) => (h.name.toLowerCase() === 'host' ? { name: h.name, value: target.host } : h));
    if (target.host !== '' && headerValue(headers, 'host') === undefined) headers.unshift({ name: 'Host', value: target.host });
    this.head = {
      method: req.method ?? 'GET',
      path: target.path,
      headers,
      remoteAddress: req.socket.remoteAddress ?? '',
      scheme: 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http',
      httpVersion: req.httpVersion,
    };
    this.bodyLength = req.headers['transfer-encoding'] === undefined ? Number(req.headers['content-length'] ?? 0) : NaN;
    this.sink = writableSink(res);
    // Only a chunked body has trailers.
    if (Number.isNaN(this.bodyLength)) req.once('end', () => this.closeIfTrailersSay());
  }

  get body(): IncomingMessage {
    return this.req;
  }

  trailers(): Header[] {
    return headersFromRaw(this.req.rawTrailers);
  }

  trailersRefused(): string | undefined {
    return fieldBytes(this.req.rawTrailers) < this.maxTrailerBytes ? undefined : `the request trailers are over the ${this.maxTrailerBytes} bytes limit`;
  }

  bodyComplete(): boolean {
    return this.req.complete;
  }

  inform(status: number, headers: Header[]): void {
    // Not to an HTTP/1.0 client (RFC 9110 section 15.2), nor once the final head is out.
    if (this.req.httpVersionMinor === 0 || this.res.headersSent) return;
    try {
      // Node writes 1xx heads only through these; others are dropped, as Node's own server would never send them.
      if (status === 103) this.res.writeEarlyHints(earlyHints(headers));
      else if (status === 102) this.res.writeProcessing();
      // The service's go-ahead for a body the client holds (Expect: 100-continue), once; Node's own server sends no other 100.
      else if (status === 100 && this.req.headers.expect !== undefined && !this.continued) {
        this.continued = true;
        this.res.writeContinue();
      }
    } catch {
      // Hints Node will not write (a malformed Link): the final answer is what matters.
    }
  }

  respond(status: number, statusMessage: string, headers: Header[], wholeBody?: Buffer): void {
    // A body the head does not frame (no length): Node frames it, with chunks, or to an HTTP/1.0 client with the close.
    const unframed = wholeBody === undefined && !this.bodiless(status) && headerValue(headers, 'content-length') === undefined;
    // Chunks are the only HTTP/1.1 framing that carries trailers: Node refuses a `Trailer` header on any other response (RFC 9112 section 7.1.2).
    const kept = unframed && this.req.httpVersion !== '1.0' ? headers : headers.filter((h) => h.name.toLowerCase() !== 'trailer');
    // A reason Node refuses to write (not Latin-1 once decoded) gives way to the status's own: the status is what matters.
    this.res.writeHead(status, statusMessage !== '' && !unwritableReason.test(statusMessage) ? statusMessage : undefined, headersToRaw(kept));
    // Node framed the head just now: with chunks, or not (an HTTP/1.0 client), when the close ends the body.
    this.framedByClose = unframed && !this.res.chunkedEncoding;
    if (wholeBody !== undefined) this.res.end(wholeBody.length > 0 ? wholeBody : undefined);
    else this.res.flushHeaders();
  }

  end(trailers: Header[]): void {
    const kept = trailers.filter((h) => allowedInTrailers(h.name));
    if (kept.length > 0) this.res.addTrailers(kept.map((h): [string, string] => [h.name, h.value]));
    this.res.end();
  }

  cutIfUnread(idleMs: number): void {
    cutWhenUnread(this.res, idleMs, () => {
      // Pipelined behind an answer not yet out: watched again once it has the connection.
      if (this.res.socket === null) this.res.once('socket', () => this.cutIfUnread(idleMs));
      else this.res.socket.destroy();
    });
  }

  fail(code: string, message: string, retryAfterSeconds?: number): void {
    // A body we did not read to its end must not be parsed as the next request.
    if (!this.req.complete) closeAfterAnswer(this.req, this.res);
    // Cut with a close, a body the close frames would end there as if whole
    // (curl -0 took 15 of 64 MiB for all; nginx speaks HTTP/1.0 to its
    // upstreams by default): a reset says it failed. Others show a close
    // short of their length or last chunk; a reset might lose what the
    // client has yet to read. Over TLS a close without close_notify says so.
    const socket = this.res.socket;
    if (this.res.headersSent && this.framedByClose && socket instanceof Socket && !(socket instanceof TLSSocket) && !socket.destroyed) {
      socket.resetAndDestroy();
      return;
    }
    respondWithError(this.res, code, message, retryAfterSeconds);
  }

  onGone(listener: () => void): void {
    this.res.once('close', () => {
      if (!this.res.writableFinished) listener();
    });
  }

  onProgress(listener: () => void): void {
    this.res.on('drain', listener);
  }

  discardBody(): void {
    if (!this.req.complete) this.req.resume();
  }

  /**
   * `Connection: close` in the request's trailers (RFC 9112 section 9.6):
   * Node decides keep-alive from the head, and its parser takes nothing more
   * on the connection, so a request sent after the answer got none and the
   * connection stayed open for the idle timeout.
   */
  private closeIfTrailersSay(): void {
    const raw = this.req.rawTrailers;
    let closes = false;
    for (let i = 0; i < raw.length && !closes; i += 2) closes = raw[i]!.toLowerCase() === 'connection' && /(^|,)\s*close\s*(,|$)/i.test(raw[i + 1]!);
    if (!closes) return;
    if (!this.res.headersSent) closeAfterAnswer(this.req, this.res);
    else if (this.res.writableFinished) this.req.socket.end();
    else this.res.once('finish', () => this.req.socket.end());
  }

  private bodiless(status: number): boolean {
    return this.req.method === 'HEAD' || status === 204 || status === 304;
  }
}

/** Hints as writeEarlyHints takes them: each link on its own (Node checks one link per value; a service may have sent them joined by commas). */
function earlyHints(headers: Header[]): Record<string, string | string[]> & { link: string[] } {
  const hints: Record<string, string | string[]> & { link: string[] } = { link: [] };
  for (const [name, value] of Object.entries(headersToObject(headers))) {
    if (name === 'link') hints.link.push(...(Array.isArray(value) ? value : [value]).flatMap((joined) => joined.split(/,\s*(?=<)/)));
    else hints[name] = value;
  }
  return hints;
}

/** What Node's writeHead refuses in a reason phrase (checkInvalidHeaderChar in lib/_http_common.js). */
const unwritableReason = /[^\t\x20-\x7e\x80-\xff]/;
