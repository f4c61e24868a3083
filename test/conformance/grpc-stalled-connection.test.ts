// The agent's HTTP/2 connection to a gRPC service, when Node stops reading
// it without a word (session-stall-watch.ts): the call ends with a status
// and the next call goes through; and a service that stops answering for a
// while (its event loop blocked, as at a breakpoint) is waited for, as a
// direct caller waits, not taken for such a connection. The same at the
// edge, for a caller's connection (public-session-stall-watch.ts).
import { connect, constants, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { Worker } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFrameCounter } from './frame-counter.js';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

/**
 * In a thread of its own, so that blocking its event loop blocks nothing
 * else: answers every call OK; /huge/ with one 120 KiB metadata field (over
 * 64 KiB even as Huffman codes, 5 bits an 'h': nghttp2 takes no larger
 * field); /blocked/ after its event loop has stood still for 10 s.
 */
const serviceSource = `
const { createServer } = require('node:http2');
const { parentPort, workerData } = require('node:worker_threads');
const server = createServer({ maxSendHeaderBlockLength: 1024 * 1024, settings: { maxConcurrentStreams: workerData.maxConcurrentStreams } });
server.on('stream', (stream, headers) => {
  stream.on('error', () => {});
  stream.resume();
  const path = String(headers[':path']);
  if (path.startsWith('/blocked/')) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10000);
  const metadata = path.startsWith('/huge/') ? { 'x-huge': 'h'.repeat(120 * 1024) } : {};
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0', ...metadata }, { endStream: true });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

interface Outcome {
  status: unknown;
  message?: string;
}

/** The call's status (and message, if any), from a caller taking heads of up to 1 MiB (and sending them: `metadata`). */
async function statusOf(endpoint: Endpoint, path: string, metadata: OutgoingHttpHeaders = {}): Promise<Outcome> {
  const session = connect(`http://127.0.0.1:${endpoint.port}`, { settings: { maxHeaderListSize: 1024 * 1024 }, maxSendHeaderBlockLength: 1024 * 1024 });
  session.on('error', () => {});
  const stream = session.request({ ':method': 'POST', ':path': path, ':authority': endpoint.authority, 'content-type': 'application/grpc', te: 'trailers', ...metadata });
  stream.end(Buffer.alloc(5));
  stream.on('error', () => {});
  const outcome = await new Promise<Outcome>((resolve) => {
    const seen: Outcome = { status: undefined };
    const read = (headers: IncomingHttpHeaders): void => {
      if (headers['grpc-status'] === undefined) return;
      seen.status = headers['grpc-status'];
      if (headers['grpc-message'] !== undefined) seen.message = decodeURIComponent(String(headers['grpc-message']));
    };
    stream.on('response', read);
    stream.on('trailers', read);
    stream.resume();
    stream.on('close', () => resolve(seen));
  });
  session.close();
  return outcome;
}

/** The service in a thread of its own and the tunnel to it, for the tests of the describe this is called in. */
function serviceForEach(maxConcurrentStreams: number): { readonly pair: TunnelPair } {
  let service: Worker | undefined;
  let pair: TunnelPair | undefined;
  beforeAll(async () => {
    service = new Worker(serviceSource, { eval: true, workerData: { maxConcurrentStreams } });
    const port = await new Promise<number>((resolve, reject) => {
      service!.once('message', resolve);
      service!.once('error', reject);
    });
    pair = await startTunnelPair(port, 'grpc');
  });
  afterAll(async () => {
    await pair?.stop();
    await service?.terminate();
  });
  return {
    get pair(): TunnelPair {
      return pair!;
    },
  };
}

describe("the agent's connection to a gRPC service", () => {
  const running = serviceForEach(100);

  // Directly, Node's client (grpc-js too) waits for ever: nghttp2 refuses the
  // field and Node stops reading without a word (nodejs/node#41582); C-core
  // ends the call. Through the tunnel the shared connection to the service
  // would hold every later call too.
  it('ends a call whose service sends one metadata field over 64 KiB with INTERNAL, and the next call goes through', async () => {
    const outcome = await statusOf(running.pair.tunnel, '/huge/Call');
    expect(outcome.status).toBe(String(grpc.status.INTERNAL));
    expect(outcome.message).toContain('could not decode (one header field over 64 KiB');
    expect(await statusOf(running.pair.tunnel, '/any.Service/Call')).toEqual({ status: '0' });
  });

  it('waits for a service whose event loop stands still for 10 s (a breakpoint), as a direct caller does', async () => {
    const outcomes: Record<string, Outcome> = {};
    for (const [label, endpoint] of running.pair.both) outcomes[label] = await statusOf(endpoint, '/blocked/Call');
    expect(outcomes).toEqual({ direct: { status: '0' }, tunnel: { status: '0' } });
  });
});

