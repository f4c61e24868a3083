// Stable error codes shared by the server, the agent and the CLI. Tests and
// callers match on the code, never on the message.

export const ErrorCode = {
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
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class TunnelError extends Error {
  constructor(
    readonly code: ErrorCode | string,
    message: string,
  ) {
    super(message);
    this.name = 'TunnelError';
  }
}

/** The public HTTP status a failed request gets for each code. */
export function httpStatusFor(code: string): number {
  switch (code) {
    case ErrorCode.NoTunnel:
      return 404;
    case ErrorCode.OverCapacity:
      return 503;
    case ErrorCode.Timeout:
      return 504;
    case ErrorCode.ClientTimeout:
      return 408;
    case ErrorCode.BodyTooLarge:
      return 413;
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.BadRequest:
      return 400;
    case ErrorCode.HeaderTooLarge:
      return 431;
    case ErrorCode.UriTooLong:
      return 414;
    case ErrorCode.HttpVersion:
      return 505;
    default:
      return 502;
  }
}

/** The gRPC status a failed call gets for each code (grpc/doc/statuscodes.md). */
export function grpcStatusFor(code: string): number {
  switch (code) {
    case ErrorCode.NoTunnel:
    case ErrorCode.WrongProtocol:
      return 12; // UNIMPLEMENTED, as gRPC maps HTTP 404
    case ErrorCode.OverCapacity:
    case ErrorCode.RateLimited:
    case ErrorCode.BodyTooLarge:
      return 8; // RESOURCE_EXHAUSTED
    case ErrorCode.Timeout:
      return 4; // DEADLINE_EXCEEDED
    case ErrorCode.ClientGone:
      return 1; // CANCELLED
    default:
      return 14; // UNAVAILABLE
  }
}
