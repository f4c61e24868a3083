// Every stable error code, typed once for the engine, the app, its
// transports and the UI, and the one error class that carries a code.
// Callers and tests match on the code, never on the message.

/** The tunnel's codes: public requests, agents and the edge (each has an HTTP and a gRPC status, see tunnel/errors.ts). */
export const TunnelErrorCode = {
  NoTunnel: 'BURROW_E_NO_TUNNEL',
  TunnelOffline: 'BURROW_E_TUNNEL_OFFLINE',
  LocalUnreachable: 'BURROW_E_LOCAL_UNREACHABLE',
  LocalFailed: 'BURROW_E_LOCAL_FAILED',
  OverCapacity: 'BURROW_E_OVER_CAPACITY',
  Timeout: 'BURROW_E_TIMEOUT',
  Protocol: 'BURROW_E_PROTOCOL',
  FlowControl: 'BURROW_E_FLOW_CONTROL',
  ClientGone: 'BURROW_E_CLIENT_GONE',
  ClientTimeout: 'BURROW_E_CLIENT_TIMEOUT',
  Unauthenticated: 'BURROW_E_UNAUTHENTICATED',
  TlsVerification: 'BURROW_E_TLS_VERIFY',
  NameTaken: 'BURROW_E_NAME_TAKEN',
  BadName: 'BURROW_E_BAD_NAME',
  NameNotAllowed: 'BURROW_E_NAME_NOT_ALLOWED',
  BodyTooLarge: 'BURROW_E_BODY_TOO_LARGE',
  RateLimited: 'BURROW_E_RATE_LIMITED',
  DataStreamLost: 'BURROW_E_DATA_STREAM_LOST',
  BadRequest: 'BURROW_E_BAD_REQUEST',
  HeaderTooLarge: 'BURROW_E_HEADER_TOO_LARGE',
  UriTooLong: 'BURROW_E_URI_TOO_LONG',
  HttpVersion: 'BURROW_E_HTTP_VERSION',
  WrongProtocol: 'BURROW_E_WRONG_PROTOCOL',
  UnsupportedUpgrade: 'BURROW_E_UNSUPPORTED_UPGRADE',
  /** A request body in a transfer coding other than chunked (gzip, say), which the tunnel would not carry as sent. */
  UnsupportedTransferCoding: 'BURROW_E_UNSUPPORTED_TRANSFER_CODING',
  /** A public HTTP/2 client reset streams faster than the edge allows ("rapid reset"): its connection is sent away. */
  RapidReset: 'BURROW_E_RAPID_RESET',
  /** The edges' shared store (Redis) is out of reach: what needs it (claiming a name) waits. */
  ClusterUnavailable: 'BURROW_E_CLUSTER_UNAVAILABLE',
  /** The edge is stopping: a request it still held past its drain (or with none) is cut, to be tried again elsewhere. */
  ServerStopping: 'BURROW_E_SERVER_STOPPING',
} as const;

/** The app contract's codes: a command refused or failed, or its transport gone. */
export const AppErrorCode = {
  InvalidInput: 'BURROW_E_INVALID_INPUT',
  NotFound: 'BURROW_E_NOT_FOUND',
  Conflict: 'BURROW_E_CONFLICT',
  Internal: 'BURROW_E_INTERNAL',
  UnknownCommand: 'BURROW_E_UNKNOWN_COMMAND',
  /** IPC from a frame that is not our page. */
  Forbidden: 'BURROW_E_FORBIDDEN',
  /** The inspector's WebSocket is not open. */
  Disconnected: 'BURROW_E_DISCONNECTED',
} as const;

export const ErrorCode = { ...TunnelErrorCode, ...AppErrorCode } as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error with a stable code: thrown by the engine and the app, and rebuilt by the UI from a command's result. */
export class BurrowError extends Error {
  constructor(
    readonly code: ErrorCode | string,
    message: string,
  ) {
    super(message);
    this.name = 'BurrowError';
  }
}
