// An HTTP/2 service that sends GOAWAY with an error code (ENHANCE_YOUR_CALM
// here) while it is still answering a stream it names processed (its last
// stream id): RFC 9113 section 6.8 lets that stream finish, and nghttp reads
// it to the end directly. Through the tunnel the client gets the same whole
// answer; the agent's next request opens a new connection.
import { constants, createServer as createHttp2Server, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternedBody, sha256Hex } from '../helpers/common.js';
import { runTool } from './tools.js';
import { startTunnelPair, type TunnelPair } from './tunnel-pair.js';

const before = patternedBody(16 * 1024);
/** Past the stream's and the connection's initial windows: the client must keep opening them after the GOAWAY. */
const after = patternedBody(1024 * 1024 + 1);
const whole = sha256Hex(Buffer.concat([before, after]));

let service: Http2Server;
let pair: TunnelPair;
const sessions = new Set<ServerHttp2Session>();

beforeAll(async () => {
  service = createHttp2Server();
  service.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  service.on('stream', (stream: ServerHttp2Stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
    stream.write(before);
    stream.session?.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, stream.id);
    // The rest once the client has had the GOAWAY (a client that cuts at it cuts before the rest).
    setTimeout(() => stream.end(after), 100);
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  // A gRPC tunnel reaches its service over HTTP/2, plain requests too.
  pair = await startTunnelPair((service.address() as AddressInfo).port, 'grpc');
});

afterAll(async () => {
  await pair?.stop();
  for (const session of sessions) session.destroy();
  await new Promise((resolve) => service?.close(resolve));
});

describe("a service's GOAWAY with an error code while it answers", () => {
  it('nghttp gets the stream named processed whole, directly and through the tunnel, twice in a row', async () => {
    const outcomes: Record<string, { code: number; sha256: string }[]> = {};
    for (const [label, endpoint] of pair.both) {
      outcomes[label] = [];
      // The second request finds the first connection going away: the agent opens another.
      for (let i = 0; i < 2; i++) {
        const result = await runTool('nghttp', ['-H', `:authority: ${endpoint.authority}`, `http://127.0.0.1:${endpoint.port}/download`]);
        outcomes[label].push({ code: result.code, sha256: sha256Hex(result.stdout) });
      }
    }
    const expected = [
      { code: 0, sha256: whole },
      { code: 0, sha256: whole },
    ];
    expect(outcomes).toEqual({ direct: expected, tunnel: expected });
  });
});
