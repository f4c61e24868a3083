// Each request the agent forwarded, once it has ended, in one record: what
// the agent's admin metrics count (the traffic log may have let it go by then).
import { addFlowBytes, grpcStatusIn, type TrafficEvent, type TrafficProtocol } from '../../shared/traffic.js';
import { IdMap } from '../tunnel/id-map.js';

export interface EndedRequest {
  tunnel: string;
  protocol: TrafficProtocol;
  /** HTTP status the client got; 0 when it got none. */
  status: number;
  grpcStatus?: number;
  /** Set when the request ended with an error. */
  errorCode?: string;
  errorMessage?: string;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
}

interface Open {
  tunnel: string;
  protocol: TrafficProtocol;
  status: number;
  grpcStatus?: number;
  bytesIn: number;
  bytesOut: number;
}

export class EndedRequests {
  private readonly open = new IdMap<Open>();

  constructor(private readonly ended: (request: EndedRequest) => void) {}

  /** Requests started and not ended yet, by tunnel. */
  inFlight(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { tunnel } of this.open.values()) counts.set(tunnel, (counts.get(tunnel) ?? 0) + 1);
    return counts;
  }

  record(event: TrafficEvent): void {
    if (event.kind === 'request-start') {
      this.open.set(event.requestId, { tunnel: event.tunnel, protocol: event.protocol, status: 0, bytesIn: 0, bytesOut: 0 });
      return;
    }
    const request = this.open.get(event.requestId);
    if (request === undefined) return;
    switch (event.kind) {
      case 'response-head':
        request.status = event.status;
        request.grpcStatus = grpcStatusIn(event.headers) ?? request.grpcStatus;
        return;
      case 'trailers':
        // A response's trailers carry its gRPC status; a request's (a client's own) none.
        if (event.direction === 'to-client') request.grpcStatus = grpcStatusIn(event.headers) ?? request.grpcStatus;
        return;
      case 'body':
        addFlowBytes(request, event.direction, event.data.length);
        return;
      case 'request-end':
      case 'request-error': {
        this.open.delete(event.requestId);
        const { tunnel, protocol, status, grpcStatus, bytesIn, bytesOut } = request;
        this.ended({
          tunnel,
          protocol,
          status: event.kind === 'request-end' ? event.status : status,
          ...(grpcStatus !== undefined && { grpcStatus }),
          ...(event.kind === 'request-error' && { errorCode: event.code, errorMessage: event.message }),
          bytesIn: event.bytesIn || bytesIn,
          bytesOut: event.bytesOut || bytesOut,
          durationMs: event.durationMs,
        });
        return;
      }
      default:
        return;
    }
  }
}
