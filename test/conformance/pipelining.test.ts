// HTTP/1.1 requests pipelined on one connection (raw bytes) reach the
// service in the order sent, as directly, and one at a time: RFC 9112
// section 9.3.2 lets a server work on pipelined requests at once only when
// all are safe, and a POST ran at the service before the one sent ahead of it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './raw-http.js';
import { startTunnelPair, type TunnelPair } from './tunnel-pair.js';

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
        req.url === '/slow' ? 100 : 0,
      ),
    );
  });
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
});
