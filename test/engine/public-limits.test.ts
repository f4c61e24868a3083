// Limits on the public side: head size (431), body size (413), slow or
// silent clients (header timeout), idle connections, and a per-tunnel rate
// limit (429) that leaves other tunnels alone.
import { once } from 'node:events';
import { request } from 'node:http';
import { connect as connectHttp2, constants as http2Constants } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerLimits } from '../../src/main/tunnel/config.js';
import { eventually, publicRequest, startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';
import { chunked, rawRequest } from '../conformance/raw-http.js';

let backend: Backend;
let fixture: TunnelFixture;
let bodiesSeen: number[];

async function start(limits: Partial<ServerLimits>, clock?: () => number): Promise<void> {
  bodiesSeen = [];
  backend = await startBackend((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      bodiesSeen.push(size);
      res.end(`got ${size}`);
    });
  });
  const target = String(backend.port);
  fixture = await startTunnel([{ name: 'app', protocol: 'http', target }, { name: 'other', protocol: 'http', target }], { limits, clock });
}

afterEach(async () => {
  await fixture?.stop();
  await backend?.close();
});

/** A raw client: what it writes, and the whole answer once the server closes. */
function rawClient(port: number): { socket: Socket; closed: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  return { socket, closed: once(socket, 'close').then(() => received) };
}

