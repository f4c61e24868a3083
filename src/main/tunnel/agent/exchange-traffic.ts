// What one forwarded request reports to the inspector: the lifecycle
// events and the byte counts, the same for HTTP, WebSocket and gRPC.
import type { Header, RequestHead } from '../../gen/burrow/v1/tunnel.js';
import { addFlowBytes, type FlowDirection, type HeaderPair, type TrafficEvent, type TrafficProtocol } from '../../../shared/traffic.js';
import { errorAnswer } from '../error-answer.js';
import { ErrorCode, grpcStatusFor, httpStatusFor } from '../errors.js';

export function headerPairs(headers: readonly Header[]): HeaderPair[] {
  return headers.map((h): HeaderPair => [h.name, h.value]);
}

export class ExchangeTraffic {
  readonly startedAt = Date.now();
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  private protocol: TrafficProtocol = 'http';

  constructor(
    private readonly requestId: string,
    private readonly emit: (event: TrafficEvent) => void,
  ) {}

  started(head: RequestHead, protocol: TrafficProtocol): void {
    this.protocol = protocol;
    this.emit({
      kind: 'request-start',
      requestId: this.requestId,
      tunnel: head.tunnel,
      protocol,
      method: head.method,
      path: head.path,
      headers: headerPairs(head.headers),
      remoteAddress: head.remoteAddress,
      at: this.startedAt,
      edgeWaitMs: head.edgeWaitMs,
      httpVersion: head.httpVersion || undefined,
    });
  }

  responded(status: number, headers: readonly Header[], byTunnel = false): void {
    this.status = status;
    this.emit({ kind: 'response-head', requestId: this.requestId, status, headers: headerPairs(headers), at: Date.now(), byTunnel: byTunnel || undefined });
  }

  /** Counts body bytes; emits them unless `silent` (a protocol that reports its own messages). */
  body(direction: FlowDirection, data: Buffer, silent = false): void {
    this.counted(direction, data.length);
    if (!silent && data.length > 0) this.emit({ kind: 'body', requestId: this.requestId, direction, data, at: Date.now() });
  }

  /** Trailers after the request body or the response body, when there are any. */
  trailers(direction: FlowDirection, headers: readonly Header[]): void {
    if (headers.length > 0) this.emit({ kind: 'trailers', requestId: this.requestId, direction, headers: headerPairs(headers), at: Date.now() });
  }

  /** Counts bytes a protocol reports as its own messages. */
  counted(direction: FlowDirection, bytes: number): void {
    addFlowBytes(this, direction, bytes);
  }

  ended(): void {
    this.emit({ kind: 'request-end', requestId: this.requestId, status: this.status, ...this.totals() });
  }

  /**
   * The status the caller got for the failure, as the edge maps the code: a
   * gRPC caller always hears one (in trailers if headers went out), an HTTP
   * client only when no response had started.
   */
  failed(code: string, message: string): void {
    if (this.protocol !== 'grpc' && this.status === 0 && code !== ErrorCode.ClientGone) this.answeredByTunnel(code, message);
    const answered = this.protocol === 'grpc' ? { grpcStatus: grpcStatusFor(code) } : this.status === 0 ? { status: httpStatusFor(code) } : {};
    this.emit({ kind: 'request-error', requestId: this.requestId, code, message, ...answered, ...this.totals() });
  }

  /** What the edge answers an HTTP client for the failure, recorded as the request's response: the inspector showed none. */
  private answeredByTunnel(code: string, message: string): void {
    const { status, headers, body } = errorAnswer(code, message);
    this.responded(status, Object.entries(headers).map(([name, value]) => ({ name, value })), true);
    // Counted as the bytes its client got, as the inspector shows them (the edge wrote them, not the service).
    this.body('to-client', Buffer.from(body));
  }

  private totals(): { bytesIn: number; bytesOut: number; durationMs: number; at: number } {
    const at = Date.now();
    return { bytesIn: this.bytesIn, bytesOut: this.bytesOut, durationMs: at - this.startedAt, at };
  }
}
