// HTTP bodies at every window and buffer boundary the path has, both ways,
// through burrow processes compared with the service directly: curl over
// HTTP/1.1 (with a length and chunked) and over h2c, nghttp with windows
// smaller than one DATA frame, and h2load uploading many at once. The
// boundaries: 16 KiB (HTTP/2's default frame, a TLS record), 64 KiB
// (HTTP/2's default window, Node's socket read), 1 MiB (the tunnel's body
// chunk and per-request window) and 16 MiB (the tunnel's HTTP/2 session
// window); over TLS too, where every read is a 16 KiB record at most.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDevCertificate } from '../../src/main/tunnel/server/dev-certificate.js';
import { answeredBytes, startHttpEcho, type HttpEchoService, type ReceivedRequest } from './http-echo-service.js';
import { runTool } from './tools.js';
import { startProcessTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const around = (boundary: number): number[] => [boundary - 1, boundary, boundary + 1];
const sizes = [0, 1, ...around(16 * KiB), ...around(64 * KiB), ...around(MiB), 4 * MiB + 1, 16 * MiB + 1];

let service: HttpEchoService;
let pair: TunnelPair;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'burrow-bodies-'));
  service = await startHttpEcho();
  pair = await startProcessTunnelPair(service.port, 'http');
});

afterAll(async () => {
  await pair?.stop();
  await service?.close();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** A file of `size` bytes to upload, and its digest. */
function bodyFile(size: number): { path: string; digest: string } {
  const content = Buffer.from(answeredBytes(size).map((byte) => byte ^ 0x5a));
  const path = join(scratch, `body-${size}`);
  writeFileSync(path, content);
  return { path, digest: sha256(content) };
}

const target = (endpoint: Endpoint, path: string): string[] => [`http://127.0.0.1:${endpoint.port}${path}`, '-H', `Host: ${endpoint.authority}`];

/**
 * What the service saw of the last request, minus the Host (which differs by
 * route) and Expect: curl asks for 100-continue above 1 MiB over HTTP/1.1,
 * not over HTTP/2 (the service answers it either way, expect-continue.test.ts).
 */
function lastSeen(): Omit<ReceivedRequest, 'host'> {
  const { host: _host, headerNames, ...rest } = service.received.at(-1)!;
  return { ...rest, headerNames: headerNames.filter((name) => name !== 'expect') };
}

/** Uploads the file with curl and returns the exit code, the status and what the service saw. */
async function upload(endpoint: Endpoint, file: string, args: string[]): Promise<unknown> {
  const before = service.received.length;
  const result = await runTool('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--data-binary', `@${file}`, '-H', 'content-type: application/octet-stream', ...args, ...target(endpoint, '/upload')]);
  return { exit: result.code, status: result.stdout.toString(), requests: service.received.length - before, seen: lastSeen() };
}

/** Downloads a path with curl: exit code, status, how the body was framed, its size and digest. */
async function download(endpoint: Endpoint, path: string, args: string[] = []): Promise<unknown> {
  const headFile = join(scratch, 'head');
  const bodyOut = join(scratch, 'download');
  const result = await runTool('curl', ['-s', '-D', headFile, '-o', bodyOut, ...args, ...target(endpoint, path)]);
  const head = readFileSync(headFile, 'latin1').toLowerCase();
  const body = readFileSync(bodyOut);
  const framing = head.includes('transfer-encoding: chunked') ? 'chunked' : head.includes('content-length:') ? 'length' : 'none';
  return { exit: result.code, status: Number(head.split(' ')[1]), framing, bytes: body.length, digest: sha256(body) };
}

describe('HTTP/1.1 request bodies at every boundary, with curl', () => {
  it.each(sizes)('%i bytes, with a length and chunked, reach the service alike', async (size) => {
    const { path, digest } = bodyFile(size);
    for (const [framingArgs, framing] of [
      [[], 'length'],
      [['-H', 'transfer-encoding: chunked'], 'chunked'],
    ] as const) {
      const direct = await upload(pair.direct, path, [...framingArgs]);
      const tunnel = await upload(pair.tunnel, path, [...framingArgs]);
      expect(tunnel).toEqual(direct);
      expect(direct).toMatchObject({ exit: 0, status: '200', requests: 1, seen: { framing, bodyBytes: size, bodySha256: digest } });
    }
  });
});

describe('HTTP/1.1 response bodies at every boundary, with curl', () => {
  it.each(sizes)('%i bytes, with a length and chunked, arrive alike and whole', async (size) => {
    const expected = sha256(answeredBytes(size));
    for (const [suffix, framing] of [
      ['', 'length'],
      ['/chunked', 'chunked'],
    ] as const) {
      const direct = await download(pair.direct, `/bytes/${size}${suffix}`);
      const tunnel = await download(pair.tunnel, `/bytes/${size}${suffix}`);
      expect(tunnel).toEqual(direct);
      expect(direct).toEqual({ exit: 0, status: 200, framing, bytes: size, digest: expected });
    }
  });
});

describe('HTTP/1.1 bodies with a slow end', () => {
  // The tunnel's windows must hold the fast side back, not drop or reorder bytes.
  it('a client reading at 16 MB/s downloads 16 MiB + 1 whole, with a length and chunked', async () => {
    // More than the tunnel's windows and loopback's socket buffers together.
    const size = 16 * MiB + 1;
    for (const [suffix, framing] of [
      ['', 'length'],
      ['/chunked', 'chunked'],
    ] as const) {
      expect(await download(pair.tunnel, `/bytes/${size}${suffix}`, ['--limit-rate', '16M'])).toEqual({ exit: 0, status: 200, framing, bytes: size, digest: sha256(answeredBytes(size)) });
    }
  });

  it('a client sending at 8 MB/s uploads 4 MiB + 1 whole', async () => {
    const { path, digest } = bodyFile(4 * MiB + 1);
    expect(await upload(pair.tunnel, path, ['--limit-rate', '8M'])).toMatchObject({ exit: 0, status: '200', requests: 1, seen: { framing: 'length', bodyBytes: 4 * MiB + 1, bodySha256: digest } });
  });
});

describe('HTTP/2 bodies at every boundary (h2c to the tunnel, HTTP/1.1 to the service)', () => {
  it.each(sizes)('%i bytes uploaded over h2c reach the service as over HTTP/1.1 directly', async (size) => {
    const { path, digest } = bodyFile(size);
    const direct = await upload(pair.direct, path, []);
    const tunnel = await upload(pair.tunnel, path, ['--http2-prior-knowledge']);
    expect(tunnel).toEqual(direct);
    expect(direct).toMatchObject({ exit: 0, status: '200', seen: { bodyBytes: size, bodySha256: digest } });
  });

  it.each(sizes)('%i bytes downloaded over h2c arrive whole, with a length and chunked', async (size) => {
    for (const suffix of ['', '/chunked']) {
      const tunnel = await download(pair.tunnel, `/bytes/${size}${suffix}`, ['--http2-prior-knowledge']);
      // HTTP/2 has no chunked framing: the body ends with the stream.
      expect(tunnel).toEqual({ exit: 0, status: 200, framing: suffix === '' ? 'length' : 'none', bytes: size, digest: sha256(answeredBytes(size)) });
    }
  });

  it.each([MiB + 1, 16 * MiB + 1])('nghttp with 16 KiB windows (smaller than a chunk) downloads %i bytes whole', async (size) => {
    // -w/-W: the stream's and the connection's window as 2^14 - 1 bytes, so the edge sends in slivers.
    const result = await runTool('nghttp', ['-w', '14', '-W', '14', '-H', `:authority: ${pair.tunnel.authority}`, `http://127.0.0.1:${pair.tunnel.port}/bytes/${size}`]);
    expect({ exit: result.code, bytes: result.stdout.length, digest: sha256(result.stdout) }).toEqual({ exit: 0, bytes: size, digest: sha256(answeredBytes(size)) });
  });

  it('h2load: 48 uploads of 1 MiB + 1 on 2 connections, 8 streams each, all reach the service whole', async () => {
    const { path, digest } = bodyFile(MiB + 1);
    const before = service.received.length;
    const result = await runTool('h2load', ['-n', '48', '-c', '2', '-m', '8', '-d', path, '-H', `:authority: ${pair.tunnel.authority}`, `http://127.0.0.1:${pair.tunnel.port}/upload`]);
    const text = result.stdout.toString();
    expect(/requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(text)?.slice(1)).toEqual(['48', '48', '48', '0', '0']);
    const uploads = service.received.slice(before);
    expect(uploads.map((seen) => `${seen.method} ${seen.bodyBytes} ${seen.bodySha256}`)).toEqual(Array(48).fill(`POST ${MiB + 1} ${digest}`));
  });

  it('h2load: 64 downloads of 1 MiB + 1 on 2 connections, 16 streams each, all succeed with every byte', async () => {
    const result = await runTool('h2load', ['-n', '64', '-c', '2', '-m', '16', '-H', `:authority: ${pair.tunnel.authority}`, `http://127.0.0.1:${pair.tunnel.port}/bytes/${MiB + 1}`]);
    const text = result.stdout.toString();
    expect(/requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(text)?.slice(1)).toEqual(['64', '64', '64', '0', '0']);
    // h2load counts DATA payload bytes as "data".
    expect(/traffic: .*\((\d+)\) data/.exec(text)?.[1]).toBe(String(64 * (MiB + 1)));
  });
});

describe('bodies over TLS (public and control ports), HTTP/1.1 and h2 by ALPN', () => {
  let tls: TunnelPair;

  beforeAll(async () => {
    const cert = await makeDevCertificate('localhost', join(scratch, 'tls'));
    const keyPath = join(scratch, 'tls', 'localhost-key.pem');
    const chainPath = join(scratch, 'tls', 'localhost-chain.pem');
    writeFileSync(keyPath, cert.key, { mode: 0o600 });
    writeFileSync(chainPath, cert.cert);
    // The server serves the certificate and its authority's; the agent trusts the authority.
    tls = await startProcessTunnelPair(service.port, 'http', ['--tls-cert', chainPath, '--tls-key', keyPath], ['--ca', cert.certPath]);
  });

  afterAll(async () => {
    await tls?.stop();
  });

  const overTls = (args: string[]): string[] => ['-k', '--resolve', `${tls.tunnel.authority}:127.0.0.1`, ...args];
  const httpsTarget = (path: string): string[] => [`https://${tls.tunnel.authority}${path}`];

  it.each([
    ['HTTP/1.1', '--http1.1'],
    ['h2', '--http2'],
  ])('%s: uploads and downloads of 1 MiB + 1 and 16 MiB + 1 arrive whole', async (_label, version) => {
    for (const size of [MiB + 1, 16 * MiB + 1]) {
      const { path, digest } = bodyFile(size);
      const up = await runTool('curl', overTls(['-s', '-o', '/dev/null', '-w', '%{http_code} %{http_version}', version, '--data-binary', `@${path}`, ...httpsTarget('/upload')]));
      expect({ exit: up.code, answer: up.stdout.toString(), seen: lastSeen() }).toMatchObject({
        exit: 0,
        answer: `200 ${version === '--http2' ? '2' : '1.1'}`,
        seen: { method: 'POST', bodyBytes: size, bodySha256: digest },
      });
      const bodyOut = join(scratch, 'tls-download');
      const down = await runTool('curl', overTls(['-s', '-o', bodyOut, version, ...httpsTarget(`/bytes/${size}/chunked`)]));
      const body = readFileSync(bodyOut);
      expect({ exit: down.code, bytes: body.length, digest: sha256(body) }).toEqual({ exit: 0, bytes: size, digest: sha256(answeredBytes(size)) });
    }
  });
});
