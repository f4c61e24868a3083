// A public gRPC call carried to the agent as a transparent HTTP/2 stream:
// no knowledge of the user's .proto; metadata, messages and trailers pass
// through unchanged, deadlines and cancellation are honoured.
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { ProtocolType, type Header, type TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import { ErrorCode, TunnelError, grpcStatusFor } from '../errors.js';
import { CreditedReceiver, CreditedSender, writableSink } from '../flow-control.js';
import { headersFromHttp2Raw, headersToObject } from '../headers.js';
import { dataMessage, noBody, resetMessage } from '../messages.js';
import type { AgentSession } from './agent-session.js';
import { guardAgentMessage, type Exchange } from './exchange.js';

const grpc = ProtocolType.PROTOCOL_TYPE_GRPC;

export class PublicGrpcExchange implements Exchange {
  private upload: CreditedSender | undefined;
  private download: CreditedReceiver | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private trailers: Record<string, string | string[]> = {};
  private done = false;

  constructor(
    readonly requestId: string,
    private readonly tunnel: string,
    private readonly session: AgentSession,
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    private readonly rawHeaders: string[],
    private readonly onDone: () => void,
  ) {}

  start(): void {
    const { stream, session } = this;
    session.exchanges.set(this.requestId, this);
    stream.on('error', () => {});
    stream.once('close', () => {
      if (!this.done) this.fail(ErrorCode.ClientGone, 'the caller cancelled the call', true);
    });
    // Trailers are sent when the local service's arrive (or ours, on failure).
    stream.on('wantTrailers', () => stream.sendTrailers(this.trailers));
    const timeoutMs = parseGrpcTimeout(this.headers['grpc-timeout']);
    const endStream = stream.readableEnded;
    const sent = session.sendData(
      dataMessage(this.requestId, grpc, {
        $case: 'requestHead',
        value: {
          tunnel: this.tunnel,
          method: String(this.headers[':method'] ?? 'POST'),
          path: String(this.headers[':path'] ?? '/'),
          headers: headersFromHttp2Raw(this.rawHeaders),
          remoteAddress: stream.session?.socket.remoteAddress ?? '',
          scheme: String(this.headers[':scheme'] ?? 'http'),
          endStream,
          timeoutMs: BigInt(timeoutMs ?? 0),
          body: noBody,
        },
      }),
    );
    if (!sent) {
      this.fail(ErrorCode.TunnelOffline, `tunnel ${this.tunnel}: the agent's data stream is down`, false);
      return;
    }
    if (timeoutMs !== undefined) {
      this.deadlineTimer = setTimeout(() => this.fail(ErrorCode.Timeout, 'deadline exceeded in the tunnel', true), timeoutMs);
    }
    if (!endStream) {
      this.upload = new CreditedSender(stream, session.config.initialWindowBytes, {
        chunk: (data) => session.sendData(dataMessage(this.requestId, grpc, { $case: 'bodyChunk', value: { data, endStream: false } })),
        end: () => session.sendData(dataMessage(this.requestId, grpc, { $case: 'bodyChunk', value: { data: noBody, endStream: true } })),
      });
    }
  }

  onAgentMessage(message: TunnelMessage): void {
    if (this.done) return;
    const payload = message.payload;
    guardAgentMessage(this.session, this.requestId, this.tunnel, () => {
      switch (payload?.$case) {
        case 'responseHead': {
          if (this.stream.headersSent) throw new TunnelError(ErrorCode.Protocol, 'second response head');
          const head = payload.value;
          if (head.status < 200 || head.status > 599) throw new TunnelError(ErrorCode.Protocol, `response status ${head.status} is not a final HTTP status`);
          const headers = { ...headersToObject(head.headers), ':status': head.status };
          if (head.endStream) {
            // Trailers-only response (typically an error status).
            this.stream.respond(headers, { endStream: true });
            this.cleanup();
            return;
          }
          this.stream.respond(headers, { waitForTrailers: true });
          this.download = new CreditedReceiver(writableSink(this.stream), this.session.config.initialWindowBytes, (bytes) =>
            this.session.sendData(dataMessage(this.requestId, grpc, { $case: 'windowUpdate', value: { bytes } })),
          );
          return;
        }
        case 'bodyChunk':
          if (this.download === undefined) throw new TunnelError(ErrorCode.Protocol, 'body before response head');
          if (payload.value.data.length > 0) this.download.write(payload.value.data, payload.value.data.length);
          if (payload.value.endStream) this.finish([]);
          return;
        case 'trailers':
          if (this.download === undefined) throw new TunnelError(ErrorCode.Protocol, 'trailers before response head');
          this.finish(payload.value.headers);
          return;
        case 'windowUpdate':
          this.upload?.grant(payload.value.bytes);
          return;
        case 'reset':
          this.fail(payload.value.code, payload.value.message, false);
          return;
        default:
          throw new TunnelError(ErrorCode.Protocol, `unexpected ${payload?.$case ?? 'empty'} message on a gRPC call`);
      }
    }, (code, message) => this.fail(code, message, true));
  }

  abort(code: string, message: string): void {
    this.fail(code, message, false);
  }

  private finish(trailers: Header[]): void {
    this.trailers = headersToObject(trailers);
    this.stream.end();
    this.upload?.stop();
    this.cleanup();
  }

  /** Ends the call with a gRPC status; `tellAgent` when the agent does not know yet. */
  private fail(code: string, message: string, tellAgent: boolean): void {
    if (this.done) return;
    if (tellAgent) this.session.sendData(resetMessage(this.requestId, grpc, code, message));
    this.cleanup();
    this.upload?.stop();
    const { stream } = this;
    if (stream.closed || stream.destroyed) return;
    const status = { 'grpc-status': String(grpcStatusFor(code)), 'grpc-message': encodeURIComponent(message), 'x-burrow-error': code };
    if (!stream.headersSent) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...status }, { endStream: true });
    } else if (!stream.writableEnded) {
      this.trailers = status;
      stream.end();
    } else {
      stream.close(constants.NGHTTP2_CANCEL);
    }
  }

  private cleanup(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.deadlineTimer);
    this.session.exchanges.delete(this.requestId);
    this.onDone();
  }
}

const timeoutUnitsMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };

/** grpc-timeout ("100m", "5S"...) in whole milliseconds, or undefined. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  const match = typeof value === 'string' ? /^(\d{1,8})([HMSmun])$/.exec(value) : null;
  if (match === null) return undefined;
  return Math.max(1, Math.ceil(Number(match[1]) * timeoutUnitsMs[match[2]]));
}
