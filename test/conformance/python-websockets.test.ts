// WebSocket between Python's websockets on both ends (websockets-peer.py):
// its client against its service directly and through `burrow server` and
// `burrow http` processes, with permessage-deflate and without: messages
// around every frame-length and buffer boundary, the handshake's
// subprotocol, extensions and fields, closes from either end, fragmented
// messages, pings, a burst, and a service that ends its connection right
// after its last message.
import { describe, expect, it } from 'vitest';
import { casesThatThrew, expectCaseByCase, peerForTheseTests, pythonProgram } from './foreign-peer.js';

const peer = peerForTheseTests(() => pythonProgram('websockets-peer.py', 'websockets', 'python3-websockets'), 'http');

describe('WebSocket between a Python websockets client and service', () => {
  it.each(['deflate', 'none'] as const)('comes out the same directly and through the tunnel, compression %s', async (compression) => {
    const { direct: service, tunnel: edge } = peer().pair;
    const direct = await peer().clientOutcomes([String(service.port), service.authority, compression]);
    const tunnel = await peer().clientOutcomes([String(edge.port), edge.authority, compression]);

    // What the cases show directly, so that a case broken both ways fails too.
    const echoes = Object.entries(direct).filter(([name]) => name.startsWith('echo of'));
    expect(echoes.length).toBe(14);
    for (const [name, outcome] of echoes) expect(outcome, name).toMatchObject({ ok: [true, true, 'bytes', 'str'] });
    expect(direct.handshake).toMatchObject({ ok: [{ subprotocol: 'superchat', path: '/handshake/x?y=1', header: 'value' }, 'superchat', compression === 'deflate' ? ['PerMessageDeflate'] : []] });
    expect(direct['the service closes with 4999']).toEqual({ ok: [4999, 'r'.repeat(123)] });
    expect(direct['a message the service sent in fragments']).toMatchObject({ ok: [expect.any(String), 70_014, expect.any(String), 70_010] });
    expect(direct['2000 messages, then a close']).toEqual({ ok: [2000, 1000] });
    expect(direct['the service ends its connection after a message (at-once)']).toEqual({ ok: ['bye', 1006] });
    expect(casesThatThrew(direct)).toEqual([]);

    expectCaseByCase(tunnel, direct);
  }, 320_000);
});
