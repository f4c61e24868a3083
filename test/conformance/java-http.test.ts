// HTTP/1.1 between the JDK's HttpClient and its com.sun.net.httpserver
// (JavaPeer.java): the client against the service directly and through
// `burrow server` and `burrow http` processes, as HTTP/1.1 and as a client
// asked for HTTP/2 over cleartext, which offers an h2c upgrade with every
// request that both the service and the edge decline: bodies of known length
// and chunked, both ways, around every frame, window and chunk size; uploads
// after a 100 (Continue), and a 413 after one; a request's target and
// fields as sent, one of them 20,000 bytes; statuses, HEAD, cookies, large
// response fields, a service that closes, one that answers before reading
// an upload, and 100 requests at once.
import { describe, expect, it } from 'vitest';
import { casesThatThrew, javaProgram, peerForTheseTests } from './foreign-peer.js';

const peer = peerForTheseTests(javaProgram, 'http');

const echoCase = 'a request as the service read it';
/** The cases whose outcome is what the service read of the request: the JSON it answered. */
const readByTheService = (name: string): boolean => name.endsWith('as the service read it');
/** What the service read of a request: the JSON it answered. */
const asRead = (outcome: unknown): Record<string, unknown> => JSON.parse((outcome as { ok: string }).ok) as Record<string, unknown>;

describe('HTTP between the JDK HttpClient and the JDK HTTP server', () => {
  it.each(['http1', 'h2c'] as const)('comes out the same directly and through the tunnel, client asked for %s', async (mode) => {
    const { direct: service, tunnel: edge } = peer().pair;
    const direct = await peer().clientOutcomes(['http', String(service.port), service.authority, mode]);
    const tunnel = await peer().clientOutcomes(['http', String(edge.port), edge.authority, mode]);

    // What the cases show directly, so that a case broken both ways fails too.
    expect(direct['a chunked response of 4194305 bytes']).toMatchObject({ ok: { status: 200, bytes: 4194305 } });
    expect(direct['a chunked upload of 4194305 bytes']).toMatchObject({ ok: expect.stringMatching(/^200 \{"bytes":4194305,.*"chunked":"chunked"/) });
    expect(direct['an upload of 1048577 bytes']).toMatchObject({ ok: expect.stringMatching(/^200 \{"bytes":1048577,.*"chunked":null/) });
    expect(direct['an upload of 1 MiB after a 100 (Continue)']).toMatchObject({ ok: expect.stringMatching(/^200 \{"bytes":1048576,.*"expect":"100-continue"/i) });
    expect(asRead(direct[echoCase])).toEqual({
      method: 'PATCH',
      target: '/echo/a%20b/c?q=%E2%9C%93&x=1&x=2',
      fields: expect.arrayContaining([['x-twice', 'one'], ['x-twice', 'two'], ['cookie', 'a=1; b=2']]),
      upgrade: mode === 'h2c' ? 'h2c' : null,
      bytes: 10,
      sha: expect.any(String),
    });
    expect(asRead(direct['a request field of 20000 bytes as the service read it']).fields).toEqual(expect.arrayContaining([['x-large', 'r'.repeat(20_000)], ['x-after', 'one']]));
    expect(direct['status 204']).toMatchObject({ ok: { status: 204, fields: [['x-why', 'status']], bytes: 0 } });
    expect(direct['413 before a 2 MiB upload is read']).toMatchObject({ ok: { status: 413, bytes: 9 } });
    expect(direct['413 after a 100 (Continue), before the upload is read']).toMatchObject({ ok: { status: 413, bytes: 9 } });
    expect(direct['100 requests at once']).toEqual({ ok: 100 });
    expect(casesThatThrew(direct)).toEqual([]);

    // Case by case, so that a difference names its case. The h2c offer is a hop's own: the edge
    // declines it and does not pass it on (RFC 9110 section 7.8), so the service does not read it.
    expect(Object.keys(tunnel)).toEqual(Object.keys(direct));
    for (const [name, outcome] of Object.entries(direct)) {
      if (readByTheService(name)) expect(asRead(tunnel[name]), name).toEqual({ ...asRead(outcome), upgrade: null });
      else expect(tunnel[name], name).toEqual(outcome);
    }
  }, 320_000);
});
