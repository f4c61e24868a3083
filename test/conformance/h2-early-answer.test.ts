// An HTTP/2 client uploading to a service that answers before it has read
// the body (413, 401). Node's HTTP/2 server, as nginx's, then resets the
// stream with NO_ERROR (RFC 9113 section 8.1), which tells the client to stop
// sending without failing the answer. The edge drained the rest instead: a
// browser sent the whole upload before it showed the refusal, and a page
// streaming an open-ended body never learned of it (browser audit). So too
// for an answer of the edge's own.
import { connect, constants, createServer as createHttp2Server, type ClientHttp2Session, type Http2Server } from 'node:http2';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/common.js';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

const refusal = 'the upload is too large\n';
/** Far more than any window on the way: a client that is not stopped sends it all. */
const uploadBytes = 256 * 1024 * 1024;
const piece = Buffer.alloc(64 * 1024, 'u');

let service: Server;
let h2Service: Http2Server;
let pair: TunnelPair;
/** A tunnel to a port nothing listens on: the edge answers 502 itself. */
let downPair: TunnelPair;
let direct: Endpoint;

beforeAll(async () => {
  // The tunnel's service speaks HTTP/1.1; Node's HTTP/2 server answers the same way, directly.
  service = createServer((_req, res) => res.writeHead(413, { 'content-length': refusal.length }).end(refusal));
  h2Service = createHttp2Server();
  h2Service.on('stream', (stream) => {
    stream.respond({ ':status': 413, 'content-length': refusal.length });
    stream.end(refusal);
  });
  await Promise.all([new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve)), new Promise<void>((resolve) => h2Service.listen(0, '127.0.0.1', resolve))]);
  pair = await startTunnelPair((service.address() as AddressInfo).port, 'http');
  downPair = await startTunnelPair(await closedPort(), 'http');
  const h2Port = (h2Service.address() as AddressInfo).port;
  direct = { port: h2Port, authority: `127.0.0.1:${h2Port}` };
});

afterAll(async () => {
  await pair?.stop();
  await downPair?.stop();
  await new Promise((resolve) => service?.close(resolve));
  await new Promise((resolve) => h2Service?.close(resolve));
});

interface Upload {
  status: number;
  body: string;
  /** The stream's RST_STREAM code, or 0 once both ends closed it. */
  rstCode: number;
  /** Whether the client sent the whole body before the stream closed. */
  sentAll: boolean;
}

/** Uploads as fast as the stream takes it, until the whole body is sent or the stream closes. */
function upload(session: ClientHttp2Session, authority: string): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/upload', ':authority': authority, 'content-length': String(uploadBytes) });
    let status = 0;
    let body = '';
    let sent = 0;
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('error', reject);
    stream.on('close', () => resolve({ status, body, rstCode: stream.rstCode ?? -1, sentAll: sent === uploadBytes }));
    const pump = (): void => {
      while (sent < uploadBytes && !stream.closed && !stream.destroyed) {
        sent += piece.length;
        if (sent === uploadBytes) stream.end(piece);
        else if (!stream.write(piece)) return void stream.once('drain', pump);
      }
    };
    pump();
  });
}

describe('an HTTP/2 upload answered before its end', () => {
  it.each(['direct', 'tunnel'] as const)('%s: the client gets the whole answer, then a reset with NO_ERROR that stops its upload', async (label) => {
    const endpoint = label === 'direct' ? direct : pair.tunnel;
    const session = connect(`http://127.0.0.1:${endpoint.port}`);
    try {
      const first = await upload(session, endpoint.authority);
      expect(first).toEqual({ status: 413, body: refusal, rstCode: constants.NGHTTP2_NO_ERROR, sentAll: false });
      // The session goes on: the refused upload's bytes left no window behind.
      const second = await upload(session, endpoint.authority);
      expect(second).toEqual(first);
    } finally {
      session.close();
    }
  });

  it.each([
    ['502, the service down', () => downPair.tunnel.authority, 502, /^local service at 127.0.0.1:\d+: connection refused/],
    ['404, before any exchange: no tunnel of that name', () => `nobody.localhost:${pair.tunnel.port}`, 404, /no tunnel/],
  ] as const)("tunnel: an answer of the edge's own (%s) stops the upload the same way", async (_label, authority, status, text) => {
    const session = connect(`http://127.0.0.1:${downPair.tunnel.port}`);
    try {
      const refused = await upload(session, authority());
      expect({ ...refused, body: refused.body.split('\n')[0] }).toEqual({ status, body: expect.stringMatching(text), rstCode: constants.NGHTTP2_NO_ERROR, sentAll: false });
    } finally {
      session.close();
    }
  });
});
