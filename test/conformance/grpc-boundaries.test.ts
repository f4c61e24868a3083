// gRPC unary responses at and around every window and buffer boundary, from
// grpc-js and from a server that resets each finished stream with NO_ERROR,
// to grpc-js and to a caller that keeps its request open until the response
// ends: the same caller directly and through the tunnel must see the same
// status and the same bytes.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFrameCounter } from './frame-counter.js';
import {
  lateEndingClient,
  sizedClient,
  sizedPayload,
  startGrpcJsSizedService,
  startResettingSizedService,
  type SizedClient,
  type SizedOutcome,
  type SizedService,
} from './grpc-sized-service.js';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

const KiB = 1024;
const MiB = 1024 * 1024;
/** HTTP/2 frame, Node stream high-water marks, HTTP/2 default window, the tunnel's credit window and chunk size, a socket buffer, the tunnel's HTTP/2 window. */
const boundaries = [16 * KiB, 64 * KiB, MiB, 4 * MiB, 16 * MiB];
/** Around each: the gRPC header (5) and a protobuf envelope's overhead (13) either way. */
const offsets = [-64, -13, -5, -1, 0, 1, 5, 13, 64];

const cases: [string, () => Promise<SizedService>, (endpoint: Endpoint) => SizedClient][] = [
  ['grpc-js to grpc-js', startGrpcJsSizedService, sizedClient],
  ['a server resetting with NO_ERROR after its trailers to grpc-js', startResettingSizedService, sizedClient],
  ['a server resetting with NO_ERROR after its trailers to a caller still sending', startResettingSizedService, lateEndingClient],
];

describe.each(cases)('gRPC unary responses, %s,', (_label, startService, makeClient) => {
  let service: SizedService;
  let pair: TunnelPair;

  beforeAll(async () => {
    service = await startService();
    pair = await startTunnelPair(service.port, 'grpc');
  });

  afterAll(async () => {
    await pair?.stop();
    await service?.stop();
  });

  it('are the same directly and through the tunnel at every boundary size', async () => {
    const sizes = boundaries.flatMap((b) => offsets.map((o) => b + o));
    const outcomes: Record<string, SizedOutcome[]> = {};
    for (const [label, endpoint] of pair.both) {
      const client = makeClient(endpoint);
      outcomes[label] = [];
      for (const size of sizes) outcomes[label].push(await client.get(size));
      client.close();
    }
    expect(outcomes.tunnel).toEqual(outcomes.direct);
    // And the direct run is right, so equal means right.
    expect(outcomes.direct).toEqual(sizes.map((size) => ({ code: 0, details: '', bytes: size, sha256: createHash('sha256').update(sizedPayload(size)).digest('hex') })));
  });

  it('completes 200 calls of 1 MiB through the tunnel, four at a time, with no failure', async () => {
    const client = makeClient(pair.tunnel);
    const failures: SizedOutcome[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 200) {
        next++;
        const outcome = await client.get(MiB);
        if (outcome.code !== 0 || outcome.bytes !== MiB) failures.push(outcome);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    client.close();
    expect(failures).toEqual([]);
  });
});

describe('gRPC messages of 60 to 67 MB (near grpc-js limit of 64 MiB)', () => {
  it('arrive the same directly and through the tunnel', async () => {
    const service = await startGrpcJsSizedService();
    const pair = await startTunnelPair(service.port, 'grpc');
    try {
      const outcomes: Record<string, SizedOutcome[]> = {};
      for (const [label, endpoint] of pair.both) {
        const client = sizedClient(endpoint);
        outcomes[label] = [await client.get(60_000_000), await client.get(67_000_000), await client.put!(64_000_000)];
        client.close();
      }
      expect(outcomes.tunnel).toEqual(outcomes.direct);
      expect(outcomes.direct!.map((o) => [o.code, o.bytes])).toEqual([
        [0, 60_000_000],
        [0, 67_000_000],
        [0, 4],
      ]);
    } finally {
      await pair.stop();
      await service.stop();
    }
  });
});

describe('the resetting server', () => {
  it('really ends streams with RST_STREAM(NO_ERROR) when the caller is still sending (so the tunnel meets it)', async () => {
    const service = await startResettingSizedService();
    const counter = await startFrameCounter(service.port);
    const client = lateEndingClient({ port: counter.port, authority: `127.0.0.1:${service.port}` });
    for (let i = 0; i < 5; i++) expect((await client.get(MiB)).code).toBe(0);
    client.close();
    await counter.close();
    await service.stop();
    expect(counter.counts.resets.get(0)).toBeGreaterThan(0);
  });
});
