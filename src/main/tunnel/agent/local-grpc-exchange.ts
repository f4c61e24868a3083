// A public gRPC call (or any HTTP/2 request to a gRPC tunnel) forwarded by
// the agent as an HTTP/2 stream to the local service: headers, messages and
// trailers pass through unchanged; a reset from the server (caller
// cancelled, deadline) cancels the local stream. The local stream closing
// is not the end of the exchange: its response may still wait for credit.
import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ProtocolType, type Header, type RequestHead } from '../../gen/burrow/v1/tunnel.js';
import type { FlowDirection, TrafficEvent } from '../../../shared/traffic.js';
import { ErrorCode } from '../errors.js';
import { Exchange, type ExchangeFailure } from '../exchange.js';
import type { ItemSink } from '../flow-control.js';
import { percentEncodeGrpcMessage } from '../grpc-message-encoding.js';
import { GrpcMessageSplitter } from '../grpc-message-splitter.js';
import { headersFromHttp2Raw, headersToObject, headerValue } from '../headers.js';
import { noBody } from '../messages.js';
import { ExchangeTraffic } from './exchange-traffic.js';
import type { Http2SessionPool } from './http2-session-pool.js';
import { describeLocalError } from './local-errors.js';
import type { DataLink, LocalExchangeContext } from './local-exchange-context.js';
import { formatLocalTarget, type LocalTarget } from './local-target.js';
import { ReplayableRequestBody } from './replayable-request-body.js';
import { stalledSessionCode } from './session-stall-watch.js';

export class LocalGrpcExchange extends Exchange {
  private stream: ClientHttp2Stream | undefined;
  private requestTrailers: Header[] = [];
  private responded = false;
  /** The local response's last byte has been read: whatever closes now, nothing is lost. */
  private responseRead = false;
  private responseTrailers: Header[] = [];
  /** The local connection went away mid-response: what came is relayed, then the call fails. */
  private cutShort = false;
  /** The service reset the stream mid-response with this code: what came is relayed, then the status the code gives. */
  private resetMidResponse: number | undefined;
  private trailersReceived = false;
  /** The request body, unless the head ended the request. */
  private body: ReplayableRequestBody | undefined;
  /** The service refused the first stream and the call went again on another. */
  private sentAgain = false;
  private readonly traffic: ExchangeTraffic;
  /** Message boundaries for the inspector; only for gRPC bodies. */
  private readonly splitters: Record<FlowDirection, GrpcMessageSplitter> | undefined;

  private readonly head: RequestHead;
  private readonly target: LocalTarget;
  private readonly emit: (event: TrafficEvent) => void;
  /** What the edge takes: interim (1xx) answers, 100 (Continue) among them (edges before it failed the request on one). */
  private readonly link: DataLink;

  constructor(
    context: LocalExchangeContext,
    private readonly pool: Http2SessionPool,
  ) {
    super(context.requestId, ProtocolType.PROTOCOL_TYPE_GRPC, context.link, context.ended);
    ({ head: this.head, target: this.target, emit: this.emit } = context);
    this.link = context.link;
    const { head } = context;
    this.traffic = this.observer = new ExchangeTraffic(context.requestId, context.emit);
    const isGrpc = (headerValue(head.headers, 'content-type') ?? '').startsWith('application/grpc');
    this.splitters = isGrpc ? { 'to-service': this.splitter('to-service'), 'to-client': this.splitter('to-client') } : undefined;
  }

  start(): void {
    const { head, target } = this;
    this.traffic.started(head, this.splitters === undefined ? 'http' : 'grpc');
    if (!head.endStream) {
      // The body may come before the stream exists (a new connection's settings are not in yet, http2-session-pool.ts).
      const body = (this.body = new ReplayableRequestBody());
      this.receiveRequestBody(body.sink, () => body.end());
    }
    this.pool.whenSettled(target, (session, error) => this.open(session, error));
  }

