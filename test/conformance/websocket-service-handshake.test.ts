// What a WebSocket service sees of the upgrade, and what the client hears of
// a service that breaks the protocol, directly and through the tunnel. The
// service is raw bytes on a socket, so it can write what no library would
// (an audit with Python's websockets found each of these differing):
// - the request target as sent (the agent's URL resolved `/a/../p` to `/p`
//   and escaped quotes), header names as sent and repeated fields apart
//   (two Cookie lines arrived as `cookie: a=1, b=2`, one cookie lost), with
//   Expect in the head too, and fields named as Object's members;
// - a subprotocol chosen from no offer reaches the client, which fails the
//   handshake as directly (it opened with none, while the service had chosen);
// - version 8, which the edge takes, reaches the service as 8 (it went as 13);
// - a frame the client would refuse (invalid UTF-8, a reserved opcode or
//   bit, a masked frame, a long or fragmented ping, a bad close): the agent
//   refuses it for the client and closes as the client would (1002, 1007),
//   and the client hears that close, with why (it was cut, 1006).
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { eventually } from '../helpers/common.js';
import { rawRequest } from './raw-http.js';
import { startProcessTunnelPair, type TunnelPair } from './tunnel-pair.js';

interface Upgrade {
  target: string;
  /** Header lines as they came, in order. */
  lines: string[];
  /** The first close frame the client sent, once it has come. */
  heardClose?: { code: number; reason: string };
}

/**
 * Answers every upgrade with 101. `/frame/HEX` then writes those bytes as
 * is; `?protocol=P` answers with that subprotocol whatever was offered.
 */
