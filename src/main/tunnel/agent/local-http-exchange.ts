// One public request forwarded by the agent to the local HTTP/1.1 service,
// with both bodies (and their trailers) streamed under per-request credit.
import { Readable } from 'node:stream';
import { ProtocolType, type Header, type RequestHead } from '../../gen/burrow/v1/tunnel.js';
import { inlineBodyMaxBytes } from '../config.js';
import { ErrorCode, BurrowError } from '../errors.js';
import { Exchange, type ExchangeFailure } from '../exchange.js';
import type { ItemSink } from '../flow-control.js';
import { isForwardedField } from '../forwarded-field-names.js';
import { headersFromRaw, headersToRaw, headerValue, rawHeaderValue } from '../headers.js';
import { noBody } from '../messages.js';
import { ExchangeTraffic } from './exchange-traffic.js';
import { answeredOtherThanHttp1, describeLocalError } from './local-errors.js';
import type { DataLink, LocalExchangeContext } from './local-exchange-context.js';
import { responseCutCode, type LocalHttpClient, type LocalResponseHandler } from './local-http-client.js';
import { formatLocalTarget, type LocalTarget } from './local-target.js';

/** The local service's response head, kept until the message that carries it is sent. */
interface LocalResponseHead {
  status: number;
  statusMessage: string;
  headers: Header[];
}

export class LocalHttpExchange extends Exchange {
  /** Fed by the server's body chunks, read by the local client. */
  private requestBody: Readable | undefined;
  private requestTrailers: Header[] = [];
  /** Fed by the local client, streamed to the server; undefined while collecting a small body. */
  private responseBody: Readable | undefined;
  private collected: Buffer[] | undefined;
  private responseHead: LocalResponseHead | undefined;
  private responseTrailers: string[] = [];
  private abortLocal: ((error: Error) => void) | undefined;
  private resumeLocal: (() => void) | undefined;
  private readonly traffic: ExchangeTraffic;
  private readonly head: RequestHead;
  private readonly target: LocalTarget;
  private readonly link: DataLink;

  constructor(
    context: LocalExchangeContext,
    private readonly client: LocalHttpClient,
  ) {
    super(context.requestId, ProtocolType.PROTOCOL_TYPE_HTTP, context.link, context.ended);
    ({ head: this.head, target: this.target } = context);
    this.traffic = this.observer = new ExchangeTraffic(context.requestId, context.emit);
    this.link = context.link;
  }

  start(): void {
    const { head } = this;
    this.traffic.started(head, 'http');
    // Expect: 100-continue goes on for the service to answer, where the server takes its 100 (an older one answered the client
    // itself) and the body is still to come: a whole one needs no go-ahead, and goes by the pool, which may send it again.
    // A client's own X-Forwarded-* and the like, where an older server let them through.
    const expects = headerValue(head.headers, 'expect') !== undefined;
    const awaitsContinue = expects && this.link.takesContinue && !head.endStream;
    const { vouchesForwardedFields } = this.link;
    const kept = (expects && !awaitsContinue) || !vouchesForwardedFields ? head.headers.filter((h) => (awaitsContinue || h.name.toLowerCase() !== 'expect') && (vouchesForwardedFields || !isForwardedField(h.name))) : head.headers;
    const headers = headersToRaw(kept);
    headers.push('X-Forwarded-For', head.remoteAddress, 'X-Forwarded-Proto', head.scheme || 'http');
    const host = headerValue(head.headers, 'host');
    if (host !== undefined) headers.push('X-Forwarded-Host', host);
    let body: Buffer | Readable | undefined;
    const chunked = !head.endStream && headerValue(head.headers, 'content-length') === undefined;
    if (head.endStream) {
      this.traffic.body('to-service', head.body);
      if (head.body.length > 0) body = head.body;
    } else {
      // Gathered pieces are sent together by the undici pool, which an expectation does not go through.
      body = this.streamRequestBody(!chunked && this.client.writesTogether && !awaitsContinue);
    }
    this.client.dispatch(this.target, { method: head.method, path: head.path, headers, body, chunked, trailers: () => this.requestTrailers, awaitsContinue }, this.handler);
  }

  /**
   * A readable the local client pulls the request body from; credit goes back
   * as it drains. With `inPieces`, a gathered body chunk is pushed piece by
   * piece (the client sends them together) instead of joined.
   */
  private streamRequestBody(inPieces: boolean): Readable {
    // Chunks pushed past the stream's high-water mark: their credit goes back once the client reads on.
    let waiting: (() => void)[] = [];
    const body = new Readable({
      read: () => {
        const drained = waiting;
        waiting = [];
        for (const done of drained) done();
      },
    });
    this.requestBody = body;
    const sink: ItemSink<Buffer> = (data, done) => {
      if (body.push(data)) done();
      else waiting.push(done);
    };
    if (inPieces) {
      sink.batch = (write) => this.client.writeTogether(this.target, write);
      sink.takesBatchOf = (length) => this.client.writesTogetherCheaply(this.target, length);
    }
    this.receiveBody(
      sink,
      (trailers) => {
        this.requestTrailers = trailers;
        this.traffic.trailers('to-service', trailers);
        body.push(null);
      },
      (data) => this.traffic.body('to-service', data),
    );
    return body;
  }

