// Many callers moving large gRPC messages at once, directly and through the
// tunnel: every call succeeds, and the server never resets a stream or the
// connection (counted by a relay that reads the HTTP/2 frames it sends).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFrameCounter, type FrameCounts } from './frame-counter.js';
import { sizedClient, startGrpcJsSizedService, type SizedOutcome, type SizedService } from './grpc-sized-service.js';
import { startProcessTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

const callers = 20;
const callsEach = 6;
const messageBytes = 4_000_000;

let service: SizedService;
let pair: TunnelPair;

beforeAll(async () => {
  service = await startGrpcJsSizedService();
  pair = await startProcessTunnelPair(service.port, 'grpc');
});

afterAll(async () => {
  await pair?.stop();
  await service?.stop();
});

/** Runs every caller on one connection through a frame counter; returns the failed calls and the frames counted. */
async function load(endpoint: Endpoint, call: 'get' | 'put'): Promise<{ failures: SizedOutcome[]; counts: FrameCounts; calls: number }> {
  const counter = await startFrameCounter(endpoint.port);
  const client = sizedClient({ port: counter.port, authority: endpoint.authority });
  const failures: SizedOutcome[] = [];
  let calls = 0;
  const caller = async (): Promise<void> => {
    for (let i = 0; i < callsEach; i++) {
      const outcome = call === 'get' ? await client.get(messageBytes) : await client.put!(messageBytes);
      calls++;
      const expectedBytes = call === 'get' ? messageBytes : 4;
      if (outcome.code !== 0 || outcome.bytes !== expectedBytes) failures.push(outcome);
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
  client.close();
  await counter.close();
  return { failures, counts: counter.counts, calls };
}

describe(`${callers} concurrent callers x ${callsEach} calls of ${messageBytes} bytes`, () => {
  it.each(['get', 'put'] as const)('%s: every call succeeds and no stream or connection is reset, directly and through the tunnel', async (call) => {
    for (const [label, endpoint] of pair.both) {
      const { failures, counts, calls } = await load(endpoint, call);
      expect({ label, failures, calls }).toEqual({ label, failures: [], calls: callers * callsEach });
      expect({ label, resets: Object.fromEntries(counts.resets), goaways: Object.fromEntries(counts.goaways) }).toEqual({ label, resets: {}, goaways: {} });
    }
  });
});
