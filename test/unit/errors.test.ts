// Every stable error code has a definite public HTTP status and gRPC status.
import { describe, expect, it } from 'vitest';
import { ErrorCode, BurrowError, TunnelErrorCode, grpcStatusFor, httpStatusFor } from '../../src/main/tunnel/errors.js';

// gRPC status codes (grpc/doc/statuscodes.md).
const CANCELLED = 1;
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
const UNIMPLEMENTED = 12;
const UNAVAILABLE = 14;

/** One row per code: adding a code to ErrorCode without deciding its statuses fails the coverage test. */
const statuses: Record<keyof typeof TunnelErrorCode, { http: number; grpc: number }> = {
  NoTunnel: { http: 404, grpc: UNIMPLEMENTED },
  TunnelOffline: { http: 502, grpc: UNAVAILABLE },
  LocalUnreachable: { http: 502, grpc: UNAVAILABLE },
  LocalFailed: { http: 502, grpc: UNAVAILABLE },
  OverCapacity: { http: 503, grpc: RESOURCE_EXHAUSTED },
  Timeout: { http: 504, grpc: DEADLINE_EXCEEDED },
  Protocol: { http: 502, grpc: UNAVAILABLE },
  FlowControl: { http: 502, grpc: UNAVAILABLE },
  ClientGone: { http: 502, grpc: CANCELLED },
  ClientTimeout: { http: 408, grpc: UNAVAILABLE },
  Unauthenticated: { http: 502, grpc: UNAVAILABLE },
  TlsVerification: { http: 502, grpc: UNAVAILABLE },
  NameTaken: { http: 502, grpc: UNAVAILABLE },
  BadName: { http: 502, grpc: UNAVAILABLE },
  NameNotAllowed: { http: 502, grpc: UNAVAILABLE },
  BodyTooLarge: { http: 413, grpc: RESOURCE_EXHAUSTED },
  RateLimited: { http: 429, grpc: RESOURCE_EXHAUSTED },
  RapidReset: { http: 429, grpc: RESOURCE_EXHAUSTED },
  DataStreamLost: { http: 502, grpc: UNAVAILABLE },
  BadRequest: { http: 400, grpc: UNAVAILABLE },
  HeaderTooLarge: { http: 431, grpc: RESOURCE_EXHAUSTED },
  UriTooLong: { http: 414, grpc: UNAVAILABLE },
  HttpVersion: { http: 505, grpc: UNAVAILABLE },
  WrongProtocol: { http: 502, grpc: UNIMPLEMENTED },
  UnsupportedUpgrade: { http: 501, grpc: UNAVAILABLE },
  UnsupportedTransferCoding: { http: 501, grpc: UNAVAILABLE },
  ClusterUnavailable: { http: 503, grpc: UNAVAILABLE },
  ServerStopping: { http: 503, grpc: UNAVAILABLE },
};

const rows = (Object.keys(statuses) as (keyof typeof TunnelErrorCode)[]).map((key) => ({ key, code: ErrorCode[key], ...statuses[key] }));

describe('ErrorCode', () => {
  it('the status table covers exactly the codes there are', () => {
    expect(Object.keys(statuses).sort()).toEqual(Object.keys(TunnelErrorCode).sort());
  });

  it('codes are distinct BURROW_E_ strings', () => {
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^BURROW_E_[A-Z_]+$/);
  });
});

describe('httpStatusFor', () => {
  it.each(rows)('$key ($code) -> HTTP $http', ({ code, http }) => {
    expect(httpStatusFor(code)).toBe(http);
  });

  it('gives every code an error status a proxy may send', () => {
    for (const code of Object.values(ErrorCode)) {
      const status = httpStatusFor(code);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });

  it.each(['', 'BURROW_E_SOMETHING_NEW', 'burrow_e_no_tunnel', 'NoTunnel'])('answers 502 for an unknown code %j', (code) => {
    expect(httpStatusFor(code)).toBe(502);
  });
});

describe('grpcStatusFor', () => {
  it.each(rows)('$key ($code) -> gRPC $grpc', ({ code, grpc }) => {
    expect(grpcStatusFor(code)).toBe(grpc);
  });

  it('never reports a failure as OK, and stays within the defined statuses', () => {
    for (const code of Object.values(ErrorCode)) {
      const status = grpcStatusFor(code);
      expect(status).toBeGreaterThanOrEqual(1);
      expect(status).toBeLessThanOrEqual(16);
    }
  });

  it.each(['', 'BURROW_E_SOMETHING_NEW', 'burrow_e_timeout'])('answers UNAVAILABLE for an unknown code %j', (code) => {
    expect(grpcStatusFor(code)).toBe(UNAVAILABLE);
  });
});

describe('BurrowError', () => {
  it('is an Error carrying its code and message', () => {
    const error = new BurrowError(ErrorCode.Timeout, 'no response in 30 s');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('BurrowError');
    expect(error.code).toBe('BURROW_E_TIMEOUT');
    expect(error.message).toBe('no response in 30 s');
    expect(String(error)).toBe('BurrowError: no response in 30 s');
  });

  it('may carry a code from the peer that this build does not know', () => {
    const error = new BurrowError('BURROW_E_FROM_THE_FUTURE', 'x');
    expect(error.code).toBe('BURROW_E_FROM_THE_FUTURE');
    expect(httpStatusFor(error.code)).toBe(502);
  });
});
