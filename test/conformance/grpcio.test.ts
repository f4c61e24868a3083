// gRPC's C core on both ends (grpcio-peer.py): its caller against its
// service directly and through `burrow server` and `burrow grpc` processes,
// at message sizes around every window and buffer, streams each way,
// failures with their messages and trailers, metadata, deadlines, a cancel,
// compression and 300 calls at once. The C core's HTTP/2 grows its windows
// by its own probes, so the tunnel's flow control meets a peer unlike Node's.
import { describe, expect, it } from 'vitest';
import { casesThatThrew, expectCaseByCase, peerForTheseTests, pythonProgram } from './foreign-peer.js';

const peer = peerForTheseTests(() => pythonProgram('grpcio-peer.py', 'grpc', 'python3-grpcio'), 'grpc');

describe('gRPC between a C-core caller and a C-core service', () => {
  it('comes out the same directly and through the tunnel', async () => {
    const { direct: service, tunnel: edge } = peer().pair;
    const direct = await peer().clientOutcomes([`127.0.0.1:${service.port}`, '']);
    const tunnel = await peer().clientOutcomes([`127.0.0.1:${edge.port}`, edge.authority]);

    // What the cases show directly, so that a case broken both ways fails too.
    const echoed = Object.entries(direct).filter(([name]) => /^(unary echo|server stream|bidi stream|gzip)/.test(name));
    expect(echoed.length).toBe(13 + 3 + 3 + 1);
    for (const [name, outcome] of echoed) expect(outcome, name).toEqual({ ok: true });
    expect(direct['unary answer of 4194305 bytes']).toEqual({ ok: 4 * 1024 * 1024 + 1 });
    expect(direct['client stream of 6 x 1048577']).toMatchObject({ ok: expect.stringMatching(/^6,6291462,/) });
    expect(direct['20 x 1 MiB read slowly']).toEqual({ ok: 20 * (1024 * 1024 + 1) });
    expect(direct['a service failing RESOURCE_EXHAUSTED']).toEqual({
      code: 'RESOURCE_EXHAUSTED',
      details: 'détails – ünïcode 100% \n line 2',
      trailers: [
        ['x-why', 'because'],
        ['x-blob-bin', '0001ff'],
      ],
    });
    expect(direct['past the deadline']).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(direct['a cancel reaches the service']).toEqual({ ok: true });
    expect(direct['300 calls of 70,000 bytes at once']).toEqual({ ok: 300 });
    expect(casesThatThrew(direct)).toEqual([]);

    expectCaseByCase(tunnel, direct);
  }, 320_000);
});
