// gRPC metadata a service sends (found with grpc's C-core client, which
// takes what grpc-js does): repeated keys, -bin ones among them, arrive as
// separate values; many entries, and large ones, arrive as directly; and a
// caller's deadline of weeks is not one already past.
import { connect, createServer as createHttp2Server, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RespondOptions } from '../../src/main/tunnel/server/http2-public-stream.js';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

/** What the service is asked to send: initial and trailing metadata, as [key, value] (base64 for -bin keys). */
interface Ask {
  initial: [string, string][];
  trailing: [string, string][];
}

const raw = (bytes: Buffer): Buffer => bytes;
const echoService = {
  call: { path: '/meta.Echo/Call', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
};

function metadataOf(pairs: [string, string][]): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of pairs) metadata.add(key, key.endsWith('-bin') ? Buffer.from(value, 'base64') : value);
  return metadata;
}

/** What the caller got: the status, and each head's fields as sent, in order, but the date (a clock's) and the pseudo-headers. */
interface Outcome {
  status: string | undefined;
  initial: string[];
  trailing: string[];
}

const fieldsOf = (raw: string[]): string[] => raw.flatMap((name, i) => (i % 2 === 0 && !name.startsWith(':') && name !== 'date' ? [`${name}: ${raw[i + 1]}`] : []));

/**
 * Calls over bare HTTP/2 and reads the heads' raw fields: grpc-js as a
 * caller joins a repeated key's values and takes 128 fields at most, where
 * C-core takes them as sent.
 */
function call(endpoint: Endpoint, ask: Ask): Promise<Outcome> {
  const session = connect(`http://127.0.0.1:${endpoint.port}`, { settings: { maxHeaderListSize: 1024 * 1024 }, maxHeaderListPairs: 4096 });
  session.on('error', () => {});
  const json = Buffer.from(JSON.stringify(ask));
  const frame = Buffer.alloc(5 + json.length);
  frame.writeUInt32BE(json.length, 1);
  json.copy(frame, 5);
  const stream = session.request({ ':method': 'POST', ':path': echoService.call.path, ':authority': endpoint.authority, 'content-type': 'application/grpc', te: 'trailers' });
  stream.end(frame);
  return new Promise((resolve) => {
    const outcome: Outcome = { status: undefined, initial: [], trailing: [] };
    stream.on('response', (headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
      outcome.initial = fieldsOf(raw);
      outcome.status ??= headers['grpc-status'] as string | undefined;
    });
    stream.on('trailers', (headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
      outcome.trailing = fieldsOf(raw);
      outcome.status = headers['grpc-status'] as string | undefined;
    });
    stream.on('error', () => {});
    stream.resume();
    stream.on('close', () => {
      session.close();
      resolve(outcome);
    });
  });
}

/** The fields a service sends for `pairs`, as fieldsOf reads them. */
const fieldsFor = (pairs: [string, string][]): string[] => pairs.map(([key, value]) => `${key}: ${value}`);

