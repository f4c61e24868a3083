// Uploads reach the local service in the pieces they arrived in (views of the
// tunnel's HTTP/2 frames), written together: one writev for a body chunk's
// pieces, not one write per piece, and not joined into a copy first.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalHttpClient } from '../../src/main/tunnel/agent/local-http-client.js';
import { patchStatus } from '../../src/main/tunnel/patches/patch-report.js';
import { bodyDigest, patternedBody, publicRequest, sha256Hex, startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';
import { localGet } from '../helpers/local-get.js';

const pieceBytes = 16 * 1024;

let backend: Backend | undefined;
let tunnel: TunnelFixture | undefined;
let client: LocalHttpClient | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  client?.close();
  await tunnel?.stop();
  await backend?.close();
  client = tunnel = backend = undefined;
});

/** Answers with the size and hash of the body it received. */
function startHashingBackend(): Promise<Backend> {
  return startBackend((req, res) => void bodyDigest(req).then((digest) => res.end(JSON.stringify(digest))));
}

/** Each system write to a socket connected to `port`: the buffers it carried. */
function recordWritesTo(port: number): Buffer[][] {
  const writes: Buffer[][] = [];
  const { _write: write, _writev: writev } = Socket.prototype as unknown as {
    _write: (this: Socket, chunk: Buffer, encoding: BufferEncoding, callback: () => void) => void;
    _writev: (this: Socket, chunks: { chunk: Buffer }[], callback: () => void) => void;
  };
  vi.spyOn(Socket.prototype as unknown as { _write: typeof write }, '_write').mockImplementation(function (this: Socket, chunk, encoding, callback) {
    if (this.remotePort === port) writes.push([Buffer.from(chunk)]);
    write.call(this, chunk, encoding, callback);
  });
  vi.spyOn(Socket.prototype as unknown as { _writev: typeof writev }, '_writev').mockImplementation(function (this: Socket, chunks, callback) {
    if (this.remotePort === port) writes.push(chunks.map(({ chunk }) => Buffer.from(chunk)));
    writev.call(this, chunks, callback);
  });
  return writes;
}

function piecesOf(data: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += pieceBytes) pieces.push(data.subarray(at, at + pieceBytes));
  return pieces;
}

/** Sends `body` (of `length` bytes) to the backend through `local`; resolves with what the backend received. */
function upload(local: LocalHttpClient, port: number, body: Readable, length: number): Promise<{ size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    local.dispatch(
      { host: '127.0.0.1', port },
      { method: 'POST', path: '/', headers: ['Host', 'local', 'Content-Length', String(length)], body, chunked: false, trailers: () => [] },
      {
        onConnect: () => {},
        onHeaders: () => {},
        onData: (chunk) => chunks.push(chunk) > 0,
        onComplete: () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as { size: number; sha256: string }),
        onError: reject,
      },
    );
  });
}

