// gRPC calls made by hand with nghttp (a client that is neither grpc-js nor
// ours): a framed request, then the response's bytes and trailers, directly
// and through the tunnel, at sizes around the windows and buffers, with
// nghttp's default windows and with windows smaller than one DATA frame.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sizedPayload, startGrpcJsSizedService, type SizedService } from './grpc-sized-service.js';
import { runTool } from './tools.js';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

const MiB = 1024 * 1024;
const sizes = [0, 16 * 1024 - 5, 64 * 1024 + 1, MiB - 5, MiB + 1, 4 * MiB + 13];

let service: SizedService;
let pair: TunnelPair;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'burrow-grpc-nghttp-'));
  service = await startGrpcJsSizedService();
  pair = await startTunnelPair(service.port, 'grpc');
});

afterAll(async () => {
  await pair?.stop();
  await service?.stop();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

/** A request file: one gRPC message asking for `size` bytes. */
function requestFile(size: number): string {
  const frame = Buffer.alloc(9);
  frame.writeUInt32BE(4, 1);
  frame.writeUInt32BE(size, 5);
  const path = join(scratch, `get-${size}`);
  writeFileSync(path, frame);
  return path;
}

/** One call: nghttp's exit code, the response's :status, content-type and trailers (from -v), and its DATA bytes. */
async function call(endpoint: Endpoint, size: number, windowArgs: string[], method = 'Get'): Promise<unknown> {
  const args = [
    ...windowArgs,
    '-d',
    requestFile(size),
    '-H',
    `:authority: ${endpoint.authority}`,
    '-H',
    'content-type: application/grpc',
    '-H',
    'te: trailers',
    `http://127.0.0.1:${endpoint.port}/burrow.conformance.Sized/${method}`,
  ];
  const verbose = await runTool('nghttp', ['-v', '-n', ...args]);
  const received = [...verbose.stdout.toString('latin1').matchAll(/recv \(stream_id=\d+\) ([^:\s][^:]*|:status): (.*)$/gm)].map((m) => [m[1], m[2]]);
  const wanted = ['content-type', 'grpc-status', 'grpc-message', ':status'];
  const body = await runTool('nghttp', args);
  return {
    exit: [verbose.code, body.code],
    headers: received.filter(([name]) => wanted.includes(name!)),
    bytes: body.stdout.length,
    sha256: createHash('sha256').update(body.stdout).digest('hex'),
  };
}

/** The framed response the service sends for `size`. */
function framed(size: number): Buffer {
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(size, 1);
  return Buffer.concat([frame, sizedPayload(size)]);
}

describe('gRPC unary calls made with nghttp', () => {
  it.each([
    ["nghttp's default windows", []],
    ['16 KiB windows', ['-w', '14', '-W', '14']],
  ])('are the same directly and through the tunnel, with %s', async (_label, windowArgs) => {
    for (const size of sizes) {
      const direct = await call(pair.direct, size, windowArgs as string[]);
      const tunnel = await call(pair.tunnel, size, windowArgs as string[]);
      expect(tunnel, `${size} bytes`).toEqual(direct);
      expect(direct, `${size} bytes`).toEqual({
        exit: [0, 0],
        headers: [
          [':status', '200'],
          ['content-type', 'application/grpc+proto'],
          ['grpc-status', '0'],
          ['grpc-message', 'OK'],
        ],
        bytes: size + 5,
        sha256: createHash('sha256').update(framed(size)).digest('hex'),
      });
    }
  });

  it('an unknown method ends with the same UNIMPLEMENTED status both ways', async () => {
    const direct = await call(pair.direct, 1, [], 'Nope');
    expect(await call(pair.tunnel, 1, [], 'Nope')).toEqual(direct);
    expect(direct).toMatchObject({ exit: [0, 0], headers: expect.arrayContaining([['grpc-status', '12']]), bytes: 0 });
  });
});
