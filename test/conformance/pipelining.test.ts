// HTTP/1.1 requests pipelined on one connection (raw bytes) reach the
// service in the order sent, as directly, and one at a time: RFC 9112
// section 9.3.2 lets a server work on pipelined requests at once only when
// all are safe, and a POST ran at the service before the one sent ahead of it.
// An upgrade or CONNECT pipelined behind them waits its turn too.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { rawRequest } from './raw-http.js';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

let service: Server;
let pair: TunnelPair;
/** Paths in the order their requests reached the service. */
let arrivals: string[] = [];
let working = 0;
let mostAtOnce = 0;

beforeAll(async () => {
  // /slow answers after a while, so that the requests behind it would reach the service meanwhile if sent on at once.
  service = createServer((req: IncomingMessage, res: ServerResponse) => {
    arrivals.push(req.url ?? '');
    mostAtOnce = Math.max(mostAtOnce, ++working);
    req.resume();
    req.on('end', () =>
      setTimeout(
        () => {
          working--;
          res.end(`done ${req.url};`);
        },
        req.url === '/slow' ? 100 : req.url === '/slower' ? 2_000 : 0,
      ),
    );
  });
  new WebSocketServer({ server: service }).on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  pair = await startTunnelPair((service.address() as AddressInfo).port, 'http');
});

afterAll(async () => {
  await pair?.stop();
  await new Promise((resolve) => service?.close(resolve));
});

describe('HTTP/1.1 requests pipelined on one connection', () => {
  it('reach the service in the order sent, as directly, and through the tunnel one at a time', async () => {
    const runs: Record<string, unknown> = {};
    const atOnce: Record<string, number> = {};
    for (const [label, endpoint] of pair.both) {
      arrivals = [];
      mostAtOnce = 0;
      const post = (path: string, body: string): string => `POST ${path} HTTP/1.1\r\nHost: ${endpoint.authority}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      const response = await rawRequest(endpoint.port, post('/slow', 'one') + post('/second', 'two') + `GET /third HTTP/1.1\r\nHost: ${endpoint.authority}\r\nConnection: close\r\n\r\n`);
      runs[label] = { arrivals, answers: [...response.rest.matchAll(/done (\/\w+);/g)].map((match) => match[1]) };
      atOnce[label] = mostAtOnce;
    }
    expect(runs.tunnel).toEqual(runs.direct);
    expect(runs.direct).toEqual({ arrivals: ['/slow', '/second', '/third'], answers: ['/slow', '/second', '/third'] });
    expect(atOnce.tunnel).toBe(1);
  });

  it('a request pipelined behind an answer gets its own, however long it takes (the wait for a next head started with the first answer: 408)', async () => {
    // The wait for a next head is the idle time plus the head deadline after an answer: 1.5 s here; /slower answers after 2 s.
    const shortWaits = await startTunnelPair((service.address() as AddressInfo).port, 'http', { limits: { idleTimeoutMs: 1_000, headerTimeoutMs: 500 } });
    try {
      const { authority } = shortWaits.tunnel;
      const response = await rawRequest(shortWaits.tunnel.port, post(authority, '/first', 'one') + `GET /slower HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
      expect([...response.rest.matchAll(/HTTP\/1\.1 (\d+)/g)].map((match) => match[1])).toEqual(['200']);
      expect([...response.rest.matchAll(/done (\/\w+);/g)].map((match) => match[1])).toEqual(['/first', '/slower']);
    } finally {
      await shortWaits.stop();
    }
  });
});

/** `text` as one masked WebSocket text frame (a client's), under 126 bytes. */
const maskedTextFrame = (text: string): Buffer => {
  const mask = Buffer.from([1, 2, 3, 4]);
  const payload = Buffer.from(text).map((byte, i) => byte ^ mask[i % 4]!);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload]);
};

const post = (authority: string, path: string, body: string): string => `POST ${path} HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

/**
 * `POST /slow` and a WebSocket upgrade pipelined in one write, read up to
 * the end of the 101's head; then `echo` sends a message and says whether
 * exactly its echo came next.
 */
async function pipelinedUpgrade({ port, authority }: Endpoint): Promise<{ text: string; socket: Socket & { echo(message: string): Promise<boolean> } }> {
  const upgrade = `GET /ws HTTP/1.1\r\nHost: ${authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (text += chunk));
  const readUntil = (done: (text: string) => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done(text)) return;
        socket.off('data', check).off('close', closed);
        resolve();
      };
      const closed = (): void => reject(new Error(`closed after ${JSON.stringify(text)}`));
      socket.on('data', check).once('close', closed);
      check();
    });
  socket.write(post(authority, '/slow', 'one') + upgrade);
  await readUntil((sofar) => /HTTP\/1\.1 101 [^]*?\r\n\r\n/.test(sofar));
  const handshake = text;
  const echo = async (message: string): Promise<boolean> => {
    const before = text.length;
    socket.write(maskedTextFrame(message));
    // The echo: an unmasked text frame, its length in one byte.
    const expected = `\x81${String.fromCharCode(message.length)}${message}`;
    await readUntil((sofar) => sofar.length - before >= expected.length);
    return text.slice(before) === expected;
  };
  return { text: handshake, socket: Object.assign(socket, { echo }) };
}

// Node hands an upgrade or CONNECT over as soon as its head is parsed, so a
// Node service reached directly answers it out of turn as the tunnel did; the
// tunnel answers in order, as a server taking a connection's requests in turn does.
describe('an upgrade or CONNECT pipelined behind a request still unanswered', () => {
  it('a WebSocket upgrade gets its 101 after the answer before it, and the WebSocket then works', async () => {
    const { text, socket } = await pipelinedUpgrade(pair.tunnel);
    expect(text.indexOf('done /slow;')).toBeGreaterThan(0);
    expect(text.indexOf('done /slow;')).toBeLessThan(text.indexOf('HTTP/1.1 101'));
    expect(await socket.echo('hello')).toBe(true);
    socket.destroy();
  });

  it('the answer before it does not start a wait for another head on the WebSocket (which would write 408 into it)', async () => {
    // The wait for a next head is the idle time plus the head deadline after an answer: 1.5 s here.
    const shortWaits = await startTunnelPair((service.address() as AddressInfo).port, 'http', { limits: { idleTimeoutMs: 1_000, headerTimeoutMs: 500 } });
    try {
      const { socket } = await pipelinedUpgrade(shortWaits.tunnel);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(await socket.echo('still open')).toBe(true);
      socket.destroy();
    } finally {
      await shortWaits.stop();
    }
  });

  it('an upgrade the tunnel does not carry is served as a plain request, in its turn', async () => {
    const { port, authority } = pair.tunnel;
    arrivals = [];
    const h2c = `GET /second HTTP/1.1\r\nHost: ${authority}\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nConnection: Upgrade, HTTP2-Settings, close\r\n\r\n`;
    const response = await rawRequest(port, post(authority, '/slow', 'one') + h2c);
    expect(arrivals).toEqual(['/slow', '/second']);
    expect([...response.rest.matchAll(/done (\/\w+);/g)].map((match) => match[1])).toEqual(['/slow', '/second']);
  });

  it('a CONNECT is refused after the answer before it', async () => {
    const { port, authority } = pair.tunnel;
    const response = await rawRequest(port, post(authority, '/slow', 'one') + `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`);
    expect(response.status).toBe(200);
    expect(response.rest).toMatch(/^done \/slow;HTTP\/1\.1 400 /);
  });
});
