// grpc-message as the inspector shows it: decoded from the percent-encoding
// it travels in, as a gRPC client reads it.
import { describe, expect, it } from 'vitest';
import { percentEncodeGrpcMessage } from '../../src/main/tunnel/grpc-message-encoding.js';
import { grpcMessageIn } from '../../src/shared/traffic.js';

describe('grpcMessageIn', () => {
  it.each([
    ['plain words', 'no such user'],
    ['a percent sign and a newline', '100% done\nnext'],
    ['text outside ASCII', 'naïve café ✓ 日本'],
  ])('reads back what the tunnel encodes: %s', (_label, text) => {
    expect(grpcMessageIn([['grpc-message', percentEncodeGrpcMessage(text)]])).toBe(text);
  });

  it('decodes what other services send: %20 for spaces, raw UTF-8 bytes (gRPC C core), and keeps a % that starts no escape', () => {
    expect(grpcMessageIn([['Grpc-Message', 'no%20such%20user']])).toBe('no such user');
    expect(grpcMessageIn([['grpc-message', Buffer.from('café', 'utf8').toString('latin1')]])).toBe('café');
    expect(grpcMessageIn([['grpc-message', '50%zz off %']])).toBe('50%zz off %');
    expect(grpcMessageIn([['grpc-status', '5']])).toBeUndefined();
  });
});
