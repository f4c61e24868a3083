// WebSocket between the JDK's client (JavaPeer.java) and Python's websockets
// service (websockets-peer.py): two implementations that are neither Node's
// nor ours, nor each other's, directly and through `burrow server` and
// `burrow http` processes, in cleartext and over TLS to a `--dev-tls` edge:
// messages around every frame-length and buffer boundary (the JDK hands them
// over in parts), the handshake's subprotocol and fields, closes from either
// end, fragmented messages, pings, a burst, and a service that ends its
// connection after its last message.
import { describe, expect, it } from 'vitest';
import { casesThatThrew, expectCaseByCase, javaProgram, peerForTheseTests, pythonProgram, type PeerProgram } from './foreign-peer.js';

const program = (): PeerProgram => ({ service: pythonProgram('websockets-peer.py', 'websockets', 'python3-websockets').service, client: javaProgram().client });
const cleartext = peerForTheseTests(program, 'http');
const overTls = peerForTheseTests(program, 'http', ['--dev-tls']);

/** What the cases show directly, so that a case broken both ways fails too. */
function expectDirectOutcomes(direct: Record<string, unknown>): void {
  const echoes = Object.entries(direct).filter(([name]) => name.startsWith('echo of'));
  expect(echoes.length).toBe(14);
  for (const [name, outcome] of echoes) expect(outcome, name).toEqual({ ok: [true, true] });
  const normalEnd = [[], 'close', [1000, '']];
  expect(direct.handshake).toEqual({ ok: [expect.any(String), 'superchat', normalEnd] });
  expect(JSON.parse((direct.handshake as { ok: [string] }).ok[0])).toEqual({ subprotocol: 'superchat', extensions: [], path: '/handshake/x?y=1', header: 'value' });
  expect(direct['the service closes with 4999/123']).toEqual({ ok: [[], 'close', [4999, 'r'.repeat(123)]] });
  expect(direct['the client closes']).toEqual({ ok: ['x', [[], 'close', [4001, 'client says bye']]] });
  expect(direct['a message the service sent in fragments']).toEqual({ ok: [expect.any(String), 70_014, expect.any(String), 70_010, normalEnd] });
  expect(direct['a ping from the service']).toEqual({ ok: [['ponged'], 'close', [1000, '']] });
  expect(direct['a ping from the client']).toEqual({ ok: ['pong', 125] });
  expect(direct['2000 messages, then a close']).toEqual({ ok: [2000, true, 'close', [1000, '']] });
  expect(direct['the service ends its connection after a message (later)']).toEqual({ ok: [['bye'], 'close', [1006, '']] });
  expect(casesThatThrew(direct)).toEqual([]);
}

describe('WebSocket between the JDK client and a Python websockets service', () => {
  it('comes out the same directly and through the tunnel', async () => {
    const { direct: service, tunnel: edge } = cleartext().pair;
    const direct = await cleartext().clientOutcomes(['websocket', String(service.port), service.authority]);
    const tunnel = await cleartext().clientOutcomes(['websocket', String(edge.port), edge.authority]);
    expectDirectOutcomes(direct);
    expectCaseByCase(tunnel, direct);
  }, 320_000);

  it('comes out over TLS to the edge as in cleartext directly', async () => {
    const { direct: service, tunnel: edge, caPath } = overTls().pair;
    const direct = await overTls().clientOutcomes(['websocket', String(service.port), service.authority]);
    const tunnel = await overTls().clientOutcomes(['websocket', String(edge.port), edge.authority, caPath!]);
    expectDirectOutcomes(direct);
    expectCaseByCase(tunnel, direct);
  }, 320_000);
});
