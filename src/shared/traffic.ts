// Traffic lifecycle events: what the engine reports about each public request,
// keyed by request_id. The inspector, the graphs and the logs all read these.

export type TrafficProtocol = 'http' | 'websocket' | 'grpc';

export type HeaderPair = readonly [name: string, value: string];

/** 'to-service' flows from the public client to the local service, 'to-client' back. */
export type FlowDirection = 'to-service' | 'to-client';

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
  /** How long the edge held the request before sending it to the agent. */
  edgeWaitMs?: number;
  /** The public client's HTTP version ("1.1", "2.0"), when the edge said. */
  httpVersion?: string;
}

export interface ResponseHeadEvent {
  kind: 'response-head';
  requestId: string;
  status: number;
  headers: HeaderPair[];
  at: number;
  /** The tunnel's own answer for a service that gave none (a gRPC status from a reset): no first byte of the service's. */
  byTunnel?: true;
}

export interface BodyEvent {
  kind: 'body';
  requestId: string;
  direction: FlowDirection;
  /** A view of the chunk as it passed; consumers that keep it must copy and cap it. */
  data: Uint8Array;
  at: number;
  /** Bytes of the body after `data` that are not given (an imported HAR that kept only part of a body): counted, never kept. */
  missingBytes?: number;
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
  /** The HTTP status the tunnel answered with, when the service had not answered yet (HTTP, WebSocket). */
  status?: number;
  /** The gRPC status the tunnel answered with, when the service had not answered yet. */
  grpcStatus?: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  at: number;
}

const websocketOpcodeNames: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

/** A WebSocket frame's type by its opcode, as the inspector names it. */
export function websocketOpcodeName(opcode: number): string {
  return websocketOpcodeNames[opcode] ?? `opcode ${opcode}`;
}

/** One WebSocket message or control frame, as relayed. */
export interface WebSocketFrameEvent {
  kind: 'ws-frame';
  requestId: string;
  direction: FlowDirection;
  /** RFC 6455: 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  opcode: number;
  fin: boolean;
  size: number;
  /** A view of the payload; consumers that keep it must copy and cap it. */
  data: Uint8Array;
  closeCode?: number;
  closeReason?: string;
  /** A message sent from the inspector, not by either end. */
  injected?: boolean;
  at: number;
}

/** One length-prefixed gRPC message, as relayed. */
export interface GrpcMessageEvent {
  kind: 'grpc-message';
  requestId: string;
  direction: FlowDirection;
  /** 0-based position among this call's messages in this direction. */
  index: number;
  size: number;
  compressed: boolean;
  /** The message bytes if they arrived in one piece, else empty; consumers that keep it must copy and cap it. */
  data: Uint8Array;
  at: number;
}

/** Trailers after a body: the request's, or the response's (for gRPC, grpc-status and grpc-message live there). */
export interface TrailersEvent {
  kind: 'trailers';
  requestId: string;
  direction: FlowDirection;
  headers: HeaderPair[];
  at: number;
}

export type TrafficEvent =
  | RequestStartEvent
  | ResponseHeadEvent
  | BodyEvent
  | WebSocketFrameEvent
  | GrpcMessageEvent
  | TrailersEvent
  | RequestEndEvent
  | RequestErrorEvent;

/** Request header of a replay sent from the inspector: the request_id it repeats (the traffic log links the two). */
export const replayOfHeader = 'x-burrow-replay-of';

/** A header's first value, by its name in any case. */
export function headerPairValue(headers: readonly HeaderPair[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([key]) => key.toLowerCase() === lower)?.[1];
}

/** A gRPC message's bytes on the wire: its 5-byte prefix (compressed flag, length) and its payload. */
export const grpcMessageWireBytes = (size: number): number => size + 5;

/** Adds `bytes` to the side of `totals` that `direction` names: in, towards the service; out, towards the client. */
export function addFlowBytes(totals: { bytesIn: number; bytesOut: number }, direction: FlowDirection, bytes: number): void {
  if (direction === 'to-service') totals.bytesIn += bytes;
  else totals.bytesOut += bytes;
}

/** grpc-status as a number, when the headers carry a well-formed one. */
export function grpcStatusIn(headers: readonly HeaderPair[]): number | undefined {
  const value = headerPairValue(headers, 'grpc-status');
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * grpc-message as the service meant it: it goes percent-encoded UTF-8
 * (gRPC's PROTOCOL-HTTP2.md), and was shown so ("no%20such%20user"). A `%`
 * that starts no escape stays; bytes sent unencoded (gRPC's C core does)
 * decode as UTF-8 too.
 */
export function grpcMessageIn(headers: readonly HeaderPair[]): string | undefined {
  const value = headerPairValue(headers, 'grpc-message');
  if (value === undefined) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const escaped = value[i] === '%' && /^[\da-f]{2}$/i.test(value.slice(i + 1, i + 3));
    bytes.push(escaped ? parseInt(value.slice(i + 1, i + 3), 16) : value.charCodeAt(i) & 0xff);
    if (escaped) i += 2;
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
