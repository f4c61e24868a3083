// A public client that goes away while the service is quiet (a long-poll
// not yet answered, an event stream between events) by closing its
// connection normally (FIN: curl killed, a tab closed), or by resetting it. Over HTTP/2 the
// service hears of it at once, as it does from Node's HTTP/2 server
// directly, instead of answering nobody until a timeout. Over HTTP/1.1 a
// client's end of input is a half-close, whose answers it still gets
// (http1-connection-ends.test.ts). A client's own HTTP/2 reset reaches an
// HTTP/2 service with the client's code, as directly.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as connectHttp2, constants, createServer as createHttp2Server, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { rmSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/main/tunnel/errors.js';
import { makeDevCertificate } from '../../src/main/tunnel/server/dev-certificate.js';
import type { PublicRequestRecord } from '../../src/main/tunnel/server/public-request-record.js';
import { eventually, startTunnel } from '../helpers/common.js';
import { startTunnelPair, type TunnelPair } from './tunnel-pair.js';

/** What the service saw of each request, by path: its response closed before it was finished; its body ended whole. */
const requests = new Map<string, { res: ServerResponse; abandoned: boolean; bodyEnded: boolean }>();
let service: Server;
let pair: TunnelPair;
let tlsPair: TunnelPair;
let certDir: string;

