// The agent's kept connections to a service serve every public client in
// turn. A service that writes a body after an answer that has none (a 204 or
// 304: Python's http.server writes one if its handler does), in a later read,
// had that body taken for the next request's answer on the connection, which
// went to another client (a raw-socket audit: hundreds of answers to the
// wrong clients in 8 s). Directly, such bytes reach only the client that
// asked, on its own connection.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchStatus } from '../../src/main/tunnel/patches/patch-report.js';
import { rawRequest } from './raw-http.js';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

/** What a service sends that no request asked for. */
const stray = 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED';

/** Bodiless answers after which the service sends `stray` (when the connection's next request comes, so surely in a later read). */
const bodiless: Record<string, string> = {
  '/no-content': 'HTTP/1.1 204 No Content\r\n\r\n',
  '/not-modified': 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n',
};

let service: Server;
let pair: TunnelPair;

beforeAll(async () => {
  // Keeps every connection, whatever the request says; answers anything else with its own path.
  service = createServer((socket: Socket) => {
    socket.on('error', () => {});
    let buffered = '';
    let strayOwed = false;
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const path = buffered.split(' ')[1] ?? '';
        buffered = buffered.slice(end + 4);
        if (strayOwed) socket.write(stray);
        strayOwed = path in bodiless;
        socket.write(bodiless[path] ?? `HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
      }
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  pair = await startTunnelPair((service.address() as AddressInfo).port, 'http');
});

afterAll(async () => {
  await pair?.stop();
  await new Promise((resolve) => service?.close(resolve));
});

/** Whether `text` holds one whole answer: its head, and as much body as its Content-Length says. */
function answered(text: string): boolean {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, headEnd));
  return text.length - headEnd - 4 >= Number(length?.[1] ?? 0);
}

/** One GET on a connection of its own, read until answered. */
const get = (endpoint: Endpoint, path: string) => rawRequest(endpoint.port, `GET ${path} HTTP/1.1\r\nHost: ${endpoint.authority}\r\n\r\n`, answered);

describe('a service that sends a body after an answer that has none', () => {
  it.each(Object.keys(bodiless))('after %s: the next client gets its own answer, both ways', async (path) => {
    const runs: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) {
      const first = await get(endpoint, path);
      const next = await get(endpoint, `/next-after${path}`);
      runs[label] = { first: first.status, next: [next.status, next.rest] };
    }
    const expected = { first: Number(bodiless[path]!.split(' ')[1]), next: [200, `/next-after${path}`] };
    expect(runs).toEqual({ direct: expected, tunnel: expected });
    expect(patchStatus().get('undici-bodiless-close')).toBe(true);
  });
});
