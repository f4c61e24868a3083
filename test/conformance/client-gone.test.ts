// A public client that goes away while the service is quiet (a long-poll
// not yet answered, an event stream between events) by closing its
// connection normally (FIN: curl killed, a tab closed). Over HTTP/2 the
// service hears of it at once, as it does from Node's HTTP/2 server
// directly, instead of answering nobody until a timeout. Over HTTP/1.1 a
// client's end of input is a half-close, whose answers it still gets
// (http1-connection-ends.test.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { rmSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { makeDevCertificate } from '../../src/main/tunnel/server/dev-certificate.js';
import { eventually } from '../helpers/common.js';
import { startTunnelPair, type TunnelPair } from './tunnel-pair.js';

/** What the service saw of each request, by path: its response closed before it was finished. */
const requests = new Map<string, { res: ServerResponse; abandoned: boolean }>();
let service: Server;
let pair: TunnelPair;
let tlsPair: TunnelPair;
let certDir: string;

beforeAll(async () => {
  // /wait/* never answers (a long-poll); /events/* sends one event and then waits.
  service = createServer((req: IncomingMessage, res: ServerResponse) => {
    const seen = { res, abandoned: false };
    requests.set(req.url ?? '', seen);
    res.once('close', () => (seen.abandoned = !res.writableFinished));
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
