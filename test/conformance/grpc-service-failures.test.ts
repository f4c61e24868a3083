// A gRPC service that fails a call, directly and through the tunnel, with
// grpc-js as the client: a reset stream ends with the status grpc-js reads
// from the reset code (not UNAVAILABLE for all, which clients retry as
// safe), and a connection lost mid-stream delivers what came, then
// UNAVAILABLE, never a stream that looks complete.
import { constants, createServer, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawMethod } from '../../src/main/service/raw-grpc-method.js';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

/** A gRPC message frame around `payload`. */
const frame = (payload: string): Buffer => {
  const body = Buffer.from(payload);
  const framed = Buffer.alloc(5 + body.length);
  framed.writeUInt32BE(body.length, 1);
  body.copy(framed, 5);
  return framed;
};

let servicePort = 0;
let stopService: () => Promise<void>;
let pair: TunnelPair;

/** /f.F/Reset<code> resets before answering; /f.F/Drop sends three messages, then closes the connection. */
beforeAll(async () => {
  const sessions = new Set<Http2Session>();
  const server = createServer();
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('error', () => {});
    session.once('close', () => sessions.delete(session));
  });
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.on('error', () => {});
    const path = String(headers[':path']);
    const reset = /^\/f\.F\/Reset(\d+)$/.exec(path);
    if (reset !== null) {
      stream.close(Number(reset[1]));
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    for (const text of ['one', 'two', 'three']) stream.write(frame(text));
    // Once the three are through (a PING's answer follows them), the connection goes.
    stream.session?.ping(() => stream.session?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servicePort = (server.address() as AddressInfo).port;
  stopService = () =>
    new Promise<void>((resolve) => {
      for (const session of sessions) session.destroy();
      server.close(() => resolve());
    });
  pair = await startTunnelPair(servicePort, 'grpc');
});

afterAll(async () => {
  await pair?.stop();
  await stopService?.();
});

/** A server-streaming call to `path`: the messages it got, then its status code. */
function call(endpoint: Endpoint, path: string): Promise<{ messages: string[]; code: grpc.status }> {
  const Client = grpc.makeGenericClientConstructor({ call: rawMethod(path, false, true) }, 'F');
  const client = new Client(`127.0.0.1:${endpoint.port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': endpoint.authority, 'grpc.enable_retries': 0 }) as unknown as grpc.Client & {
    call(request: Buffer): grpc.ClientReadableStream<Buffer>;
  };
  return new Promise((resolve) => {
    const messages: string[] = [];
    const stream = client.call(Buffer.from('go'));
    stream.on('data', (message: Buffer) => messages.push(message.toString()));
    stream.on('error', () => {});
    stream.on('status', (status: grpc.StatusObject) => {
      client.close();
      resolve({ messages, code: status.code });
    });
  });
}

describe('a gRPC service failing a call', () => {
  it.each([
    ['INTERNAL_ERROR', constants.NGHTTP2_INTERNAL_ERROR, grpc.status.INTERNAL],
    ['CANCEL', constants.NGHTTP2_CANCEL, grpc.status.CANCELLED],
    ['ENHANCE_YOUR_CALM', constants.NGHTTP2_ENHANCE_YOUR_CALM, grpc.status.RESOURCE_EXHAUSTED],
  ])('by resetting its stream with %s ends the call with the same status both ways', async (_name, rstCode, expected) => {
    const runs: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) runs[label] = await call(endpoint, `/f.F/Reset${rstCode}`);
    expect(runs).toEqual({ direct: { messages: [], code: expected }, tunnel: { messages: [], code: expected } });
  });

  it('by losing its connection mid-stream delivers what came, then UNAVAILABLE, both ways', async () => {
    const runs: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) runs[label] = await call(endpoint, '/f.F/Drop');
    const expected = { messages: ['one', 'two', 'three'], code: grpc.status.UNAVAILABLE };
    expect(runs).toEqual({ direct: expected, tunnel: expected });
  });
});
