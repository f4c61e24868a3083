// 10,000 mixed requests with bodies (HTTP of every size up to 64 KiB, plus
// WebSocket and gRPC) recorded as the headless agent records them: afterwards
// the traffic log holds no more requests and bytes than its budget, nothing is
// pending on either side, and the heap, once collected, is back near where it
// started. Unbounded, the same traffic would keep over 600 MB of bodies.
import * as grpc from '@grpc/grpc-js';
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { v8Collector } from '../../src/main/service/idle-memory.js';
import { demoEchoService, startDemoBackends, type DemoBackends } from '../../src/main/service/demo-backends.js';
import { TrafficLog, headlessTrafficLogLimits } from '../../src/main/service/traffic-log.js';
import type { TrafficEvent } from '../../src/shared/traffic.js';
import { publicRequest, startTunnel, type TunnelFixture } from '../helpers/common.js';

const total = 10_000;
const limits = headlessTrafficLogLimits;

let backends: DemoBackends;
let fixture: TunnelFixture;
let log: TrafficLog;

beforeAll(async () => {
  backends = await startDemoBackends();
  fixture = await startTunnel([
    { name: 'web', protocol: 'http', target: `127.0.0.1:${backends.httpPort}` },
    { name: 'rpc', protocol: 'grpc', target: `127.0.0.1:${backends.grpcPort}` },
  ]);
  log = new TrafficLog(limits);
  fixture.agent.on('traffic', (event: TrafficEvent) => log.apply(event));
});

afterAll(async () => {
  await fixture?.stop();
  await backends?.close();
});

type EchoClient = grpc.Client & { unary(request: Buffer, callback: (error: grpc.ServiceError | null, reply?: Buffer) => void): void };

/** Body sizes spread over 0..64 KiB, the same every run. */
const sizeOf = (n: number): number => (n * 7919) % (64 * 1024 + 1);

/** The heap and the buffers outside it (bodies live there). */
function heldBytes(): number {
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

function keptBytes(): number {
  let bytes = 0;
  for (const summary of log.list()) {
    const detail = log.detail(summary.requestId)!;
    bytes += Buffer.from(detail.requestBody.base64, 'base64').length + Buffer.from(detail.responseBody.base64, 'base64').length;
    for (const message of detail.messages) bytes += message.previewBase64.length;
  }
  return bytes;
}

describe('memory after 10,000 mixed requests', () => {
  it('keeps the traffic log within its budget, leaves nothing pending, and the heap near its start', async () => {
    const collector = v8Collector()!;
    const collect = (): void => collector('full');
    const Client = grpc.makeGenericClientConstructor(demoEchoService, 'Echo');
    const client = new Client(`127.0.0.1:${fixture.publicPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'rpc.localhost' }) as unknown as EchoClient;
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    // Warm: pools, sessions and compiled code belong in the baseline.
    await new Promise((resolve, reject) => client.unary(Buffer.from('warm'), (error) => (error ? reject(error) : resolve(undefined))));
    await publicRequest({ port: fixture.publicPort, host: 'web.localhost', method: 'POST', body: Buffer.alloc(1024), agent });
    collect();
    const before = heldBytes();

    let next = 0;
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < total) {
          const n = next++;
          const body = Buffer.alloc(sizeOf(n), n % 251);
          if (n % 100 === 1) {
            const ws = new WebSocket(`ws://127.0.0.1:${fixture.publicPort}/`, { headers: { host: 'web.localhost' } });
            const echoed = await new Promise<Buffer | undefined>((resolve) => {
              ws.once('open', () => ws.send(body));
              ws.once('message', (data: Buffer) => resolve(data));
              ws.once('error', () => resolve(undefined));
            });
            ws.close();
            await new Promise((resolve) => ws.once('close', resolve));
            if (!echoed?.equals(body)) failures.push(`ws ${n}`);
          } else if (n % 100 === 2) {
            const reply = await new Promise<Buffer | undefined>((resolve) => client.unary(body, (error, value) => resolve(error ? undefined : value)));
            if (!reply?.equals(body)) failures.push(`grpc ${n}`);
          } else {
            const res = await publicRequest({ port: fixture.publicPort, host: 'web.localhost', method: 'POST', path: `/r/${n}`, body, agent });
            if (res.status !== 200 || !res.body.equals(body)) failures.push(`http ${n}: ${res.status}, ${res.body.length} of ${body.length} bytes`);
          }
        }
      }),
    );
    client.close();
    agent.destroy();
    expect(failures).toEqual([]);

    await vi.waitFor(
      () => expect({ server: fixture.server.inflightRequests, exchanges: fixture.server.pendingExchanges, agent: fixture.agent.inflightRequests }).toEqual({ server: 0, exchanges: 0, agent: 0 }),
      { timeout: 15_000 },
    );
    expect(log.size).toBeLessThanOrEqual(limits.maxRequests);
    // The latest request keeps its bytes whatever the budget: it is what the user looks at.
    expect(keptBytes()).toBeLessThanOrEqual(limits.maxRetainedBytes + 2 * limits.bodyCapBytes);
    // Measured 14-17 MB: the log's 1,000 requests and 8 MiB of bytes. Without
    // the budget it is 700 MB. A full collection's dead buffers are swept on a
    // background thread and stay counted in `external` until the collection
    // after (40 MB right after one, 14 after the next): on a busy machine the
    // first look can see them, so it collects until they are gone.
    await vi.waitFor(
      () => {
        collect();
        expect(heldBytes() - before).toBeLessThan(64 * 1024 * 1024);
      },
      { timeout: 15_000, interval: 250 },
    );
  }, 180_000);
});