  private open(session: ClientHttp2Session, error: Error | undefined): void {
    if (!this.isOpen) return;
    const { head, target, body } = this;
    const where = `local service at ${formatLocalTarget(target)}`;
    if (error !== undefined) {
      this.fail(ErrorCode.LocalUnreachable, `${where}: ${describeLocalError(error as NodeJS.ErrnoException)}`, true);
      return;
    }
    if (this.sentAgain && body !== undefined && !body.replayable) {
      // More of the body came while a new connection was set up than can be sent again (replayable-request-body.ts).
      const message = `${where}: stream refused (RST_STREAM REFUSED_STREAM), and too much of the request had come to send it again`;
      if (this.isGrpcCall) this.endWithGrpcStatus(GrpcStatus.UNAVAILABLE, message);
      else this.fail(ErrorCode.LocalUnreachable, message, true);
      return;
    }
    let stream: ClientHttp2Stream;
    try {
      // Pseudo-headers set on the head's own object, not a `{ ...copy, more }` literal, which keeps young objects alive (test/unit/spread-copies.test.ts).
      const headers: OutgoingHttpHeaders = headersToObject(head.headers);
      headers[':method'] = head.method;
      headers[':path'] = head.path;
      headers.te = 'trailers';
      if (target.authority !== undefined) headers[':authority'] = target.authority;
      stream = this.pool.request(session, headers, { endStream: head.endStream, waitForTrailers: !head.endStream });
    } catch (error) {
      this.fail(ErrorCode.LocalUnreachable, `${where}: ${(error as Error).message}`, true);
      return;
    }
    this.stream = stream;
    // Events of a stream that was refused and opened again are the old stream's: not this call's any more.
    const current = (): boolean => this.stream === stream;
    // Metadata from the raw list: Node's header object joins a repeated key's values with ", " (a -bin key's values then decode to nothing).
    stream.on('response', (headers: IncomingHttpHeaders, flags: number, raw: string[]) => current() && this.onResponse(headers, flags, raw));
    // 1xx before the answer (100 Continue, 103 Early Hints), passed on as they came, as an HTTP tunnel does: a client
    // holding its body for 100 Continue waited for nothing.
    stream.on('headers', (headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
      const status = Number(headers[':status']);
      if (!current() || this.responded || !this.isOpen || !this.link.takesInterimResponses || !(status >= 100 && status < 200)) return;
      if (status === 100 && !this.link.takesContinue) return;
      this.send({ $case: 'responseHead', value: { status, statusMessage: '', headers: headersFromHttp2Raw(raw), endStream: false, body: noBody } });
    });
    stream.on('trailers', (_headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
      if (!current()) return;
      this.trailersReceived = true;
      this.responseTrailers = headersFromHttp2Raw(raw);
    });
    stream.on('wantTrailers', () => stream.sendTrailers(headersToObject(this.requestTrailers)));
    stream.once('end', () => {
      if (!current()) return;
      if (this.trailersReceived) {
        this.responseRead = true;
        return;
      }
      // A reset before any answer (RST_STREAM(NO_ERROR) ends the stream too) is told on close.
      if (!this.responded) return;
      // What came until then goes on, then the call fails as it would directly:
      // Node also ends the streams of a connection that is gone (with CANCEL),
      // and a stream the service reset mid-response (CANCEL) while it was read.
      // A call reset with NO_ERROR after messages and before trailers has no status: grpc-js and grpcio read
      // INTERNAL from the reset, but the empty end passed on made grpcio say UNKNOWN; a plain answer so cut is
      // reset with NO_ERROR at the client too (it went on as ended). A stream that ended with END_STREAM is not
      // closed yet when its body ends, a RST_STREAM(NO_ERROR) after it included (RFC 9113 section 8.1); a reset one is.
      if (session.destroyed) this.cutShort = true;
      else if ((stream.rstCode ?? constants.NGHTTP2_NO_ERROR) !== constants.NGHTTP2_NO_ERROR) this.resetMidResponse = stream.rstCode;
      else if (stream.closed) this.resetMidResponse = constants.NGHTTP2_NO_ERROR;
      else this.responseRead = true;
    });
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (!current() || this.sendAgainIfRefused(stream)) return;
      const reset = this.isGrpcCall ? grpcStatusForReset(error, stream.rstCode) : undefined;
      if (reset !== undefined && !this.responseRead) this.endWithGrpcStatus(reset.status, `${where}: ${reset.message}`);
      // The service's reset goes on with its code, before its head too (a client may send a refused stream again);
      // a connection lost or refused (its streams end with CANCEL) with none: a 502, or the answer cut.
      const serviceReset = error.code === 'ERR_HTTP2_STREAM_ERROR' && !session.destroyed ? stream.rstCode : undefined;
      if (!this.responded) this.fail(ErrorCode.LocalUnreachable, `${where}: ${describeLocalError(error)}`, true, serviceReset);
      else if (!this.responseRead) this.fail(ErrorCode.LocalFailed, `${where} failed mid-call: ${describeLocalError(error)}`, true, serviceReset);
    });
    stream.on('close', () => {
      if (!current() || this.responseRead || this.cutShort || this.resetMidResponse !== undefined || this.sendAgainIfRefused(stream)) return;
      // After a complete response (RST_STREAM(NO_ERROR) included, RFC 9113 section 8.1) the rest still drains to the server.
      if (session.destroyed) {
        // Its streams end with CANCEL, but nobody cancelled: a caller sees the connection lost, UNAVAILABLE, as directly.
        const message = `${where}: the connection to it was lost${this.responded ? ' mid-call' : ' before it answered'}`;
        if (this.isGrpcCall) this.endWithGrpcStatus(GrpcStatus.UNAVAILABLE, message);
        else this.fail(this.responded ? ErrorCode.LocalFailed : ErrorCode.LocalUnreachable, message, true);
        return;
      }
      const reset = this.isGrpcCall ? grpcStatusForReset(undefined, stream.rstCode) : undefined;
      if (reset !== undefined) this.endWithGrpcStatus(reset.status, `${where}: ${reset.message}`);
      else this.fail(ErrorCode.LocalFailed, `${where} reset the call (code ${stream.rstCode})`, true, stream.rstCode);
    });
    if (body === undefined) return;
    if (this.sentAgain) body.reopen(stream);
    else body.open(stream);
  }

  /**
   * A stream the service refused before answering (REFUSED_STREAM: it was not
   * processed) is opened again, once, with the whole request body, as grpc-js
   * does by itself when calling the service directly (a transparent retry);
   * the second refusal ends the call. Whether it is sent again.
   */
  private sendAgainIfRefused(stream: ClientHttp2Stream): boolean {
    if (this.sentAgain || this.responded || !this.isOpen || stream.rstCode !== constants.NGHTTP2_REFUSED_STREAM) return false;
    if (this.body !== undefined && !this.body.replayable) return false;
    this.sentAgain = true;
    // The refused stream's later events (its close, after a GOAWAY the new connection's wait) are no longer this call's.
    this.stream = undefined;
    this.body?.detach();
    this.pool.whenSettled(this.target, (session, error) => this.open(session, error));
    return true;
  }

  /** Takes the request body the edge streams into `sink`; `end` after its last chunk and trailers. */
  private receiveRequestBody(sink: ItemSink<Buffer>, end: () => void): void {
    this.receiveBody(
      sink,
      (trailers) => {
        this.requestTrailers = trailers;
        this.traffic.trailers('to-service', trailers);
        end();
      },
      (data) => {
        this.traffic.body('to-service', data, true);
        this.splitters?.['to-service'].push(data);
      },
    );
  }

  private onResponse(headers: IncomingHttpHeaders, flags: number, raw: string[]): void {
    this.responded = true;
    this.body?.commit();
    const status = Number(headers[':status'] ?? 200);
    const pairs = headersFromHttp2Raw(raw);
    const trailersOnly = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    this.traffic.responded(status, pairs);
    this.send({ $case: 'responseHead', value: { status, statusMessage: '', headers: pairs, endStream: trailersOnly, body: noBody } });
    if (trailersOnly) {
      // Recorded once, as the response headers they arrived as (grpc-status among them), not again as trailers.
      this.responseRead = true;
      this.finish();
      return;
    }
    this.streamBody(
      this.stream!,
      () => {
        const where = `local service at ${formatLocalTarget(this.target)}`;
        if (this.cutShort) {
          this.fail(ErrorCode.LocalFailed, `${where} failed mid-call: the connection to it was lost`, true);
          return;
        }
        if (this.resetMidResponse !== undefined) {
          const reset = this.isGrpcCall ? grpcStatusForReset(undefined, this.resetMidResponse) : undefined;
          if (reset !== undefined) this.endWithGrpcStatus(reset.status, `${where}: ${reset.message}`);
          else this.fail(ErrorCode.LocalFailed, `${where} reset the call (code ${this.resetMidResponse})`, true, this.resetMidResponse);
          return;
        }
        this.traffic.trailers('to-client', this.responseTrailers);
        this.send({ $case: 'trailers', value: { headers: this.responseTrailers } });
        this.finish();
      },
      (parts) => {
        for (const data of parts) {
          this.traffic.body('to-client', data, true);
          this.splitters?.['to-client'].push(data);
        }
        return true;
      },
    );
  }

  /** The request is a gRPC call (not any HTTP/2 request to a gRPC tunnel): its failures are told as gRPC statuses. */
  private get isGrpcCall(): boolean {
    return this.splitters !== undefined;
  }

  /** Ends the call with the status a gRPC client reads from the service's reset: in trailers, or trailers only. */
  private endWithGrpcStatus(status: number, message: string): void {
    if (!this.isOpen) return;
    const headers: Header[] = [
      { name: 'grpc-status', value: String(status) },
      { name: 'grpc-message', value: percentEncodeGrpcMessage(message) },
    ];
    this.responseRead = true;
    if (this.responded) {
      this.send({ $case: 'trailers', value: { headers } });
    } else {
      this.responded = true;
      headers.unshift({ name: 'content-type', value: 'application/grpc' });
      // Made up from the reset or the lost connection: the service sent no head.
      this.traffic.responded(200, headers, true);
      this.send({ $case: 'responseHead', value: { status: 200, statusMessage: '', headers, endStream: true, body: noBody } });
    }
    this.finish();
  }

  private splitter(direction: FlowDirection): GrpcMessageSplitter {
    return new GrpcMessageSplitter((m) =>
      this.emit({ kind: 'grpc-message', requestId: this.requestId, direction, index: m.index, size: m.size, compressed: m.compressed, data: m.data, at: Date.now() }),
    );
  }

  protected release(failure: ExchangeFailure | undefined): void {
    this.body?.commit();
    if (this.stream === undefined || this.stream.closed) return;
    // A public client's own reset comes with its code, which the service hears as it would from that client directly.
    if (failure !== undefined) this.stream.close(failure.http2ErrorCode ?? constants.NGHTTP2_CANCEL);
    // A complete response while the request had more to send: the rest will not come now.
    else if (this.receivingBody) this.stream.close(constants.NGHTTP2_NO_ERROR);
  }
}

