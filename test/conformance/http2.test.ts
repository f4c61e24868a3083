// HTTP/2 to a tunnel whose service speaks HTTP/1.1: h2c with prior
// knowledge and h2 by ALPN over TLS are carried as HTTP/1.1 to the service
// (as nginx, Caddy and cloudflared do) and must end as HTTP/1.1 directly
// does; a gRPC call there gets a clear gRPC status. Clients: curl, nghttp,
// h2load and grpc-js.
import { rmSync } from 'node:fs';
import { connect, type IncomingHttpHeaders } from 'node:http2';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawMethod } from '../../src/main/service/raw-grpc-method.js';
import { makeDevCertificate } from '../../src/main/tunnel/server/dev-certificate.js';
import { startHttpEcho, type HttpEchoService, type ReceivedRequest } from './http-echo-service.js';
import { runTool } from './tools.js';
import { startTunnelPair, type TunnelPair } from './tunnel-pair.js';

let service: HttpEchoService;
let cleartext: TunnelPair;
let tls: TunnelPair;
let certDir: string;

beforeAll(async () => {
  service = await startHttpEcho();
  cleartext = await startTunnelPair(service.port, 'http');
  const cert = await makeDevCertificate('localhost', `${process.env.TMPDIR ?? '/tmp'}/burrow-conformance-tls-${process.pid}`);
  certDir = dirname(cert.certPath);
  tls = await startTunnelPair(service.port, 'http', { publicTls: cert });
});

afterAll(async () => {
  await cleartext?.stop();
  await tls?.stop();
  await service?.close();
  if (certDir !== undefined) rmSync(certDir, { recursive: true, force: true });
});

const perHop = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** Status, end-to-end headers (sorted: HTTP/2 lower-cases and may reorder) and what the service saw. */
function outcome(dump: string, seen: ReceivedRequest | undefined): unknown {
  const [head, ...rest] = dump.split('\r\n\r\n');
  const [statusLine, ...lines] = head!.split('\r\n');
  const headers = lines.map((line) => line.toLowerCase()).filter((line) => !perHop.has(line.split(':')[0]!));
  const { host: _host, headerNames, ...request } = seen ?? ({ headerNames: [] } as unknown as ReceivedRequest);
  return { status: Number(statusLine!.split(' ')[1]), headers: headers.sort(), trailers: rest.join('').split('\r\n').filter(Boolean).sort(), request, headerNames: [...headerNames].sort() };
}

