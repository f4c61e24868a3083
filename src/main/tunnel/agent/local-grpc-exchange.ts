// A public gRPC call (or any HTTP/2 request to a gRPC tunnel) forwarded by
// the agent as an HTTP/2 stream to the local service: headers, messages and
// trailers pass through unchanged; a reset from the server (caller
// cancelled, deadline) cancels the local stream. The local stream closing
// is not the end of the exchange: its response may still wait for credit.
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { ProtocolType, type Header, type RequestHead } from '../../gen/burrow/v1/tunnel.js';
import type { FlowDirection, TrafficEvent } from '../../../shared/traffic.js';
import { ErrorCode } from '../errors.js';
import { Exchange, type ExchangeFailure } from '../exchange.js';
import { writableSink } from '../flow-control.js';
import { GrpcMessageSplitter } from '../grpc-message-splitter.js';
import { headersToObject, headerValue, isHttp2HopHeader } from '../headers.js';
import { noBody } from '../messages.js';
import { ExchangeTraffic, headerPairs } from './exchange-traffic.js';
import type { Http2SessionPool } from './http2-session-pool.js';
import { describeLocalError } from './local-errors.js';
import type { LocalExchangeContext } from './local-exchange-context.js';
import { formatLocalTarget, type LocalTarget } from './local-target.js';

export class LocalGrpcExchange extends Exchange {
  private stream: ClientHttp2Stream | undefined;
  private requestTrailers: Header[] = [];
  private responded = false;
  /** The local response's last byte has been read: whatever closes now, nothing is lost. */
  private responseRead = false;
  private responseTrailers: Header[] = [];
  private readonly traffic: ExchangeTraffic;
  /** Message boundaries for the inspector; only for gRPC bodies. */
  private readonly splitters: Record<FlowDirection, GrpcMessageSplitter> | undefined;

  private readonly head: RequestHead;
  private readonly target: LocalTarget;
  private readonly emit: (event: TrafficEvent) => void;

  constructor(
    context: LocalExchangeContext,
    private readonly pool: Http2SessionPool,
  ) {
    super(context.requestId, ProtocolType.PROTOCOL_TYPE_GRPC, context.link, context.ended);
    ({ head: this.head, target: this.target, emit: this.emit } = context);
    const { head } = context;
    this.traffic = this.observer = new ExchangeTraffic(context.requestId, context.emit);
    const isGrpc = (headerValue(head.headers, 'content-type') ?? '').startsWith('application/grpc');
    this.splitters = isGrpc ? { 'to-service': this.splitter('to-service'), 'to-client': this.splitter('to-client') } : undefined;
  }

  start(): void {
    const { head, target } = this;
    this.traffic.started(head, this.splitters === undefined ? 'http' : 'grpc');
    const where = `local service at ${formatLocalTarget(target)}`;
    let stream: ClientHttp2Stream;
    try {
      // Pseudo-headers set on the head's own object, not a `{ ...copy, more }` literal, which keeps young objects alive (test/unit/spread-copies.test.ts).
      const headers: OutgoingHttpHeaders = headersToObject(head.headers);
      headers[':method'] = head.method;
      headers[':path'] = head.path;
      headers.te = 'trailers';
      if (target.authority !== undefined) headers[':authority'] = target.authority;
      stream = this.pool.get(target).request(headers, { endStream: head.endStream, waitForTrailers: !head.endStream });
    } catch (error) {
      this.fail(ErrorCode.LocalUnreachable, `${where}: ${(error as Error).message}`, true);
      return;
    }
    this.stream = stream;
    stream.on('response', (headers: IncomingHttpHeaders, flags: number) => this.onResponse(headers, flags));
    stream.on('trailers', (headers: IncomingHttpHeaders) => (this.responseTrailers = fromHttp2Headers(headers)));
    stream.on('wantTrailers', () => stream.sendTrailers(headersToObject(this.requestTrailers)));
    stream.once('end', () => (this.responseRead = true));
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (!this.responded) this.fail(ErrorCode.LocalUnreachable, `${where}: ${describeLocalError(error)}`, true);
      else if (!this.responseRead) this.fail(ErrorCode.LocalFailed, `${where} failed mid-call: ${describeLocalError(error)}`, true);
    });
    stream.on('close', () => {
      // After a complete response (RST_STREAM(NO_ERROR) included, RFC 9113 section 8.1) the rest still drains to the server.
      if (!this.responseRead) this.fail(ErrorCode.LocalFailed, `${where} reset the call (code ${stream.rstCode})`, true);
    });
    if (!head.endStream) {
      this.receiveBody(
        writableSink(stream),
        (trailers) => {
          this.requestTrailers = trailers;
          stream.end();
        },
        (data) => {
          this.traffic.body('to-service', data, true);
          this.splitters?.['to-service'].push(data);
        },
      );
    }
  }

  private onResponse(headers: IncomingHttpHeaders, flags: number): void {
    this.responded = true;
    const status = Number(headers[':status'] ?? 200);
    const pairs = fromHttp2Headers(headers);
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
        this.emit({ kind: 'trailers', requestId: this.requestId, headers: headerPairs(this.responseTrailers), at: Date.now() });
        this.send({ $case: 'trailers', value: { headers: this.responseTrailers } });
        this.finish();
      },
      (data) => {
        this.traffic.body('to-client', data, true);
        this.splitters?.['to-client'].push(data);
        return true;
      },
    );
  }

  private splitter(direction: FlowDirection): GrpcMessageSplitter {
    return new GrpcMessageSplitter((m) =>
      this.emit({ kind: 'grpc-message', requestId: this.requestId, direction, index: m.index, size: m.size, compressed: m.compressed, data: m.data, at: Date.now() }),
    );
  }

  protected release(failure: ExchangeFailure | undefined): void {
    if (this.stream === undefined || this.stream.closed) return;
    if (failure !== undefined) this.stream.close(constants.NGHTTP2_CANCEL);
    // A complete response while the request had more to send: the rest will not come now.
    else if (this.receivingBody) this.stream.close(constants.NGHTTP2_NO_ERROR);
  }
}

function fromHttp2Headers(headers: IncomingHttpHeaders): Header[] {
  const pairs: Header[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (isHttp2HopHeader(name) || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) pairs.push({ name, value: String(v) });
  }
  return pairs;
}