describe('the local HTTP client writes pieces together', () => {
  it('sends the pieces fed within writeTogether in one writev, with the request head', async () => {
    backend = await startHashingBackend();
    const writes = recordWritesTo(backend.port);
    client = new LocalHttpClient();
    expect(client.writesTogether).toBe(true);
    expect(patchStatus().get('undici-connector')).toBe(true);
    const data = patternedBody(1024 * 1024);
    const body = new Readable({ read: () => {} });
    const answered = upload(client, backend.port, body, data.length);
    // Once undici reads the body, what is pushed goes straight to its socket.
    await vi.waitFor(() => expect(body.listenerCount('data') > 0 && body.readableFlowing === true && body.readableLength === 0).toBe(true));
    await new Promise((resolve) => setImmediate(resolve));
    const before = writes.length;
    client.writeTogether({ host: '127.0.0.1', port: backend.port }, () => {
      for (const piece of piecesOf(data)) body.push(piece);
    });
    const together = writes.slice(before);
    expect(together).toHaveLength(1);
    expect(together[0]!.length).toBeGreaterThanOrEqual(64);
    body.push(null);
    expect(await answered).toEqual({ size: data.length, sha256: sha256Hex(data) });
  });

  it('sends pieces fed before undici took the body in one writev when it resumes the body', async () => {
    backend = await startHashingBackend();
    const writes = recordWritesTo(backend.port);
    client = new LocalHttpClient();
    const data = patternedBody(512 * 1024 + 3);
    const body = new Readable({ read: () => {} });
    for (const piece of piecesOf(data)) body.push(piece);
    body.push(null);
    expect(await upload(client, backend.port, body, data.length)).toEqual({ size: data.length, sha256: sha256Hex(data) });
    const bodyWrites = writes.filter((buffers) => buffers.some((buffer) => buffer.length === pieceBytes));
    expect(bodyWrites).toHaveLength(1);
    expect(bodyWrites[0]!.length).toBeGreaterThanOrEqual(piecesOf(data).length);
  });
  it('joins pieces instead when holding every socket of the pool would cost more than the copy', async () => {
    // A service that answers only once 40 requests are open: the pool holds 40 sockets.
    const open: (() => void)[] = [];
    backend = await startBackend((_req, res) => {
      open.push(() => res.end('ok'));
      if (open.length === 40) for (const answer of open) answer();
    });
    client = new LocalHttpClient();
    const target = { host: '127.0.0.1', port: backend.port };
    expect(client.writesTogetherCheaply(target, 1000)).toBe(true);
    const answered = Array.from({ length: 40 }, () => localGet(client!, target));
    await Promise.all(answered);
    // 40 sockets: a 1,000-byte batch is cheaper joined, a 64 KiB one cheaper held together.
    expect(client.writesTogetherCheaply(target, 1000)).toBe(false);
    expect(client.writesTogetherCheaply(target, 64 * 1024)).toBe(true);
  });
});

describe('uploads through the tunnel', () => {
  it('reach the service intact, a gathered chunk as its pieces in one writev', async () => {
    backend = await startHashingBackend();
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const writes = recordWritesTo(backend.port);
    for (const length of [64 * 1024 - 1, 1024 * 1024, 3 * 1024 * 1024 + 5]) {
      const data = patternedBody(length);
      const response = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost', method: 'POST', body: data });
      expect(JSON.parse(response.body.toString())).toEqual({ size: length, sha256: sha256Hex(data) });
    }
    // Joined, each body chunk would be one buffer; gathered, a writev carries a chunk's many pieces.
    expect(Math.max(...writes.map((buffers) => buffers.length))).toBeGreaterThanOrEqual(4);
  });

  it('hold the public client back while the service does not read, and arrive whole once it does', async () => {
    let resumeService: (() => void) | undefined;
    backend = await startBackend((req, res) => {
      req.pause();
      resumeService = () => {
        void bodyDigest(req).then((digest) => res.end(JSON.stringify(digest)));
        req.resume();
      };
    });
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const total = 128 * 1024 * 1024;
    const block = patternedBody(1024 * 1024);
    const req = request({ host: '127.0.0.1', port: tunnel.publicPort, method: 'POST', path: '/', headers: { host: 'app.localhost', 'content-length': String(total) } });
    const answer = new Promise<string>((resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      });
      req.on('error', reject);
    });
    // Writes until the tunnel stops taking more: no drain for a second.
    let written = 0;
    for (;;) {
      while (written < total && req.write(block)) written += block.length;
      if (written >= total) break;
      written += block.length;
      const drained = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 1000);
        req.once('drain', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!drained) break;
    }
    // What the sockets' kernel buffers and the tunnel's windows hold, far from all of it.
    expect(written).toBeLessThan(48 * 1024 * 1024);
    expect(resumeService).toBeDefined();
    resumeService!();
    const writeRest = async (): Promise<void> => {
      while (written < total) {
        written += block.length;
        if (!req.write(block)) await new Promise((resolve) => req.once('drain', resolve));
      }
      req.end();
    };
    await writeRest();
    const whole = createHash('sha256');
    for (let i = 0; i < total / block.length; i++) whole.update(block);
    expect(JSON.parse(await answer)).toEqual({ size: total, sha256: whole.digest('hex') });
  });
});
