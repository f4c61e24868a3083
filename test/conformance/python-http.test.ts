// HTTP/1.1 between an httpx client and an aiohttp service (aiohttp-peer.py):
// the client against the service directly and through `burrow server` and
// `burrow http` processes: bodies of known length and chunked, both ways,
// around every frame, window and chunk size; a request's target and fields
// as sent; statuses with their reasons, HEAD, cookies, large fields, a
// service that closes, one that answers before reading an upload, and 100
// requests at once.
import { describe, expect, it } from 'vitest';
import { casesThatThrew, expectCaseByCase, peerForTheseTests, pythonProgram } from './foreign-peer.js';

const peer = peerForTheseTests(() => pythonProgram('aiohttp-peer.py', 'aiohttp, httpx', 'python3-aiohttp python3-httpx'), 'http');

describe('HTTP/1.1 between an httpx client and an aiohttp service', () => {
  it('comes out the same directly and through the tunnel', async () => {
    const { direct: service, tunnel: edge } = peer().pair;
    const direct = await peer().clientOutcomes([String(service.port), service.authority]);
    const tunnel = await peer().clientOutcomes([String(edge.port), edge.authority]);

    // What the cases show directly, so that a case broken both ways fails too.
    expect(direct['a chunked response of 4194305 bytes']).toMatchObject({ ok: { status: 200, bytes: 4194305 } });
    expect(direct['a chunked upload of 4194305 bytes']).toMatchObject({ ok: { bytes: 4194305, chunked: 'chunked' } });
    expect(direct['an upload of 1048577 bytes']).toMatchObject({ ok: { bytes: 1048577, chunked: null } });
    expect(direct['a request as the service read it']).toEqual({
      ok: {
        method: 'PATCH',
        target: '/echo/c?q=%E2%9C%93&x=1&x=2',
        fields: expect.arrayContaining([['x-utf8', 'cafÃ©'], ['x-empty', ''], ['x-twice', 'one'], ['x-twice', 'two'], ['cookie', 'a=1; b=2']]),
        bytes: 10,
        sha: expect.any(String),
      },
    });
    expect(direct['status 418']).toMatchObject({ ok: { status: 418, reason: 'Custom Reason' } });
    expect(direct['413 before a 2 MiB upload is read']).toMatchObject({ ok: { status: 413 } });
    expect(direct['100 requests at once']).toBe(100);
    expect(casesThatThrew(direct)).toEqual([]);

    expectCaseByCase(tunnel, direct);
  }, 320_000);
});
