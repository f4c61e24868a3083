// Bodies leave each side of the tunnel in the pieces they were read in, not
// joined into one buffer first: an upload from the edge, a response from the
// agent. Each body chunk goes as one gRPC message, its framed head then the
// reads it spans, in one writev on the data stream (grpc-in-place-framing.ts).
import { connect, createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { patchStatus } from '../../src/main/tunnel/patches/patch-report.js';
import { bodyDigest, patternedBody, publicRequest, sha256Hex, startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';

let backend: Backend | undefined;
let tunnel: TunnelFixture | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  await tunnel?.stop();
  await backend?.close();
  tunnel = backend = undefined;
});

/** Node's Http2Stream.prototype (not exported): the parent of a client stream's. */
async function http2StreamPrototype(): Promise<object> {
  const server = createHttp2Server((_req, res) => res.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const stream = session.request({ ':path': '/' });
  const prototype = Object.getPrototypeOf(Object.getPrototypeOf(stream)) as object;
  stream.resume();
  await new Promise((resolve) => stream.on('close', resolve));
  session.close();
  await new Promise((resolve) => server.close(resolve));
  return prototype;
}

/**
 * Each writev on an HTTP/2 stream that carries one whole gRPC message as a
 * head and more buffers (the head's frame header gives the length of them
 * all): how many buffers followed the head.
 */
async function recordGatheredSends(): Promise<number[]> {
  const sends: number[] = [];
  const prototype = (await http2StreamPrototype()) as { _writev: (this: unknown, chunks: { chunk: Buffer }[], callback: () => void) => void };
  const writev = prototype._writev;
  vi.spyOn(prototype, '_writev').mockImplementation(function (this: unknown, chunks, callback) {
    const [head, ...rest] = chunks.map(({ chunk }) => chunk);
    const length = rest.reduce((sum, piece) => sum + piece.length, head!.length - 5);
    if (rest.length > 0 && head!.length > 5 && head![0] === 0 && head!.readUInt32BE(1) === length) sends.push(rest.length);
    writev.call(this, chunks, callback);
  });
  return sends;
}

// Bodies of several body chunks, the first not a whole number of reads.
const lengths = [3 * 1024 * 1024 + 5, 16 * 1024 * 1024];

describe('bodies through the tunnel', () => {
  it('leave the edge, uploaded, as the pieces it read, behind the framed head of their body chunk, in one writev', async () => {
    backend = await startBackend((req, res) => void bodyDigest(req).then((digest) => res.end(JSON.stringify(digest))));
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const gathered = await recordGatheredSends();
    for (const length of lengths) {
      const data = patternedBody(length);
      const response = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost', method: 'POST', body: data });
      expect(JSON.parse(response.body.toString())).toEqual({ size: length, sha256: sha256Hex(data) });
    }
    expect(patchStatus().get('grpc-server-gathered-send')).toBe(true);
    // Joined, a body chunk leaves as one buffer; gathered, as its framed head and the reads it spans.
    expect(gathered.length).toBeGreaterThan(0);
    for (const pieces of gathered) expect(pieces).toBeGreaterThanOrEqual(2);
  });

  it('leave the agent, answered, as the pieces it read from the service, the same way', async () => {
    const bodies = new Map(lengths.map((length) => [`/${length}`, patternedBody(length)]));
    backend = await startBackend((req, res) => {
      const body = bodies.get(req.url ?? '')!;
      res.writeHead(200, { 'content-length': body.length });
      // In reads of 64 KiB at most, as a service writes a file.
      for (let at = 0; at < body.length; at += 64 * 1024) res.write(body.subarray(at, at + 64 * 1024));
      res.end();
    });
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const gathered = await recordGatheredSends();
    for (const length of lengths) {
      const response = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost', path: `/${length}` });
      expect(response.body.length).toBe(length);
      expect(sha256Hex(response.body)).toBe(sha256Hex(bodies.get(`/${length}`)!));
    }
    expect(patchStatus().get('grpc-client-gathered-send')).toBe(true);
    expect(gathered.length).toBeGreaterThan(0);
    for (const pieces of gathered) expect(pieces).toBeGreaterThanOrEqual(2);
  });
});
