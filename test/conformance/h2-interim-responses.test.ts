// Interim (1xx) answers of an HTTP/2 service behind a gRPC tunnel, directly
// and through the tunnel, with Node's HTTP/2 client: found with a raw-frame
// client, the tunnel dropped them, so 103 Early Hints never came and a
// client holding its body for 100 Continue waited for nothing.
import { connect, createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

let service: Http2Server;
let pair: TunnelPair;

beforeAll(async () => {
  service = createServer();
  service.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => {});
    if (headers.expect === '100-continue') stream.additionalHeaders({ ':status': 100 });
    else stream.additionalHeaders({ ':status': 103, link: '</style.css>; rel=preload' });
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(`got ${bytes}`);
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  pair = await startTunnelPair((service.address() as AddressInfo).port, 'grpc');
});

afterAll(async () => {
  await pair?.stop();
  await new Promise((resolve) => service?.close(resolve));
});

/** A POST over HTTP/2: the interim statuses it saw, then its answer. With Expect, the body goes only on 100 Continue. */
async function post(endpoint: Endpoint, expectContinue: boolean): Promise<{ interim: string[]; status: number; body: string }> {
  const session = connect(`http://127.0.0.1:${endpoint.port}`);
  session.on('error', () => {});
  try {
    const stream = session.request({ ':method': 'POST', ':path': '/upload', ':authority': endpoint.authority, ...(expectContinue && { expect: '100-continue' }) }, { endStream: false });
    stream.on('error', () => {});
    const interim: string[] = [];
    stream.on('headers', (headers: IncomingHttpHeaders) => interim.push(`${headers[':status']}${headers.link ? ` ${headers.link}` : ''}`));
    if (expectContinue) stream.once('continue', () => stream.end('hello'));
    else stream.end('hello');
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    // Bounded: a client left waiting for 100 Continue says so rather than hanging the test.
    await Promise.race([new Promise((resolve) => stream.once('close', resolve)), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    return { interim, status, body };
  } finally {
    session.destroy();
  }
}

describe('interim answers of an HTTP/2 service behind a gRPC tunnel', () => {
  it.each([
    ['103 Early Hints reaches the client before the answer', false, ['103 </style.css>; rel=preload']],
    ['100 Continue reaches a client holding its body for it', true, ['100']],
  ])('%s, as directly', async (_label, expectContinue, interim) => {
    const runs: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) runs[label] = await post(endpoint, expectContinue);
    const expected = { interim, status: 200, body: 'got 5' };
    expect(runs).toEqual({ direct: expected, tunnel: expected });
  });
});