describe('HTTP/2 to an HTTP/1.1 service', () => {
  it.each([
    ['GET', ['/echo?a=1']],
    ['POST with a body', ['/echo', '--data-binary', 'x'.repeat(70_000), '-H', 'content-type: text/plain']],
    ['a response with trailers', ['/trailers']],
    ['a 304 with a Content-Length', ['/status/304?length=1234']],
    ['a response setting 300 cookies (~34 KB of head)', ['/cookies/300']],
    // Over the 64 KiB header block Node's HTTP/2 server sends by default.
    ['a response setting 900 cookies (~103 KB of head)', ['/cookies/900']],
  ])('h2c with prior knowledge: %s ends as HTTP/1.1 directly does', async (_label, [path, ...args]) => {
    const direct = await runTool('curl', ['-s', '-D', '-', '-o', '/dev/null', `http://127.0.0.1:${service.port}${path}`, ...args]);
    const directOutcome = outcome(direct.stdout.toString('latin1'), service.received.at(-1));
    const tunnel = await runTool('curl', ['-s', '--http2-prior-knowledge', '-D', '-', '-o', '/dev/null', `http://127.0.0.1:${cleartext.tunnel.port}${path}`, '-H', `Host: ${cleartext.tunnel.authority}`, ...args]);
    expect(tunnel.stdout.toString('latin1')).toMatch(/^HTTP\/2 /);
    expect(outcome(tunnel.stdout.toString('latin1'), service.received.at(-1))).toEqual(directOutcome);
  });

  it('h2 by ALPN over TLS ends as HTTP/1.1 directly does', async () => {
    const direct = await runTool('curl', ['-s', '-D', '-', '-o', '/dev/null', `http://127.0.0.1:${service.port}/echo?tls=1`]);
    const directOutcome = outcome(direct.stdout.toString('latin1'), service.received.at(-1));
    const authority = tls.tunnel.authority;
    const tunnel = await runTool('curl', ['-s', '-k', '--http2', '-D', '-', '-o', '/dev/null', '--resolve', `${authority}:127.0.0.1`, `https://${authority}/echo?tls=1`]);
    expect(tunnel.stdout.toString('latin1')).toMatch(/^HTTP\/2 /);
    expect(outcome(tunnel.stdout.toString('latin1'), service.received.at(-1))).toEqual(directOutcome);
  });

  it('nghttp gets the service answer over h2c', async () => {
    const result = await runTool('nghttp', ['-H', `:authority: ${cleartext.tunnel.authority}`, `http://127.0.0.1:${cleartext.tunnel.port}/echo?from=nghttp`]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.toString())).toMatchObject({ method: 'GET', url: '/echo?from=nghttp', host: cleartext.tunnel.authority, framing: 'none' });
  });

  it('h2load: 400 requests on 4 connections, 10 streams each, all succeed', async () => {
    const result = await runTool('h2load', ['-n', '400', '-c', '4', '-m', '10', '-H', `:authority: ${cleartext.tunnel.authority}`, `http://127.0.0.1:${cleartext.tunnel.port}/echo`]);
    const text = result.stdout.toString();
    expect(/requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(text)?.slice(1)).toEqual(['400', '400', '400', '0', '0']);
    expect(/status codes: (\d+) 2xx/.exec(text)?.[1]).toBe('400');
  });

  it('103 Early Hints from the service reach an h2c client ahead of the answer, with their Link header', async () => {
    const result = await runTool('curl', ['-s', '--http2-prior-knowledge', '-D', '-', '-o', '/dev/null', `http://127.0.0.1:${cleartext.tunnel.port}/early-hints`, '-H', `Host: ${cleartext.tunnel.authority}`]);
    const heads = result.stdout.toString('latin1').split('\r\n\r\n').filter(Boolean).map((head) => head.split('\r\n'));
    expect(heads.map((lines) => lines[0]!.trim())).toEqual(['HTTP/2 103', 'HTTP/2 200']);
    // As the service sent them: one Link line (Node joins a list with commas).
    expect(heads[0]!.slice(1)).toEqual(['link: </style.css>; rel=preload; as=style, </app.js>; rel=preload; as=script']);
  });

  it('an upload with Expect: 100-continue is told to go on (100) by the service, as HTTP/1.1 is', async () => {
    const result = await runTool('curl', [
      '-s', '--http2-prior-knowledge', '-D', '-', '-o', '/dev/null',
      // Longer than the whole run: without the 100, curl would wait this long before sending the body.
      '--expect100-timeout', '60',
      `http://127.0.0.1:${cleartext.tunnel.port}/echo`, '-H', `Host: ${cleartext.tunnel.authority}`, '-H', 'Expect: 100-continue', '--data-binary', 'e'.repeat(100_000),
    ]);
    const statuses = [...result.stdout.toString('latin1').matchAll(/^HTTP\/2 (\d{3})/gm)].map((match) => Number(match[1]));
    expect({ exit: result.code, statuses, bodyBytes: service.received.at(-1)?.bodyBytes }).toEqual({ exit: 0, statuses: [100, 200], bodyBytes: 100_000 });
  });

  it('a head over the edge’s 32 KiB limit is answered 431, as over HTTP/1.1, and not forwarded', async () => {
    const before = service.received.length;
    const result = await runTool('curl', ['-s', '--http2-prior-knowledge', '-D', '-', '-o', '/dev/null', `http://127.0.0.1:${cleartext.tunnel.port}/too-big-head`, '-H', `Host: ${cleartext.tunnel.authority}`, '-H', `x-big: ${'b'.repeat(40_000)}`]);
    const head = result.stdout.toString('latin1');
    expect({ exit: result.code, status: Number(head.split(' ')[1]), code: /x-burrow-error: (\S+)/.exec(head)?.[1] }).toEqual({ exit: 0, status: 431, code: 'BURROW_E_HEADER_TOO_LARGE' });
    expect(service.received.slice(before).map((request) => request.url)).not.toContain('/too-big-head');
  });

  it('a CONNECT request is answered 400 at once, not left waiting', async () => {
    const session = connect(`http://127.0.0.1:${cleartext.tunnel.port}`);
    session.on('error', () => {});
    try {
      const stream = session.request({ ':method': 'CONNECT', ':authority': cleartext.tunnel.authority }, { endStream: false });
      stream.on('error', () => {});
      const headers = await new Promise<IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
      expect([headers[':status'], headers['x-burrow-error']]).toEqual([400, 'BURROW_E_BAD_REQUEST']);
    } finally {
      session.destroy();
    }
  });

  it('a gRPC call gets UNIMPLEMENTED saying the tunnel is HTTP/1.1 only', async () => {
    const Client = grpc.makeGenericClientConstructor({ call: rawMethod('/x.Y/Z', false, false) }, 'Y');
    const client = new Client(`127.0.0.1:${cleartext.tunnel.port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': cleartext.tunnel.authority }) as unknown as grpc.Client & {
      call(request: Buffer, callback: (error: grpc.ServiceError | null) => void): void;
    };
    const error = await new Promise<grpc.ServiceError | null>((resolve) => client.call(Buffer.from('hi'), resolve));
    client.close();
    expect({ code: error?.code, details: error?.details }).toEqual({ code: grpc.status.UNIMPLEMENTED, details: 'tunnel app forwards HTTP/1.1; gRPC calls need a gRPC tunnel (burrow grpc)' });
  });
});