async function startRawWebSocketService(): Promise<{ port: number; upgrades: Upgrade[]; server: Server }> {
  const upgrades: Upgrade[] = [];
  const server = createServer((socket: Socket) => {
    socket.on('error', () => {});
    let head = Buffer.alloc(0);
    let upgrade: Upgrade | undefined;
    let frames = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      if (upgrade !== undefined) {
        frames = Buffer.concat([frames, data]);
        readClose(upgrade, frames, socket);
        return;
      }
      head = Buffer.concat([head, data]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [requestLine, ...lines] = head.subarray(0, end).toString('latin1').split('\r\n');
      upgrade = { target: requestLine!.split(' ')[1]!, lines };
      upgrades.push(upgrade);
      const field = (name: string): string | undefined => lines.find((line) => line.toLowerCase().startsWith(`${name}:`))?.replace(/^[^:]*:\s*/, '');
      if (upgrade.target === '/refused-in-utf8') {
        socket.end(Buffer.from('HTTP/1.1 403 Verboten \u2713\r\nX-Why: caf\u00e9\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 'utf8'));
        return;
      }
      // As Python's websockets and most services: version 13 only (RFC 6455 section 4.4).
      if (field('sec-websocket-version') !== '13') {
        socket.end('HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      const key = field('sec-websocket-key')!;
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      const answer = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`];
      const protocol = new URL(upgrade.target, 'http://service').searchParams.get('protocol');
      if (protocol !== null) answer.push(`Sec-WebSocket-Protocol: ${protocol}`);
      socket.write(`${answer.join('\r\n')}\r\n\r\n`);
      const frame = /^\/frame\/([0-9a-f]+)/.exec(upgrade.target);
      if (frame !== null) socket.write(Buffer.from(frame[1]!, 'hex'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, upgrades, server };
}

/** The client's first frame, masked as clients send them: when it is a close, what it said; then the service hangs up. */
function readClose(upgrade: Upgrade, frames: Buffer, socket: Socket): void {
  if (upgrade.heardClose !== undefined || frames.length < 6) return;
  const length = frames[1]! & 0x7f;
  if (frames.length < 6 + length) return;
  const mask = frames.subarray(2, 6);
  const payload = Buffer.from(frames.subarray(6, 6 + length).map((byte, i) => byte ^ mask[i % 4]!));
  if ((frames[0]! & 0x0f) !== 8) return;
  upgrade.heardClose = { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString() };
  socket.end();
}

const handshake = (target: string, authority: string, extra: string[] = []): string =>
  [`GET ${target} HTTP/1.1`, `Host: ${authority}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', ...extra, '', ''].join('\r\n');

let service: Awaited<ReturnType<typeof startRawWebSocketService>>;
let pair: TunnelPair;

beforeAll(async () => {
  service = await startRawWebSocketService();
  pair = await startProcessTunnelPair(service.port, 'http');
});

afterAll(async () => {
  await pair?.stop();
  await new Promise((resolve) => service?.server.close(resolve));
});

describe('the upgrade request as the service reads it', () => {
  it.each(['/a/../p', '/a/%2e%2e/p', '/p/./x', "/p?q='a'&x=\"&<y>", '/a\\b', '/caf%C3%A9?%41'])('%s reaches the service as sent', async (target) => {
    const seen: Record<string, string> = {};
    for (const [label, endpoint] of pair.both) {
      const response = await rawRequest(endpoint.port, handshake(target, endpoint.authority), (text) => text.includes('\r\n\r\n'));
      expect(response.status).toBe(101);
      seen[label] = service.upgrades.at(-1)!.target;
    }
    expect(seen).toEqual({ direct: target, tunnel: target });
  });

  it('reaches the service as sent with Expect in the head too (Node writes such a head at once)', async () => {
    const seen: Record<string, string> = {};
    for (const [label, endpoint] of pair.both) {
      const response = await rawRequest(endpoint.port, handshake('/a/../p?q=%2e%2e', endpoint.authority, ['Expect: 100-continue']), (text) => text.includes('\r\n\r\n'));
      expect(response.status).toBe(101);
      seen[label] = service.upgrades.at(-1)!.target;
    }
    expect(seen).toEqual({ direct: '/a/../p?q=%2e%2e', tunnel: '/a/../p?q=%2e%2e' });
  });

  it('an absolute-form target goes on in origin form, as over HTTP (RFC 9112 section 3.2.2)', async () => {
    const { tunnel } = pair;
    const response = await rawRequest(tunnel.port, handshake(`http://${tunnel.authority}/a/../p?q`, tunnel.authority), (text) => text.includes('\r\n\r\n'));
    expect(response.status).toBe(101);
    expect(service.upgrades.at(-1)!.target).toBe('/a/../p?q');
  });

  it('a version the service does not take is refused by it, as directly (the edge takes 8 and 13)', async () => {
    const seen: Record<string, { status: number; version: string | undefined }> = {};
    for (const [label, endpoint] of pair.both) {
      const request = handshake('/version', endpoint.authority).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8');
      const response = await rawRequest(endpoint.port, request, (text) => text.includes('\r\n\r\n'));
      seen[label] = { status: response.status, version: response.headers['sec-websocket-version'] };
    }
    expect(seen).toEqual({ direct: { status: 426, version: '13' }, tunnel: { status: 426, version: '13' } });
  });

  it("a refusal's reason and fields in UTF-8 reach the client as the service sent their bytes, as directly", async () => {
    const seen: Record<string, { statusLine: string; why: string | undefined }> = {};
    for (const [label, endpoint] of pair.both) {
      const response = await rawRequest(endpoint.port, handshake('/refused-in-utf8', endpoint.authority), (text) => text.includes('\r\n\r\n'));
      // Read as latin1: the bytes one for one.
      seen[label] = { statusLine: response.statusLine, why: response.headers['x-why'] };
    }
    const asSent = { statusLine: Buffer.from('HTTP/1.1 403 Verboten \u2713').toString('latin1'), why: Buffer.from('caf\u00e9').toString('latin1') };
    expect(seen).toEqual({ direct: asSent, tunnel: asSent });
  });

  it('keeps header names as sent and repeated fields apart; two Cookie lines reach it as one of both cookies', async () => {
    const seen: Record<string, { custom: string[]; cookies: string[] }> = {};
    for (const [label, endpoint] of pair.both) {
      const extra = ['X-Custom-Thing: 1', 'Cookie: a=1', 'X-Custom-Thing: 2', 'Cookie: b=2', 'constructor: c', '__proto__: p', 'toString: t'];
      const response = await rawRequest(endpoint.port, handshake('/headers', endpoint.authority, extra), (text) => text.includes('\r\n\r\n'));
      expect(response.status).toBe(101);
      const { target, lines } = service.upgrades.at(-1)!;
      expect(target).toBe('/headers');
      const cookies = lines.filter((line) => /^cookie:/i.test(line)).flatMap((line) => line.replace(/^[^:]*:\s*/, '').split(/;\s*/));
      const named = (name: string): string[] => lines.filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`));
      seen[label] = { custom: [...named('x-custom-thing'), ...named('constructor'), ...named('__proto__'), ...named('toString')], cookies };
    }
    expect(seen.tunnel).toEqual(seen.direct);
    expect(seen.direct).toEqual({ custom: ['X-Custom-Thing: 1', 'X-Custom-Thing: 2', 'constructor: c', '__proto__: p', 'toString: t'], cookies: ['a=1', 'b=2'] });
  });

  it('a subprotocol the service chose from no offer reaches the client, which fails the handshake as directly', async () => {
    const outcomes: Record<string, string> = {};
    for (const [label, endpoint] of pair.both) {
      const ws = new WebSocket(`ws://127.0.0.1:${endpoint.port}/?protocol=chat`, { headers: { host: endpoint.authority } });
      outcomes[label] = await new Promise<string>((resolve) => {
        ws.once('open', () => resolve('opened'));
        ws.once('error', (error) => resolve(error.message));
      });
      ws.terminate();
    }
    expect(outcomes.tunnel).toBe(outcomes.direct);
    expect(outcomes.direct).toBe('Server sent a subprotocol but none was requested');
  });
});

describe('a frame from the service that breaks the protocol', () => {
  const frames: [label: string, hex: string, code: number][] = [
    ['a text message that is not UTF-8', '8102fffe', 1007],
    ['a reserved opcode', '8300', 1002],
    ['RSV1 with no extension', 'c10161', 1002],
    ['a masked frame', '818101020304' + '60', 1002],
    ['a ping over 125 bytes', '897e007e' + '61'.repeat(126), 1002],
    ['a fragmented ping', '0900', 1002],
    ['a close frame of one byte', '880100', 1002],
    ['a close with code 1005', '880203ed', 1002],
  ];

  it.each(frames)('%s: the service hears the close the client sends directly, and the client hears it too, with why', async (_label, hex, code) => {
    const outcomes: Record<string, { client: { code: number; reason: string }; service: { code: number; reason: string } }> = {};
    for (const [label, endpoint] of pair.both) {
      const ws = new WebSocket(`ws://127.0.0.1:${endpoint.port}/frame/${hex}`, { headers: { host: endpoint.authority } });
      ws.on('error', () => {});
      const client = await new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (closeCode, reason) => resolve({ code: closeCode, reason: reason.toString() })));
      const upgrade = service.upgrades.at(-1)!;
      await eventually(() => upgrade.heardClose !== undefined, 'the close to reach the service');
      outcomes[label] = { client, service: upgrade.heardClose! };
    }
    // Directly ws refuses the frame, closes with the code and stops reading: it reports 1006.
    expect(outcomes.direct).toEqual({ client: { code: 1006, reason: '' }, service: { code, reason: '' } });
    expect(outcomes.tunnel!.service.code).toBe(code);
    expect(outcomes.tunnel!.client).toEqual({ code, reason: expect.stringMatching(/^Invalid WebSocket frame: /) });
    expect(outcomes.tunnel!.service.reason).toBe(outcomes.tunnel!.client.reason);
  });
});
