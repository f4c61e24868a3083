// Traffic lifecycle events: what the engine reports about each public request,
// keyed by request_id. The inspector, the graphs and the logs all read these.

export type TrafficProtocol = 'http' | 'websocket' | 'grpc';

export type HeaderPair = readonly [name: string, value: string];

export interface RequestStartEvent {
  kind: 'request-start';
  requestId: string;
  tunnel: string;
  protocol: TrafficProtocol;
  method: string;
  path: string;
  headers: HeaderPair[];
  remoteAddress: string;
  /** Unix ms. */
  at: number;
}

export interface ResponseHeadEvent {
  kind: 'response-head';
  requestId: string;
  status: number;
  headers: HeaderPair[];
  at: number;
}

export interface BodyEvent {
  kind: 'body';
  requestId: string;
  /** 'request' flows public client -> local service, 'response' the other way. */
  direction: 'request' | 'response';
  /** A view of the chunk as it passed; consumers that keep it must copy and cap it. */
  data: Uint8Array;
  at: number;
}

export interface RequestEndEvent {
  kind: 'request-end';
  requestId: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  at: number;
}

export interface RequestErrorEvent {
  kind: 'request-error';
  requestId: string;
  /** Stable code, e.g. BURROW_E_LOCAL_UNREACHABLE. */
  code: string;
  message: string;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  at: number;
}

export type TrafficEvent = RequestStartEvent | ResponseHeadEvent | BodyEvent | RequestEndEvent | RequestErrorEvent;
