// grpc-message as gRPC over HTTP/2 carries it: the edge's own statuses and
// the agent's account of a service's reset both end calls with one.

/** grpc-message encoding (PROTOCOL-HTTP2.md): UTF-8, with bytes outside printable ASCII and '%' percent-encoded, nothing else. */
export function percentEncodeGrpcMessage(message: string): string {
  let encoded = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}