// nghttp2 holds calls over the service's limit of concurrent streams in the
// queue the watch looks at: with the service standing still, that queue is
// not a sign of a stopped connection (the watch destroyed such a session).
describe("the agent's connection to a gRPC service that takes one call at a time", () => {
  const running = serviceForEach(1);

  it('waits, with a second call queued, for the service whose event loop stands still for 10 s', async () => {
    const outcomes = await Promise.all([statusOf(running.pair.tunnel, '/blocked/First'), statusOf(running.pair.tunnel, '/queued/Second')]);
    expect(outcomes).toEqual([{ status: '0' }, { status: '0' }]);
  });
});

/** HPACK (RFC 7541 section 5.1): an integer after an n-bit prefix. */
function hpackInteger(value: number, prefixBits: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([value]);
  const bytes = [max];
  let rest = value - max;
  for (; rest >= 128; rest = Math.floor(rest / 128)) bytes.push((rest % 128) + 128);
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A field as a literal without indexing, under a new name, neither Huffman-coded (RFC 7541 section 6.2.2). */
const literalField = (name: string, value: string): Buffer =>
  Buffer.concat([Buffer.from([0]), hpackInteger(name.length, 7), Buffer.from(name), hpackInteger(value.length, 7), Buffer.from(value)]);

function h2Frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/**
 * A gRPC call whose head holds `metadata` as plain literals, in HEADERS and
 * CONTINUATION frames, from a client that waits for the stream as grpcio
 * does (Node's client closes the session itself on a GOAWAY with an error):
 * the GOAWAYs the edge sent, by error code, once it has closed the connection.
 */
async function callClosedWith(endpoint: Endpoint, metadata: Record<string, string>): Promise<Map<number, number>> {
  const fields = { ':method': 'POST', ':scheme': 'http', ':path': '/any.Service/Call', ':authority': endpoint.authority, 'content-type': 'application/grpc', te: 'trailers', ...metadata };
  const block = Buffer.concat(Object.entries(fields).map(([name, value]) => literalField(name, value)));
  const frames = [Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), h2Frame(4, 0, 0, Buffer.alloc(0))];
  const frameBytes = 16_384;
  for (let offset = 0; offset < block.length; offset += frameBytes) {
    const last = offset + frameBytes >= block.length;
    frames.push(h2Frame(offset === 0 ? 1 : 9, last ? 4 : 0, 1, block.subarray(offset, offset + frameBytes)));
  }
  frames.push(h2Frame(0, 1, 1, Buffer.alloc(5)));
  const counter = await startFrameCounter(endpoint.port);
  try {
    await new Promise<void>((resolve) => {
      const socket = netConnect(counter.port, '127.0.0.1');
      socket.resume();
      socket.on('error', () => {});
      socket.on('close', () => resolve());
      socket.write(Buffer.concat(frames));
    });
    return counter.counts.goaways;
  } finally {
    await counter.close();
  }
}

describe("the edge's connection from a caller", () => {
  const running = serviceForEach(100);

  // A field over 64 KiB as a plain literal, as grpcio sends a long metadata
  // value: nghttp2 refuses it with GOAWAY COMPRESSION_ERROR naming the
  // stream, and Node then leaves the connection open without a word (the
  // call waited a minute, to the idle timeout; grpcio's own server answers
  // RESOURCE_EXHAUSTED at once).
  it('is closed when the caller sends one metadata field over 64 KiB, so that a caller waiting on its call hears', async () => {
    expect(await callClosedWith(running.pair.tunnel, { 'x-big': 'a'.repeat(70_000) })).toEqual(new Map([[constants.NGHTTP2_COMPRESSION_ERROR, 1]]));
    expect(await statusOf(running.pair.tunnel, '/any.Service/Call', { 'x-fits': '~'.repeat(30_000) })).toEqual({ status: '0' });
  }, 30_000);
});
