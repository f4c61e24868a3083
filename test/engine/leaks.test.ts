// After 100,000 requests (HTTP, plus WebSocket and gRPC calls), everything
// per request is gone again: the server's and the agent's pending maps, and
// the process's timers and sockets are back to where they started.
import * as grpc from '@grpc/grpc-js';
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { demoEchoService, startDemoBackends, type DemoBackends } from '../../src/main/service/demo-backends.js';
import { publicRequest, startTunnel, type TunnelFixture } from '../helpers/common.js';

const total = Number(process.env.LEAK_REQUESTS ?? 100_000);

let backends: DemoBackends;
let fixture: TunnelFixture;

function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

beforeAll(async () => {
  backends = await startDemoBackends();
  fixture = await startTunnel([
    { name: 'web', protocol: 'http', target: `127.0.0.1:${backends.httpPort}` },
    { name: 'rpc', protocol: 'grpc', target: `127.0.0.1:${backends.grpcPort}` },
  ]);
});

afterAll(async () => {
  await fixture?.stop();
  await backends?.close();
});

describe('no leaks', () => {
  it(`returns to its starting state after ${total} requests`, async () => {
    // Warm up once per protocol, so lazily made pools and sessions exist in the baseline.
    const Client = grpc.makeGenericClientConstructor(demoEchoService, 'Echo');
    type EchoClient = grpc.Client & { unary(request: Buffer, callback: (error: grpc.ServiceError | null, reply?: Buffer) => void): void };
    const echoClient = (): EchoClient =>
      new Client(`127.0.0.1:${fixture.publicPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'rpc.localhost' }) as unknown as EchoClient;
    const warm = echoClient();
    await new Promise((resolve, reject) => warm.unary(Buffer.from('warm'), (error) => (error ? reject(error) : resolve(undefined))));
    warm.close();
    await publicRequest({ port: fixture.publicPort, host: 'web.localhost' });
    await vi.waitFor(() => expect(fixture.server.inflightRequests).toBe(0));
    const before = activeResources();

    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    let next = 0;
    let failures = 0;
    const webSocketEvery = 100;
    const grpcEvery = 100;
    const client = echoClient();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < total) {
          const n = next++;
          if (n % webSocketEvery === 1) {
            const ws = new WebSocket(`ws://127.0.0.1:${fixture.publicPort}/`, { headers: { host: 'web.localhost' } });
            const echoed = await new Promise<boolean>((resolve) => {
              ws.once('open', () => ws.send('ping'));
              ws.once('message', () => resolve(true));
              ws.once('error', () => resolve(false));
            });
            ws.close();
            await new Promise((resolve) => ws.once('close', resolve));
            if (!echoed) failures++;
          } else if (n % grpcEvery === 2) {
            await new Promise<void>((resolve) => client.unary(Buffer.from(`m${n}`), (error) => (error && failures++, resolve())));
          } else {
            const res = await publicRequest({ port: fixture.publicPort, host: 'web.localhost', path: `/r/${n}`, agent });
            if (res.status !== 200) failures++;
          }
        }
      }),
    );
    client.close();
    agent.destroy();
    expect(failures).toBe(0);

    // Polled with an unref'd timer: a poller's own timers would count as active.
    const settled = (): boolean => {
      const after = activeResources();
      return (
        fixture.server.inflightRequests === 0 &&
        fixture.server.pendingExchanges === 0 &&
        fixture.agent.inflightRequests === 0 &&
        (after.Timeout ?? 0) <= (before.Timeout ?? 0) &&
        (after.TCPSocketWrap ?? 0) <= (before.TCPSocketWrap ?? 0)
      );
    };
    for (let waited = 0; waited < 15_000 && !settled(); waited += 200) await new Promise((resolve) => setTimeout(resolve, 200).unref());
    const after = activeResources();
    expect({ server: fixture.server.inflightRequests, exchanges: fixture.server.pendingExchanges, agent: fixture.agent.inflightRequests }).toEqual({ server: 0, exchanges: 0, agent: 0 });
    expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
    expect(after.TCPSocketWrap ?? 0).toBeLessThanOrEqual(before.TCPSocketWrap ?? 0);
    // A bound for a hung run, not a speed check: two minutes on an idle 2-core machine, far more beside other test files.
  }, 600_000);
});
