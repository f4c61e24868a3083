// HTTP/2 over TLS from the JDK's HttpClient through a `--dev-tls` edge to
// the JDK's HTTP/1.1 server (JavaPeer.java), against the same client over
// HTTP/1.1 to the service directly: the JDK's own HTTP/2 (its HPACK, flow
// control and windows) meets the edge's. The cases of java-http.test.ts:
// bodies both ways around every frame, window and chunk size, a 100
// (Continue), statuses, HEAD, fields (a request's 20,000-byte one leaves the
// client in CONTINUATION frames), a service that closes, and 100
// requests at once, here on one connection.
import { describe, expect, it } from 'vitest';
import { casesThatThrew, expectCaseByCase, javaProgram, peerForTheseTests } from './foreign-peer.js';

const peer = peerForTheseTests(javaProgram, 'http', ['--dev-tls']);

/** The cases JavaPeer.java leaves out over HTTP/2: the JDK 17 client never completes a request answered before its body is sent. */
const answeredBeforeTheBody = ['413 before a 2 MiB upload is read', 'the request after that', '413 after a 100 (Continue), before the upload is read'];

describe('HTTP/2 over TLS from the JDK HttpClient, through the edge, to the JDK HTTP server', () => {
  it('comes out as HTTP/1.1 does directly', async () => {
    const { direct: service, tunnel: edge, caPath } = peer().pair;
    const direct = await peer().clientOutcomes(['http', String(service.port), service.authority, 'http1']);
    const tunnel = await peer().clientOutcomes(['http', String(edge.port), edge.authority, 'h2', caPath!]);

    expect(direct['a chunked upload of 4194305 bytes']).toMatchObject({ ok: expect.stringMatching(/^200 \{"bytes":4194305,/) });
    expect(direct['100 requests at once']).toEqual({ ok: 100 });
    expect(casesThatThrew(direct)).toEqual([]);
    expect(tunnel['a response of 4194305 bytes']).toMatchObject({ ok: { status: 200, version: 'HTTP_2', bytes: 4194305 } });

    // Case by case, so that a difference names its case: the same but for the version, and for a
    // field value's byte over 0x7f, which the JDK's HTTP/1.1 writer sends as '?' and its HPACK as is.
    const asOverHttp2 = JSON.parse(JSON.stringify(direct).replaceAll('"HTTP_1_1"', '"HTTP_2"').replace('[\\"x-latin1\\",\\"caf?\\"]', '[\\"x-latin1\\",\\"caf\\\\u00e9\\"]')) as Record<string, unknown>;
    expectCaseByCase(tunnel, Object.fromEntries(Object.entries(asOverHttp2).filter(([name]) => !answeredBeforeTheBody.includes(name))));
  }, 320_000);
});
