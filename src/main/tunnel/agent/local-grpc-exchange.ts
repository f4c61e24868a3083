// A public gRPC call forwarded by the agent as an HTTP/2 stream to the local
// service: headers, messages and trailers pass through unchanged; a reset
// from the server (caller cancelled, deadline) cancels the local stream.
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { ProtocolType, type Header, type RequestHead, type TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import type { FlowDirection } from '../../../shared/traffic.js';
import { ErrorCode, TunnelError } from '../errors.js';
import { CreditedReceiver, CreditedSender, writableSink } from '../flow-control.js';
import { GrpcMessageSplitter } from '../grpc-message-splitter.js';
import { headersToObject, isHttp2HopHeader } from '../headers.js';
import { dataMessage, noBody, resetMessage } from '../messages.js';
import type { DataLink, LocalExchange } from './data-link.js';
import type { Http2SessionPool } from './http2-session-pool.js';
import { ExchangeTraffic, headerPairs } from './exchange-traffic.js';
import { describeLocalError } from './local-errors.js';
import { formatLocalTarget, type LocalTarget } from './local-target.js';

const grpc = ProtocolType.PROTOCOL_TYPE_GRPC;

export class LocalGrpcExchange implements LocalExchange {
  private stream: ClientHttp2Stream | undefined;
  private upload: CreditedReceiver | undefined;
  private download: CreditedSender | undefined;
  private responded = false;
  private trailers: Header[] = [];
  private readonly traffic: ExchangeTraffic;
  private done = false;
  private readonly toService: GrpcMessageSplitter;
  private readonly toClient: GrpcMessageSplitter;

  constructor(
    private readonly requestId: string,
    private readonly head: RequestHead,
    private readonly target: LocalTarget,
    private readonly link: DataLink,
    private readonly pool: Http2SessionPool,
    private readonly onDone: () => void,
  ) {
    this.traffic = new ExchangeTraffic(requestId, link.traffic);
    this.toService = this.splitter('to-service');
    this.toClient = this.splitter('to-client');
  }

  start(): void {
    const { head, target } = this;
    this.traffic.started(head, 'grpc');
    let stream: ClientHttp2Stream;
    try {
      stream = this.pool.get(target).request(
        { ...headersToObject(head.headers), ':method': head.method, ':path': head.path, te: 'trailers' },
        { endStream: head.endStream },
      );
    } catch (error) {
      this.fail(ErrorCode.LocalUnreachable, `local service at ${formatLocalTarget(target)}: ${(error as Error).message}`, true);
      return;
    }
    this.stream = stream;
    stream.on('response', (headers: IncomingHttpHeaders, flags: number) => this.onResponse(headers, flags));
    stream.on('trailers', (headers: IncomingHttpHeaders) => (this.trailers = fromHttp2Headers(headers)));
    stream.on('error', (error: NodeJS.ErrnoException) => {
      const where = `local service at ${formatLocalTarget(target)}`;
      if (!this.responded) this.fail(ErrorCode.LocalUnreachable, `${where}: ${describeLocalError(error)}`, true);
      else this.fail(ErrorCode.LocalFailed, `${where} failed mid-call: ${describeLocalError(error)}`, true);
    });
    stream.on('close', () => {
      if (!this.done) this.fail(ErrorCode.LocalFailed, `local service at ${formatLocalTarget(target)} reset the call (code ${stream.rstCode})`, true);
    });
    if (!head.endStream) {
      this.upload = new CreditedReceiver(writableSink(stream), this.link.windowBytes, (bytes) =>
        this.link.send(dataMessage(this.requestId, grpc, { $case: 'windowUpdate', value: { bytes } })),
      );
    }
  }

  onServerMessage(message: TunnelMessage): void {
    if (this.done) return;
    const payload = message.payload;
    try {
      switch (payload?.$case) {
        case 'bodyChunk': {
          if (this.upload === undefined) throw new TunnelError(ErrorCode.Protocol, 'request body after end of stream');
          const { data, endStream } = payload.value;
          if (data.length > 0) {
            this.traffic.body('to-service', data, true);
            this.toService.push(data);
            this.upload.write(data, data.length);
          }
          if (endStream) {
            this.stream?.end();
            this.upload = undefined;
          }
          return;
        }
        case 'windowUpdate':
          this.download?.grant(payload.value.bytes);
          return;
        case 'reset':
          this.fail(payload.value.code, payload.value.message, false);
          return;
        default:
          throw new TunnelError(ErrorCode.Protocol, `unexpected ${payload?.$case ?? 'empty'} message on a gRPC call`);
      }
    } catch (error) {
      const code = error instanceof TunnelError ? error.code : ErrorCode.Protocol;
      this.fail(code, (error as Error).message, true);
    }
  }

  abort(code: string, message: string): void {
    this.fail(code, message, false);
  }

  private onResponse(headers: IncomingHttpHeaders, flags: number): void {
    this.responded = true;
    const status = Number(headers[':status'] ?? 200);
    const pairs = fromHttp2Headers(headers);
    const trailersOnly = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    this.traffic.responded(status, pairs);
    this.link.send(dataMessage(this.requestId, grpc, { $case: 'responseHead', value: { status, statusMessage: '', headers: pairs, endStream: trailersOnly, body: noBody } }));
    if (trailersOnly) {
      this.link.traffic({ kind: 'trailers', requestId: this.requestId, headers: headerPairs(pairs), at: Date.now() });
      this.finish();
      return;
    }
    this.download = new CreditedSender(this.stream!, this.link.windowBytes, {
      chunk: (data) => {
        this.traffic.body('to-client', data, true);
        this.toClient.push(data);
        this.link.send(dataMessage(this.requestId, grpc, { $case: 'bodyChunk', value: { data, endStream: false } }));
      },
      end: () => {
        this.link.traffic({ kind: 'trailers', requestId: this.requestId, headers: headerPairs(this.trailers), at: Date.now() });
        this.link.send(dataMessage(this.requestId, grpc, { $case: 'trailers', value: { headers: this.trailers } }));
        this.finish();
      },
    });
  }

  private splitter(direction: FlowDirection): GrpcMessageSplitter {
    return new GrpcMessageSplitter((m) =>
      this.link.traffic({ kind: 'grpc-message', requestId: this.requestId, direction, index: m.index, size: m.size, compressed: m.compressed, data: m.data, at: Date.now() }),
    );
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.traffic.ended();
    this.onDone();
  }

  private fail(code: string, message: string, tellServer: boolean): void {
    if (this.done) return;
    this.done = true;
    if (tellServer) this.link.send(resetMessage(this.requestId, grpc, code, message));
    this.download?.stop();
    if (this.stream !== undefined && !this.stream.closed) this.stream.close(constants.NGHTTP2_CANCEL);
    this.traffic.failed(code, message);
    this.onDone();
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
