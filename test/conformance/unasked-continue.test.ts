// A service that sends 100 (Continue) to requests that did not ask for one
// (some do, to every request with a body or to every request): RFC 9110
// section 15.2 has clients read past it to the final answer, as curl does
// directly. The agent's undici pool destroyed the connection instead and the
// client got 502 (found going through the last audits' list).
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchStatus } from '../../src/main/tunnel/patches/patch-report.js';
import { rawRequest } from './raw-http.js';
import { runTool } from './tools.js';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

let service: Server;
let pair: TunnelPair;
/** Requests the service answered on a connection it had answered before. */
let answeredOnKeptConnections = 0;

/** Answers each request on a kept-alive connection with a 100, then 200 and how many body bytes came. */
function answerEachWithContinue(socket: Socket): void {
  socket.on('error', () => {});
  let buffered = Buffer.alloc(0);
  let answered = 0;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const headEnd = buffered.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = buffered.subarray(0, headEnd).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffered.length < headEnd + 4 + length) return;
      buffered = buffered.subarray(headEnd + 4 + length);
      const body = `${head.split(' ')[0]} ${length}`;
      if (answered++ > 0) answeredOnKeptConnections++;
      socket.write(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    }
  });
}

beforeAll(async () => {
  service = createServer(answerEachWithContinue);
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  pair = await startTunnelPair((service.address() as AddressInfo).port, 'http');
});

afterAll(async () => {
  await pair?.stop();
  await new Promise((resolve) => service?.close(resolve));
});

const curl = async (endpoint: Endpoint, extra: string[]): Promise<{ exit: number; output: string }> => {
  const result = await runTool('curl', ['-s', '-w', ' %{http_code}', ...extra, `http://127.0.0.1:${endpoint.port}/`, '-H', `Host: ${endpoint.authority}`]);
  return { exit: result.code, output: result.stdout.toString() };
};

describe('a 100 (Continue) the request did not ask for', () => {
  it.each([
    ['a GET', []],
    ['a POST with a body', ['-d', 'hello']],
    ['a PUT, over HTTP/2', ['--http2-prior-knowledge', '-X', 'PUT', '-d', 'hello there']],
    ['a POST asking for 100', ['-H', 'Expect: 100-continue', '-d', 'hello']],
  ])('%s gets the final answer through the tunnel, as directly', async (_label, extra) => {
    const direct = await curl(pair.direct, extra.filter((arg) => arg !== '--http2-prior-knowledge'));
    const tunnel = await curl(pair.tunnel, extra);
    expect(tunnel).toEqual(direct);
    expect(direct.exit).toBe(0);
  });

  it('reaches a client that did not ask for it as the final answer alone, and the agent keeps using the connection', async () => {
    const before = answeredOnKeptConnections;
    for (let i = 0; i < 3; i++) {
      const response = await rawRequest(pair.tunnel.port, `POST /kept HTTP/1.1\r\nHost: ${pair.tunnel.authority}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`);
      expect({ statusLine: response.statusLine, body: response.rest }).toEqual({ statusLine: 'HTTP/1.1 200 OK', body: 'POST 2' });
    }
    expect(answeredOnKeptConnections).toBeGreaterThan(before);
    expect(patchStatus().get('undici-unasked-continue')).toBe(true);
  });
});
