// A service that closes a kept-alive connection just as a request comes on
// it (an idle timeout without a Keep-Alive hint does this now and then):
// curl, opening a connection per run, never meets it; the agent, which
// keeps connections to the service, sends an idempotent request again on a
// new one, so the client gets the same answer as directly. A POST is not
// sent twice (RFC 9112 section 9.3.1) unless it carries an Idempotency-Key.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runTool } from './tools.js';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

/**
 * A service that answers the first `answers` requests on each connection and
 * keeps it alive, then closes it, unanswered, when the next one comes;
 * `received` lists every request it read. Answers wait until it has read
 * `together` requests in all, so that a client sending that many at once
 * holds as many connections.
 */
async function startClosingService(answers: number, together = 1): Promise<{ port: number; received: string[]; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const received: string[] = [];
  const held: (() => void)[] = [];
  let read = 0;
  const answerInTurn = (answer: () => void): void => {
    held.push(answer);
    if (read >= together) for (const each of held.splice(0)) each();
  };
  const service: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let buffered = '';
    let answered = 0;
    socket.on('data', (data: Buffer) => {
      buffered += data.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
        const head = buffered.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        const method = head.split(' ')[0]!;
        received.push(method);
        read++;
        if (answered++ >= answers) {
          socket.destroy();
          return;
        }
        const body = `answered ${method}\n`;
        // Kept alive for long, so that the agent keeps the connection however slow the next curl is to start.
        answerInTurn(() => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nKeep-Alive: timeout=600\r\n\r\n${method === 'HEAD' ? '' : body}`));
      }
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  return {
    port: (service.address() as AddressInfo).port,
    received,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => service.close(resolve));
    },
  };
}

let stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.reverse()) await stop();
  stops = [];
});

/** A closing service and a tunnel to it whose agent has no connection to it yet. */
async function fixture(answers = 1, together = 1): Promise<{ pair: TunnelPair; received: string[] }> {
  const service = await startClosingService(answers, together);
  stops.push(() => service.stop());
  const pair = await startTunnelPair(service.port, 'http');
  stops.push(() => pair.stop());
  return { pair, received: service.received };
}

/** curl's body and status: a GET, which leaves the agent one kept connection, then the request of `args`, which meets it. */
async function getThen(endpoint: Endpoint, args: string[]): Promise<string[]> {
  const outcomes: string[] = [];
  for (const each of [[], args]) {
    const result = await runTool('curl', ['-s', '-w', ' %{http_code}', '-H', `Host: ${endpoint.authority}`, `http://127.0.0.1:${endpoint.port}/reuse`, ...each]);
    outcomes.push(result.stdout.toString().replace(/\s+/g, ' ').trim());
  }
  return outcomes;
}

describe('a service closing a kept-alive connection as a request comes', () => {
  it.each([
    ['GET', [], 'GET'],
    ['HEAD', ['-I', '-o', '/dev/null'], 'HEAD'],
    ['PUT with its body', ['-X', 'PUT', '--data-binary', 'x'.repeat(1000)], 'PUT'],
    ['DELETE', ['-X', 'DELETE'], 'DELETE'],
    ['POST with an Idempotency-Key', ['-X', 'POST', '--data-binary', 'y', '-H', 'Idempotency-Key: 8e03978e'], 'POST'],
  ])('%s: the agent sends it again on a new connection, and the client gets the answer it gets directly', async (_label, args, method) => {
    const { pair, received } = await fixture();
    const direct = await getThen(pair.direct, args);
    expect(direct).toEqual(['answered GET 200', expect.stringMatching(/(^| )200$/)]);
    expect(received.splice(0)).toEqual(['GET', method]);
    expect(await getThen(pair.tunnel, args)).toEqual(direct);
    // Met the closing connection, then went again.
    expect(received).toEqual(['GET', method, method]);
  });

  it('with every kept connection closed so: a GET goes again once, on a new connection, not on each of the others', async () => {
    // Three requests at once leave the agent three kept connections, each of which the service closes at its next request.
    const { pair, received } = await fixture(1, 3);
    const curl = (): Promise<string> =>
      runTool('curl', ['-s', '-w', ' %{http_code}', '-H', `Host: ${pair.tunnel.authority}`, `http://127.0.0.1:${pair.tunnel.port}/reuse`]).then((result) => result.stdout.toString().replace(/\s+/g, ' ').trim());
    expect(await Promise.all([curl(), curl(), curl()])).toEqual(['answered GET 200', 'answered GET 200', 'answered GET 200']);
    received.splice(0);
    expect(await curl()).toBe('answered GET 200');
    // Dropped on a kept connection, then answered on a new one; trying the other kept ones first ran it three times.
    expect(received).toEqual(['GET', 'GET']);
  });

  it('that drops every request: a GET is not sent again on the new connection that dropped it (502, once)', async () => {
    const { pair, received } = await fixture(0);
    const result = await runTool('curl', ['-s', '-w', ' %{http_code}', '-H', `Host: ${pair.tunnel.authority}`, `http://127.0.0.1:${pair.tunnel.port}/reuse`]);
    expect(result.stdout.toString().replace(/\s+/g, ' ')).toMatch(/other side closed 502$/);
    expect(received).toEqual(['GET']);
  });

  it('POST: not sent twice; the client is told the service closed the connection (502)', async () => {
    const { pair, received } = await fixture();
    const [get, post] = await getThen(pair.tunnel, ['-X', 'POST', '--data-binary', 'z']);
    expect([get, post]).toEqual(['answered GET 200', expect.stringMatching(/other side closed 502$/)]);
    expect(received).toEqual(['GET', 'POST']);
  });
});