beforeAll(async () => {
  // /wait/* never answers (a long-poll); /events/* sends one event and then waits.
  service = createServer((req: IncomingMessage, res: ServerResponse) => {
    const seen = { res, abandoned: false, bodyEnded: false };
    requests.set(req.url ?? '', seen);
    res.once('close', () => (seen.abandoned = !res.writableFinished));
    // /upload/* reads its body and never answers.
    req.on('end', () => (seen.bodyEnded = true));
    req.resume();
    if (req.url?.startsWith('/events/')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
    }
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  const port = (service.address() as AddressInfo).port;
  pair = await startTunnelPair(port, 'http');
  const cert = await makeDevCertificate('localhost', `${process.env.TMPDIR ?? '/tmp'}/burrow-client-gone-tls-${process.pid}`);
  certDir = dirname(cert.certPath);
  tlsPair = await startTunnelPair(port, 'http', { publicTls: cert });
});

afterAll(async () => {
  await pair?.stop();
  await tlsPair?.stop();
  if (certDir !== undefined) rmSync(certDir, { recursive: true, force: true });
  service?.closeAllConnections();
  await new Promise((resolve) => service?.close(resolve));
});

describe('an HTTP/2 client closing its connection (FIN) while the service is quiet', () => {
  it.each([
    ['h2c', '/wait/poll'],
    ['h2c', '/events/stream'],
    ['h2 over TLS', '/wait/tls-poll'],
  ])('%s, %s: the service sees the request abandoned', async (over, path) => {
    const tunnel = (over === 'h2c' ? pair : tlsPair).tunnel;
    const socket: Socket =
      over === 'h2c' ? connect(tunnel.port, '127.0.0.1') : connectTls({ port: tunnel.port, host: '127.0.0.1', servername: 'app.localhost', ALPNProtocols: ['h2'], rejectUnauthorized: false });
    const session = connectHttp2(`${over === 'h2c' ? 'http' : 'https'}://127.0.0.1:${tunnel.port}`, { createConnection: () => socket });
    session.on('error', () => {});
    const stream = session.request({ ':path': path, ':authority': tunnel.authority });
    stream.on('error', () => {});
    const firstData = new Promise((resolve) => stream.once('data', resolve));
    await eventually(() => requests.has(path), `the service to get ${path}`);
    if (path.startsWith('/events/')) await firstData;
    // Ends the client's output only (FIN), as a process that exits does; nothing is reset.
    socket.end();
    await eventually(() => requests.get(path)!.abandoned, `the service to see ${path} abandoned`);
    session.destroy();
  });
});

// A reset right behind a request reads as the end of input, as a half-close
// does: the edge, which keeps serving a client that half-closed, served one
// that reset until the answer's first write failed, and its service worked
// for nobody till then. Directly, Node's server sees the request abandoned.
describe('an HTTP/1.1 client resetting its connection right behind its request', () => {
  /** Sends a request and resets the connection as soon as it has left. */
  async function sendAndReset(port: number, path: string, authority: string): Promise<void> {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`, () => socket.resetAndDestroy());
  }

  it('directly, the service sees the request abandoned', async () => {
    await sendAndReset(pair.direct.port, '/wait/h1-reset-direct', pair.direct.authority);
    await eventually(() => requests.get('/wait/h1-reset-direct')?.abandoned === true, 'the service to see the request abandoned');
  });

  it('through the tunnel, it ends as the client gone, and the service is left with nothing to answer', async () => {
    const port = (service.address() as AddressInfo).port;
    const fixture = await startTunnel([{ name: 'app', protocol: 'http', target: String(port) }]);
    try {
      const ended = new Promise<PublicRequestRecord>((resolve) => fixture.server.once('request-end', resolve));
      const path = '/wait/h1-reset-tunnel';
      await sendAndReset(fixture.publicPort, path, `app.localhost:${fixture.publicPort}`);
      expect((await ended).errorCode).toBe(ErrorCode.ClientGone);
      await eventually(() => fixture.agent.inflightRequests === 0, 'the agent to end the request');
      // The edge may have learned before it sent the request on: then the service never got it.
      const seen = requests.get(path);
      if (seen !== undefined) await eventually(() => seen.abandoned, 'the service to see the request abandoned');
    } finally {
      await fixture.stop();
    }
  });
});

// Node ends an HTTP/2 stream's body also when the stream or its connection
// goes away; the edge took that for the end of the request and sent the
// service a whole chunked body (found with Python's h2 over TLS). Directly,
// an HTTP/1.1 service sees such a body cut.
describe('an HTTP/2 client going away mid-upload', () => {
  it.each([
    ['h2c', 'FIN', '/upload/h2c-fin'],
    ['h2c', 'reset connection', '/upload/h2c-reset'],
    ['h2 over TLS', 'close_notify and FIN', '/upload/tls-close'],
  ])('%s, %s: the service sees the body cut, not ended', async (over, how, path) => {
    const tunnel = (over === 'h2c' ? pair : tlsPair).tunnel;
    const socket: Socket =
      over === 'h2c' ? connect(tunnel.port, '127.0.0.1') : connectTls({ port: tunnel.port, host: '127.0.0.1', servername: 'app.localhost', ALPNProtocols: ['h2'], rejectUnauthorized: false });
    const session = connectHttp2(`${over === 'h2c' ? 'http' : 'https'}://127.0.0.1:${tunnel.port}`, { createConnection: () => socket });
    session.on('error', () => {});
    // No content-length: the body streams to the service, chunked.
    const stream = session.request({ ':method': 'POST', ':path': path, ':authority': tunnel.authority }, { endStream: false });
    stream.on('error', () => {});
    stream.write(Buffer.alloc(60_000, 'u'));
    await eventually(() => requests.has(path), `the service to get ${path}`);
    if (how === 'reset connection') socket.resetAndDestroy();
    else socket.end();
    await eventually(() => requests.get(path)!.abandoned, `the service to see ${path} abandoned`);
    expect(requests.get(path)!.bodyEnded).toBe(false);
    session.destroy();
  });
});

// The same on a gRPC tunnel, where the service would hear the end of a
// client stream as the call's half-close (and a client-streaming service
// commit). The agent cancels the call with RST_STREAM alone; a grpc-js
// service still reports a half-close before the cancellation, as it does
// for a caller that cancels directly: Node ends the stream's body on a reset.
describe('a gRPC client going away mid-stream', () => {
  let grpcService: Http2Server;
  let grpcPair: TunnelPair;
  /** By path: the call's stream ended with END_STREAM (Node marks one that closed without it aborted first); it closed. */
  const calls = new Map<string, { halfClosed: boolean; closed: boolean }>();

  beforeAll(async () => {
    grpcService = createHttp2Server();
    grpcService.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      const seen = { halfClosed: false, closed: false };
      calls.set(String(headers[':path']), seen);
      stream.on('error', () => {});
      stream.on('end', () => (seen.halfClosed = !stream.aborted));
      stream.on('close', () => (seen.closed = true));
      stream.resume();
    });
    await new Promise<void>((resolve) => grpcService.listen(0, '127.0.0.1', resolve));
    grpcPair = await startTunnelPair((grpcService.address() as AddressInfo).port, 'grpc');
  });

  afterAll(async () => {
    await grpcPair?.stop();
    await new Promise((resolve) => grpcService?.close(resolve));
  });

  it.each([
    ['FIN', '/up.Load/Fin'],
    ['reset connection', '/up.Load/Reset'],
  ])('%s: the service sees the call cancelled, never half-closed', async (how, path) => {
    const outcomes: Record<string, { halfClosed: boolean; closed: boolean }> = {};
    for (const [label, endpoint] of grpcPair.both) {
      const socket = connect(endpoint.port, '127.0.0.1');
      const session = connectHttp2(`http://127.0.0.1:${endpoint.port}`, { createConnection: () => socket });
      session.on('error', () => {});
      const callPath = `${path}${label}`;
      const stream = session.request({ ':method': 'POST', ':path': callPath, ':authority': endpoint.authority, 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
      stream.on('error', () => {});
      // Three messages of 5 bytes, and no end of stream.
      const message = Buffer.from([0, 0, 0, 0, 5, 1, 2, 3, 4, 5]);
      stream.write(Buffer.concat([message, message, message]));
      await eventually(() => calls.has(callPath), `the service to get ${callPath}`);
      if (how === 'reset connection') socket.resetAndDestroy();
      else socket.end();
      await eventually(() => calls.get(callPath)!.closed, `the service to see ${callPath} close`);
      outcomes[label] = calls.get(callPath)!;
      session.destroy();
    }
    expect(outcomes).toEqual({ direct: { halfClosed: false, closed: true }, tunnel: { halfClosed: false, closed: true } });
  });
});

describe('an HTTP/2 client resetting its request mid-way', () => {
  let h2Service: Http2Server;
  let h2Pair: TunnelPair;
  /** By path: the RST_STREAM code the service's stream closed with. */
  const closedWith = new Map<string, number>();

  beforeAll(async () => {
    h2Service = createHttp2Server();
    h2Service.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      stream.on('error', () => {});
      stream.on('close', () => closedWith.set(String(headers[':path']), stream.rstCode));
      stream.resume();
      // Its head now, its body never: the client resets while the answer is under way.
      stream.respond({ ':status': 200 });
      stream.write('first part');
    });
    await new Promise<void>((resolve) => h2Service.listen(0, '127.0.0.1', resolve));
    // A gRPC tunnel reaches its service over HTTP/2, plain requests too.
    h2Pair = await startTunnelPair((h2Service.address() as AddressInfo).port, 'grpc');
  });

  afterAll(async () => {
    await h2Pair?.stop();
    await new Promise((resolve) => h2Service?.close(resolve));
  });

  it.each([
    ['CANCEL', constants.NGHTTP2_CANCEL],
    ['INTERNAL_ERROR', constants.NGHTTP2_INTERNAL_ERROR],
    ['ENHANCE_YOUR_CALM', constants.NGHTTP2_ENHANCE_YOUR_CALM],
    ['NO_ERROR', constants.NGHTTP2_NO_ERROR],
  ])('RST_STREAM %s: the service sees that code, as it does directly', async (name, code) => {
    const outcomes: Record<string, number | undefined> = {};
    for (const [label, endpoint] of h2Pair.both) {
      const session = connectHttp2(`http://127.0.0.1:${endpoint.port}`);
      session.on('error', () => {});
      const path = `/upload/${name}/${label}`;
      const stream = session.request({ ':method': 'POST', ':path': path, ':authority': endpoint.authority }, { endStream: false });
      stream.on('error', () => {});
      stream.write('some of the body');
      await new Promise((resolve) => stream.once('data', resolve));
      stream.close(code);
      await eventually(() => closedWith.has(path), `the service to see ${path} close`);
      outcomes[label] = closedWith.get(path);
      session.close();
    }
    expect(outcomes).toEqual({ direct: code, tunnel: code });
  });
});