describe('public limits', () => {
  it('answers 431 to an oversized head, and the next request on the tunnel works', async () => {
    await start({ maxHeaderBytes: 4096 });
    const res = await publicRequest({ port: fixture.publicPort, host: 'app.localhost', headers: { 'x-big': 'y'.repeat(8_000) } });
    expect(res.status).toBe(431);
    expect((await publicRequest({ port: fixture.publicPort, host: 'app.localhost' })).status).toBe(200);
    // Trailers too, as Node holds them (its own limit leaves a cluster hop room: request-head-size.ts).
    const withTrailer = (bytes: number): Promise<number> =>
      rawRequest(fixture.publicPort, Buffer.concat([Buffer.from('POST / HTTP/1.1\r\nHost: app.localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'), chunked(Buffer.from('body'), 4, { 'x-late': 'v'.repeat(bytes) })])).then((r) => r.status);
    expect([await withTrailer(100), await withTrailer(6_000)]).toEqual([200, 431]);
    // Counted whole past Node's 2,000 fields, where its rawHeaders would stop: 2,100 fields of two bytes are over 4 KiB.
    const manyFields = Array.from({ length: 2_100 }, (_, i) => `${(i % 26).toString(36)}: ${i % 10}\r\n`).join('');
    expect((await rawRequest(fixture.publicPort, `GET / HTTP/1.1\r\nHost: app.localhost\r\n${manyFields}Connection: close\r\n\r\n`)).status).toBe(431);
  });

  it('answers 413 to a declared or streamed body over the limit, without troubling other requests', async () => {
    await start({ maxBodyBytes: 100_000 });
    const declared = await publicRequest({ port: fixture.publicPort, host: 'app.localhost', method: 'POST', body: Buffer.alloc(200_000) });
    expect(declared.status).toBe(413);
    expect(declared.headers['x-burrow-error']).toBe('BURROW_E_BODY_TOO_LARGE');
    // Chunked: the size is known only as it streams.
    const streamed = await publicRequest({
      port: fixture.publicPort,
      host: 'app.localhost',
      method: 'POST',
      headers: { 'transfer-encoding': 'chunked' },
      body: Buffer.alloc(500_000),
    }).catch((error: Error) => ({ status: -1, error }));
    // Either a 413 or, if the response had begun, a cut connection: never a 200.
    expect([413, -1]).toContain(streamed.status);
    const [small, exact] = await Promise.all([
      publicRequest({ port: fixture.publicPort, host: 'app.localhost', method: 'POST', body: Buffer.alloc(10) }),
      publicRequest({ port: fixture.publicPort, host: 'other.localhost', method: 'POST', body: Buffer.alloc(100_000) }),
    ]);
    expect(small.body.toString()).toBe('got 10');
    expect(exact.body.toString()).toBe('got 100000');
    expect(bodiesSeen.every((size) => size <= 100_000)).toBe(true);
    expect(fixture.server.inflightRequests).toBe(0);
  });

  // Found in the suite: a client still writing its body lost its 502 to the reset of a close with input unread.
  it('reads on after refusing a body, so that a client still sending it reads the 413, then closes once the client ends', async () => {
    await start({ maxBodyBytes: 100_000 });
    const socket = connect({ port: fixture.publicPort, host: '127.0.0.1', allowHalfOpen: true });
    let received = '';
    let errored: Error | undefined;
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', (error) => (errored = error));
    socket.write('POST / HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 50000000\r\n\r\n');
    socket.write(Buffer.alloc(64 * 1024));
    // The answer, then the edge's end: without lingering, Node's server destroyed the connection right behind it.
    await once(socket, 'end');
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    // More of the body, as a client that reads its answer only after its send: taken and dropped, not reset.
    for (let i = 0; i < 64; i++) socket.write(Buffer.alloc(64 * 1024));
    socket.end();
    await once(socket, 'close');
    expect(errored).toBeUndefined();
    expect(bodiesSeen).toEqual([]);
  });

  // The guard's wait for a kept-alive connection's next head is the idle and header timeouts added: past Node's longest timer, 1 ms.
  it('keeps a connection alive after an answer with the longest idle timeout burrow server takes', async () => {
    await start({ idleTimeoutMs: 2 ** 31 - 1 });
    const client = rawClient(fixture.publicPort);
    client.socket.write('GET /first HTTP/1.1\r\nHost: app.localhost\r\n\r\n');
    await new Promise((resolve) => client.socket.once('data', resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.socket.end('GET /second HTTP/1.1\r\nHost: app.localhost\r\nConnection: close\r\n\r\n');
    // Each answer's body ("got 0") runs into the next status line.
    const statuses = (await client.closed).match(/HTTP\/1\.1 \d{3} [^\r]*/g);
    expect(statuses).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
  });

  it('closes a connection that sends its head too slowly, and one that sends nothing', async () => {
    await start({ headerTimeoutMs: 300 });
    const slow = rawClient(fixture.publicPort);
    slow.socket.write('GET / HTTP/1.1\r\nHost: app.localhost\r\n');
    const silent = rawClient(fixture.publicPort);
    const [slowAnswer, silentAnswer] = await Promise.all([slow.closed, silent.closed]);
    expect(slowAnswer).toMatch(/^HTTP\/1\.1 408 /);
    expect(silentAnswer).toBe('');
  });

  it('closes a keep-alive connection left idle', async () => {
    await start({ idleTimeoutMs: 200 });
    const client = rawClient(fixture.publicPort);
    client.socket.write('GET /once HTTP/1.1\r\nHost: app.localhost\r\n\r\n');
    const answer = await client.closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('got 0');
  });

  it('cuts a response that makes no progress for the idle timeout, but not a slow reader that keeps reading', async () => {
    // The reader below reads every 50 ms: twenty times within the timeout, so a busy machine cannot make it look idle.
    await start({ idleTimeoutMs: 1_000 });
    backend.server.removeAllListeners('request');
    backend.server.on('request', (req, res) => {
      if (req.url === '/silent') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('the start, then nothing');
        return;
      }
      res.end(Buffer.alloc(3 * 1024 * 1024, 's'));
    });
    const silent = await new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.1', port: fixture.publicPort, path: '/silent', headers: { host: 'app.localhost' } }, (res) => {
        res.resume();
        res.on('end', () => resolve('ended'));
        res.on('close', () => resolve(res.complete ? 'ended' : 'cut'));
      });
      req.on('error', () => resolve('cut'));
      req.end();
    });
    expect(silent).toBe('cut');
    // Reads 64 KiB every 50 ms: each read is progress, so 3 MiB (longer than the timeout) arrives whole.
    const received = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: fixture.publicPort, path: '/big', headers: { host: 'app.localhost' } }, (res) => {
        let size = 0;
        res.pause();
        const timer = setInterval(() => {
          const chunk = (res.read(64 * 1024) ?? res.read()) as Buffer | null;
          if (chunk !== null) size += chunk.length;
        }, 50);
        res.on('end', () => (clearInterval(timer), resolve(size)));
        res.on('error', (error) => (clearInterval(timer), reject(error)));
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).toBe(3 * 1024 * 1024);
  });

  it('cuts an answer handed over in full whose HTTP/2 client never opens its window (it was held for good)', async () => {
    await start({ idleTimeoutMs: 300 });
    backend.server.removeAllListeners('request');
    // 10 KiB goes with the head (a small known length); 200 KiB streams after it.
    backend.server.on('request', (req, res) => res.end(Buffer.alloc(req.url === '/small' ? 10 * 1024 : 200 * 1024, 'w')));
    const session = connectHttp2(`http://127.0.0.1:${fixture.publicPort}`, { settings: { initialWindowSize: 0 } });
    session.on('error', () => {});
    try {
      const ends = ['/small', '/large'].map((path) => {
        const stream = session.request({ ':authority': 'app.localhost', ':path': path });
        stream.on('error', () => {});
        return new Promise<number>((resolve) => stream.once('close', () => resolve(stream.rstCode ?? -1)));
      });
      expect(await Promise.all(ends)).toEqual([http2Constants.NGHTTP2_CANCEL, http2Constants.NGHTTP2_CANCEL]);
    } finally {
      session.destroy();
    }
  });

  it('records an upload its client abandons mid-body once, as the client gone, not also as a malformed request', async () => {
    await start({});
    const records: string[] = [];
    fixture.server.on('request-end', (record) => records.push(`${record.tunnel || '(none)'} ${record.errorCode ?? 'ok'}${record.refused ? ' refused' : ''}`));
    const client = rawClient(fixture.publicPort);
    client.socket.write(`POST /upload HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: ${16 * 1024 * 1024}\r\n\r\n`);
    client.socket.write(Buffer.alloc(1024 * 1024, 'u'));
    await eventually(() => fixture.server.inflightRequests === 1, 'the upload to be under way');
    client.socket.end();
    await client.closed;
    await eventually(() => fixture.server.inflightRequests === 0 && records.length > 0, 'the upload to end');
    expect(records).toEqual(['app BURROW_E_CLIENT_GONE']);
  });

  it('limits requests per second per tunnel with 429 and Retry-After; another tunnel is not limited', async () => {
    // The rate limiter's clock stands still: no token comes back during the test, however long it takes.
    await start({ ratePerTunnel: 5 }, () => 0);
    const burst = await Promise.all(Array.from({ length: 20 }, () => publicRequest({ port: fixture.publicPort, host: 'app.localhost' })));
    const limited = burst.filter((res) => res.status === 429);
    expect(burst.filter((res) => res.status === 200)).toHaveLength(5);
    expect(limited).toHaveLength(15);
    expect(limited[0]!.headers['x-burrow-error']).toBe('BURROW_E_RATE_LIMITED');
    expect(Number(limited[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The other tunnel has its own bucket.
    const other = await Promise.all(Array.from({ length: 5 }, () => publicRequest({ port: fixture.publicPort, host: 'other.localhost' })));
    expect(other.map((res) => res.status)).toEqual([200, 200, 200, 200, 200]);
    // WebSocket upgrades count too.
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${fixture.publicPort}/`, { headers: { host: 'app.localhost' } });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(-1));
    });
    expect(refused).toBe(429);
  });
});