  // The local client's callbacks: the whole life of the local request.
  private readonly handler: LocalResponseHandler = {
    onConnect: (abort) => {
      if (this.isOpen) this.abortLocal = abort;
      else abort(new Error('request ended'));
    },
    onInterim: (status, rawHeaders, statusMessage) => {
      // Passed on as it came (103 Early Hints lets the client preload while the service works), where the server takes it.
      if (!this.isOpen || !this.link.takesInterimResponses) return;
      this.send({ $case: 'responseHead', value: { status, statusMessage, headers: headersFromRaw(rawHeaders), endStream: false, body: noBody } });
    },
    onHeaders: (status, rawHeaders, resume, statusMessage) => {
      if (!this.isOpen) return;
      this.resumeLocal = resume;
      this.onLocalResponse(status, statusMessage, rawHeaders);
    },
    onData: (chunk) => {
      if (!this.isOpen) return true;
      if (this.collected !== undefined) {
        this.collected.push(chunk);
        return true;
      }
      return this.responseBody?.push(chunk) ?? true;
    },
    onComplete: (trailers) => this.onLocalEnd(trailers),
    onError: (error) => this.onLocalError(error),
  };

  private onLocalResponse(status: number, statusMessage: string, rawHeaders: string[]): void {
    const coding = rawHeaderValue(rawHeaders, 'transfer-encoding');
    if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked') {
      // gzip and the like are hop-by-hop and nobody here decodes them: passed on, the client would get coded bytes it was never told of.
      this.fail(ErrorCode.LocalFailed, `local service at ${formatLocalTarget(this.target)} answered with Transfer-Encoding: ${coding}, which the tunnel cannot carry (only chunked)`, true);
      return;
    }
    const headers = headersFromRaw(rawHeaders);
    this.traffic.responded(status, headers);
    this.responseHead = { status, statusMessage, headers };
    // headersFromRaw drops Transfer-Encoding (hop-by-hop), so ask the raw list.
    const chunked = rawHeaderValue(rawHeaders, 'transfer-encoding') !== undefined;
    const length = chunked ? NaN : Number(rawHeaderValue(rawHeaders, 'content-length') ?? NaN);
    const bodiless = this.head.method === 'HEAD' || status === 204 || status === 304 || length === 0;
    if (bodiless || length <= inlineBodyMaxBytes) {
      // Small body of known length: one message with the head, when it came with the head (undici hands over what
      // one read of the socket holds at once, before any microtask). A body still to come streams: held for it, a
      // slow 5-byte body reached the client seconds after the head would have, and a body that never came, never.
      this.collected = [];
      queueMicrotask(() => this.streamWhatIsCollected());
      return;
    }
    this.streamResponseBody();
  }

  /** A small body that did not come with its head: the head goes now, with what came, and the rest as it comes. */
  private streamWhatIsCollected(): void {
    const collected = this.collected;
    if (collected === undefined || !this.isOpen || this.responseBody !== undefined) return;
    this.collected = undefined;
    this.streamResponseBody();
    for (const chunk of collected) this.responseBody!.push(chunk);
  }

  private streamResponseBody(): void {
    this.sendResponseHead(this.responseHead!, false, noBody);
    const body = new Readable({ read: () => this.resumeLocal?.() });
    this.responseBody = body;
    this.streamBody(
      body,
      () => {
        const trailers = headersFromRaw(this.responseTrailers);
        this.traffic.trailers('to-client', trailers);
        if (trailers.length > 0) this.send({ $case: 'trailers', value: { headers: trailers } });
        else this.sendBodyEnd();
        this.finish();
      },
      (parts) => {
        for (const data of parts) this.traffic.body('to-client', data);
        return true;
      },
    );
  }

  /** Fields by name, not a `{ ...copy, more }` literal, which keeps young objects alive (test/unit/spread-copies.test.ts). */
  private sendResponseHead({ status, statusMessage, headers }: LocalResponseHead, endStream: boolean, body: Buffer): void {
    this.send({ $case: 'responseHead', value: { status, statusMessage, headers, endStream, body } });
  }

  private onLocalEnd(trailers: string[]): void {
    if (!this.isOpen) return;
    if (this.responseHead === undefined) {
      this.fail(ErrorCode.LocalFailed, `local service at ${formatLocalTarget(this.target)} ended without a response`, true);
    } else if (this.collected !== undefined) {
      const body = Buffer.concat(this.collected);
      this.collected = undefined;
      this.traffic.body('to-client', body);
      this.sendResponseHead(this.responseHead, true, body);
      this.finish();
    } else {
      // The body stream sends the end once the last byte has gone.
      this.responseTrailers = trailers;
      this.responseBody?.push(null);
    }
  }

  private onLocalError(error: NodeJS.ErrnoException): void {
    if (!this.isOpen) return;
    const where = `local service at ${formatLocalTarget(this.target)}`;
    if (this.responseHead === undefined && answeredOtherThanHttp1(error)) {
      // Still LOCAL_UNREACHABLE, which the app counts as a failing service: on an HTTP tunnel this is most often the wrong port.
      const advice = 'is it another protocol on this port? An HTTP/2-only service, such as a gRPC server, takes no HTTP/1.1 requests: call it over HTTP/2 (curl --http2-prior-knowledge, a gRPC client)';
      this.fail(ErrorCode.LocalUnreachable, `${where} answered this HTTP/1.1 request with something other than HTTP/1.1; ${advice}`, true);
    } else if (this.responseHead === undefined) {
      this.fail(ErrorCode.LocalUnreachable, `${where}: ${describeLocalError(error)}`, true);
    } else if (error.code === responseCutCode) {
      this.fail(ErrorCode.LocalFailed, `${where} closed the response before its end`, true);
    } else {
      this.fail(ErrorCode.LocalFailed, `${where} failed mid-response: ${describeLocalError(error)}`, true);
    }
  }

  protected release(failure: ExchangeFailure | undefined): void {
    // Answered before the request body ended: the rest will not come, so the local request cannot finish.
    if (failure !== undefined || this.receivingBody) this.abortLocal?.(new BurrowError(failure?.code ?? ErrorCode.ClientGone, failure?.message ?? 'answered early'));
    this.requestBody?.destroy();
    this.responseBody?.destroy();
  }
}