/**
 * The status a gRPC client calling the service directly would end with when
 * the service resets the call's stream (or its connection, with an error
 * code), as grpc-js reads RST_STREAM codes: not UNAVAILABLE for all, which
 * clients retry as safe. Undefined for other failures (refused
 * connections), which stay the tunnel's own.
 */
export function grpcStatusForReset(error: NodeJS.ErrnoException | undefined, rstCode: number | undefined): { status: number; message: string } | undefined {
  if (error?.code === 'ERR_HTTP2_SESSION_ERROR' || error?.code === stalledSessionCode) return { status: GrpcStatus.INTERNAL, message: error.message };
  if (error !== undefined && error.code !== 'ERR_HTTP2_STREAM_ERROR') return undefined;
  switch (rstCode) {
    case undefined:
      return undefined;
    case constants.NGHTTP2_REFUSED_STREAM:
      return { status: GrpcStatus.UNAVAILABLE, message: 'stream refused (RST_STREAM REFUSED_STREAM)' };
    case constants.NGHTTP2_CANCEL:
      return { status: GrpcStatus.CANCELLED, message: 'call cancelled (RST_STREAM CANCEL)' };
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return { status: GrpcStatus.RESOURCE_EXHAUSTED, message: 'bandwidth exhausted or memory limit exceeded (RST_STREAM ENHANCE_YOUR_CALM)' };
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return { status: GrpcStatus.PERMISSION_DENIED, message: 'protocol not secure enough (RST_STREAM INADEQUATE_SECURITY)' };
    case constants.NGHTTP2_NO_ERROR:
      return { status: GrpcStatus.INTERNAL, message: 'call ended without gRPC status (RST_STREAM NO_ERROR)' };
    default:
      return { status: GrpcStatus.INTERNAL, message: `received RST_STREAM with code ${rstCode}` };
  }
}

