// The edge's error answers in each form: status and code, raw bytes, gRPC status.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/main/tunnel/errors.js';
import { percentEncodeGrpcMessage } from '../../src/main/tunnel/grpc-message-encoding.js';
import { errorAnswer } from '../../src/main/tunnel/error-answer.js';
import { grpcErrorStatus, rawErrorAnswer } from '../../src/main/tunnel/server/public-errors.js';

describe('percentEncodeGrpcMessage', () => {
  it.each([
    ['plain text stays', 'plain text stays'],
    ['HTTP/1.1; (burrow grpc)', 'HTTP/1.1; (burrow grpc)'],
    ['100% sure', '100%25 sure'],
    ['line\nbreak', 'line%0Abreak'],
    ['café', 'caf%C3%A9'],
  ])('%j -> %j', (message, encoded) => {
    expect(percentEncodeGrpcMessage(message)).toBe(encoded);
    // What gRPC clients do to read it back.
    expect(decodeURIComponent(encoded)).toBe(message);
  });
});

describe('error answers', () => {
  it('carry the status for the code, the code itself and the message', () => {
    expect(errorAnswer(ErrorCode.UriTooLong, 'too long')).toEqual({
      status: 414,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': '9', 'x-burrow-error': 'BURROW_E_URI_TOO_LONG', 'cache-control': 'no-store' },
      body: 'too long\n',
    });
  });

  it('say when to retry an over-capacity answer, and honour a given delay', () => {
    expect(errorAnswer(ErrorCode.OverCapacity, 'busy').headers['retry-after']).toBe('1');
    expect(errorAnswer(ErrorCode.RateLimited, 'slow down', 7).headers['retry-after']).toBe('7');
    expect(errorAnswer(ErrorCode.NoTunnel, 'none').headers['retry-after']).toBeUndefined();
  });

  it('as raw bytes, are a whole HTTP/1.1 response that closes the connection', () => {
    expect(rawErrorAnswer(ErrorCode.HttpVersion, 'no')).toBe(
      'HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 3\r\nx-burrow-error: BURROW_E_HTTP_VERSION\r\ncache-control: no-store\r\nconnection: close\r\n\r\nno\n',
    );
  });

  it('as a gRPC status, map the code and keep it', () => {
    expect(grpcErrorStatus(ErrorCode.WrongProtocol, 'use burrow grpc')).toEqual({ 'grpc-status': '12', 'grpc-message': 'use burrow grpc', 'x-burrow-error': 'BURROW_E_WRONG_PROTOCOL' });
  });
});
