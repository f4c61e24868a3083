// What the edge keeps of each public request once it has ended: one access
// log line, and the request metrics.
import { ErrorCode, grpcStatusFor, httpStatusFor } from '../errors.js';

export type PublicProtocol = 'http' | 'websocket' | 'grpc';

export interface PublicRequestRecord {
  requestId: string;
  traceId: string;
  tunnel: string;
  protocol: PublicProtocol;
  method: string;
  path: string;
  /** The HTTP status the client got (101 for a WebSocket accepted); 0 when it got none (it went away first). */
  status: number;
  /** For gRPC calls: the gRPC status the caller got, when it got one. */
  grpcStatus?: number;
  /** The stable code, when the tunnel ended the request with an error. */
  errorCode?: string;
  /** The edge refused it (limits, rate, no such tunnel, a malformed head) without asking the agent. */
  refused?: boolean;
  /** Request body (or client frame) bytes toward the service, response bytes toward the client. */
  bytesIn: number;
  bytesOut: number;
  startedAt: number;
  durationMs: number;
}

/** What an exchange notes as it goes, and turns into its record at the end. */
export class RequestOutcome {
  readonly startedAt = Date.now();
  status = 0;
  grpcStatus: number | undefined;
  errorCode: string | undefined;

  constructor(readonly protocol: PublicProtocol) {}

  responded(status: number, grpcStatus?: string | string[]): void {
    this.status = status;
    this.noteGrpcStatus(grpcStatus);
  }

  /** gRPC's status, from response headers (trailers-only) or trailers. */
  noteGrpcStatus(value: string | string[] | undefined): void {
    const text = Array.isArray(value) ? value[0] : value;
    if (text !== undefined && /^\d+$/.test(text)) this.grpcStatus = Number(text);
  }

  /** Ended with an error; `answered` when the client got the error's HTTP status (it had no response head yet). */
  failed(code: string, answered: boolean): void {
    this.errorCode = code;
    if (code === ErrorCode.ClientGone) return;
    // A gRPC caller hears the error as a status, in headers or in trailers.
    if (this.protocol === 'grpc') this.grpcStatus = grpcStatusFor(code);
    if (answered) this.status = this.protocol === 'grpc' ? 200 : httpStatusFor(code);
  }

  record(fields: Pick<PublicRequestRecord, 'requestId' | 'traceId' | 'tunnel' | 'method' | 'path' | 'bytesIn' | 'bytesOut'>): PublicRequestRecord {
    const { status, grpcStatus, errorCode, protocol, startedAt } = this;
    // Fields by name, not a `{ ...copy, more }` literal, which keeps young objects alive (test/unit/spread-copies.test.ts).
    const record: PublicRequestRecord = {
      requestId: fields.requestId,
      traceId: fields.traceId,
      tunnel: fields.tunnel,
      method: fields.method,
      path: fields.path,
      bytesIn: fields.bytesIn,
      bytesOut: fields.bytesOut,
      protocol,
      status,
      startedAt,
      durationMs: Date.now() - startedAt,
    };
    if (grpcStatus !== undefined) record.grpcStatus = grpcStatus;
    if (errorCode !== undefined) record.errorCode = errorCode;
    return record;
  }
}