describe('gRPC metadata from the service', () => {
  let server: grpc.Server;
  let pair: TunnelPair;

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(echoService, {
      call: (unary: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const ask = JSON.parse(unary.request.toString()) as Ask;
        unary.sendMetadata(metadataOf(ask.initial));
        callback(null, Buffer.from('ok'), metadataOf(ask.trailing));
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    pair = await startTunnelPair(port, 'grpc');
  });

  afterAll(async () => {
    await pair?.stop();
    server?.forceShutdown();
  });

  const many = Array.from({ length: 200 }, (_, i): [string, string] => [`x-many-${i}`, String(i)]);
  it.each([
    ['a key sent twice, and a -bin key sent twice', { initial: [['x-dup', 'one'], ['x-dup', 'two'], ['x-dup-bin', 'AAE='], ['x-dup-bin', '//4=']], trailing: [['x-late', 'a'], ['x-late', 'b'], ['x-late-bin', 'AAE='], ['x-late-bin', '//4=']] }],
    ['200 keys each way (Node takes 128 fields by default)', { initial: many, trailing: many }],
  ] as [string, Ask][])('%s arrives as directly', async (_label, ask) => {
    const outcomes: Record<string, Outcome> = {};
    for (const [label, endpoint] of pair.both) outcomes[label] = await call(endpoint, ask);
    expect(outcomes.tunnel).toEqual(outcomes.direct);
    const asked = (fields: string[]): string[] => fields.filter((field) => field.startsWith('x-'));
    const { status, initial, trailing } = outcomes.direct!;
    expect({ status, initial: asked(initial), trailing: asked(trailing) }).toEqual({ status: '0', initial: fieldsFor(ask.initial), trailing: fieldsFor(ask.trailing) });
  });
});

describe('a gRPC service over bare HTTP/2', () => {
  let service: Http2Server;
  let pair: TunnelPair;
  const large = 'l'.repeat(70 * 1024);

  beforeAll(async () => {
    // Answers every call OK at once, whatever its deadline; /large/ with 70 KiB of metadata.
    service = createHttp2Server({ maxSendHeaderBlockLength: 1024 * 1024 });
    service.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      stream.on('error', () => {});
      stream.resume();
      const wantsLarge = String(headers[':path']).startsWith('/large/');
      // No Date, as gRPC's C core and grpc-go send none (Node's respond takes sendDate, which its types do not list).
      const options: RespondOptions = { endStream: true, sendDate: false };
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0', ...(wantsLarge && { 'x-large': large }) }, options);
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    // An unknown tunnel is one from the start (reconnect-grace.test.ts has the grace).
    pair = await startTunnelPair((service.address() as AddressInfo).port, 'grpc', { reconnectGraceMs: 0 });
  });

  afterAll(async () => {
    await pair?.stop();
    await new Promise((resolve) => service?.close(resolve));
  });

  /** The call's status, the size of its x-large field and whether it came with a Date, from a caller taking heads of up to 1 MiB. */
  async function statusOf(endpoint: Endpoint, path: string, extra: Record<string, string> = {}, authority = endpoint.authority): Promise<{ status: unknown; large: number; dated?: true }> {
    const session = connect(`http://127.0.0.1:${endpoint.port}`, { settings: { maxHeaderListSize: 1024 * 1024 } });
    const stream = session.request({ ':method': 'POST', ':path': path, ':authority': authority, 'content-type': 'application/grpc', te: 'trailers', ...extra });
    stream.end(Buffer.alloc(5));
    stream.on('error', () => {});
    const outcome = await new Promise<{ status: unknown; large: number; dated?: true }>((resolve) => {
      const seen: { status: unknown; large: number; dated?: true } = { status: undefined, large: 0 };
      stream.on('response', (headers: IncomingHttpHeaders) => {
        seen.status ??= headers['grpc-status'];
        seen.large = String(headers['x-large'] ?? '').length;
        if (headers.date !== undefined) seen.dated = true;
      });
      stream.on('trailers', (headers: IncomingHttpHeaders) => (seen.status = headers['grpc-status']));
      stream.resume();
      stream.on('close', () => resolve(seen));
    });
    session.close();
    return outcome;
  }

  it("takes a caller's deadline longer than Node's longest timer (24.8 days) as one to come, not one past", async () => {
    const outcomes: Record<string, unknown> = {};
    // 597 hours: just past 2^31 - 1 ms.
    for (const [label, endpoint] of pair.both) outcomes[label] = await statusOf(endpoint, '/any.Service/Call', { 'grpc-timeout': '597H' });
    expect(outcomes).toEqual({ direct: { status: '0', large: 0 }, tunnel: { status: '0', large: 0 } });
  });

  // Found with grpcio, which shows a Date as metadata: initial, or trailing on an answer of trailers only.
  it("adds no Date the service did not send, nor one to the edge's own answers", async () => {
    const outcomes: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) outcomes[label] = await statusOf(endpoint, '/any.Service/Call');
    expect(outcomes).toEqual({ direct: { status: '0', large: 0 }, tunnel: { status: '0', large: 0 } });
    const noTunnel = await statusOf(pair.tunnel, '/any.Service/Call', {}, `nobody.localhost:${pair.tunnel.port}`);
    expect(noTunnel).toEqual({ status: String(grpc.status.UNIMPLEMENTED), large: 0 });
  });

  it('sends 70 KiB of metadata (over the 64 KiB of header block Node sends by default) through the tunnel as directly', async () => {
    const outcomes: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) outcomes[label] = await statusOf(endpoint, '/large/Call');
    expect(outcomes).toEqual({ direct: { status: '0', large: large.length }, tunnel: { status: '0', large: large.length } });
  });
});
