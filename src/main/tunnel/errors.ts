// The public statuses of the tunnel's error codes (the codes themselves are
// in src/shared/error-codes.ts, typed once for every side).
import { BurrowError, ErrorCode, TunnelErrorCode } from '../../shared/error-codes.js';

export { BurrowError, ErrorCode, TunnelErrorCode };

/** The public HTTP status a failed request gets for each code. */
export function httpStatusFor(code: string): number {
  switch (code) {
    case ErrorCode.NoTunnel:
      return 404;
    case ErrorCode.OverCapacity:
    case ErrorCode.ClusterUnavailable:
    case ErrorCode.ServerStopping:
      return 503;
    case ErrorCode.Timeout:
      return 504;
    case ErrorCode.ClientTimeout:
      return 408;
    case ErrorCode.BodyTooLarge:
      return 413;
    case ErrorCode.RateLimited:
    case ErrorCode.RapidReset:
      return 429;
    case ErrorCode.BadRequest:
      return 400;
    case ErrorCode.HeaderTooLarge:
      return 431;
    case ErrorCode.UriTooLong:
      return 414;
    case ErrorCode.HttpVersion:
      return 505;
    case ErrorCode.UnsupportedUpgrade:
    case ErrorCode.UnsupportedTransferCoding:
      return 501;
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
    case ErrorCode.RapidReset:
    case ErrorCode.BodyTooLarge:
    case ErrorCode.HeaderTooLarge:
      return 8; // RESOURCE_EXHAUSTED; of a head, as gRPC's C core says of metadata over its limit
    case ErrorCode.Timeout:
      return 4; // DEADLINE_EXCEEDED
    case ErrorCode.ClientGone:
      return 1; // CANCELLED
    default:
      return 14; // UNAVAILABLE
  }
}
