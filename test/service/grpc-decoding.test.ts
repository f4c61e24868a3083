// gRPC calls decoded for the inspector, against the real engine: by the
// demo service's own reflection (v1, and v1alpha for older servers), by a
// .proto or a descriptor set built by buf for a service without reflection,
// and by field numbers when there is no schema.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionV1AlphaImplementation } from '@grpc/reflection/build/src/implementations/reflection-v1alpha.js';
import { create, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService } from '../../src/main/service/app-service.js';
import { demoEchoProto, demoEchoService } from '../../src/main/service/demo-backends.js';
import { maxGivenSchemas } from '../../src/main/service/grpc-decoder.js';
import { reflectServiceFiles } from '../../src/main/service/grpc-reflection-client.js';
import { schemaFromProtoSource } from '../../src/main/service/grpc-schema.js';
import type { GrpcDecoding } from '../../src/shared/contract.js';
import { eventuallyAsync, repoRoot } from '../helpers/common.js';
import { echoClient, startEchoBackend } from '../helpers/grpc-echo.js';

const run = promisify(execFile);
let service: AppService;
let publicPort: number;
let echo: Awaited<ReturnType<typeof startEchoBackend>>;

/** EchoMessage { text = 1 } encoded by hand: the demo echo takes raw bytes. */
const echoMessage = (text: string): Buffer => Buffer.from(new BinaryWriter().tag(1, WireType.LengthDelimited).string(text).finish());

beforeAll(async () => {
  echo = await startEchoBackend();
  service = await AppService.open({ initial: { settings: { embeddedServer: true } } });
  const embedded = await service.getEmbeddedServer();
  publicPort = Number(/:(\d+)$/.exec(embedded.publicBaseUrl!)![1]);
  await service.createTunnel({ name: 'demo-grpc', protocol: 'grpc', target: embedded.demoTargets!.grpc });
  await service.createTunnel({ name: 'plain-grpc', protocol: 'grpc', target: String(echo.port) });
  await eventuallyAsync(async () => (await service.listTunnels()).every((t) => t.status === 'online'), 'tunnels online', 20_000);
});

afterAll(async () => {
  await service?.close();
  echo?.stop();
});

function demoClient(): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  const Client = grpc.makeGenericClientConstructor(demoEchoService, 'Echo');
  return new Client(`127.0.0.1:${publicPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'demo-grpc.localhost' }) as never;
}

/** The newest call to this path, once it has finished (not an older one while it has not). */
async function newestCall(path: string): Promise<string> {
  let id: string | undefined;
  await eventuallyAsync(async () => {
    const newest = (await service.listRequests({})).filter((r) => r.path === path).at(-1);
    id = newest?.state === 'done' ? newest.requestId : undefined;
    return id !== undefined;
  }, `a finished call to ${path}`);
  return id!;
}

const jsonOf = (decoding: GrpcDecoding): unknown[] => decoding.messages.map((m) => (m.json === undefined ? undefined : JSON.parse(m.json)));

describe('gRPC messages decoded', () => {
  it('by the local service own reflection: a unary call and a server stream, as JSON', async () => {
    const client = demoClient();
    try {
      const answer = await new Promise<Buffer>((resolve, reject) =>
        (client.unary as (r: Buffer, cb: (e: Error | null, m: Buffer) => void) => void)(echoMessage('hello'), (error, message) => (error ? reject(error) : resolve(message))),
      );
      expect(answer).toEqual(echoMessage('hello'));
      const unary = await service.decodeGrpcMessages({ requestId: await newestCall('/burrow.demo.Echo/Unary') });
      expect(unary.schema).toEqual({ source: 'reflection', detail: expect.stringMatching(/^server reflection on 127\.0\.0\.1:\d+$/) });
      expect(unary.messages.map((m) => m.direction)).toEqual(['to-service', 'to-client']);
      expect(jsonOf(unary)).toEqual([{ text: 'hello' }, { text: 'hello' }]);

      const stream = (client.serverStream as (r: Buffer) => grpc.ClientReadableStream<Buffer>)(echoMessage('tick'));
      for await (const _ of stream) void _;
      const streamed = await service.decodeGrpcMessages({ requestId: await newestCall('/burrow.demo.Echo/ServerStream') });
      // proto3 JSON leaves out a field at its default: sequence 0.
      expect(jsonOf(streamed)).toEqual([{ text: 'tick' }, { text: 'tick' }, { text: 'tick', sequence: 1 }, { text: 'tick', sequence: 2 }, { text: 'tick', sequence: 3 }, { text: 'tick', sequence: 4 }]);
    } finally {
      client.close();
    }
  });

  it('inflates messages sent compressed (grpc-encoding gzip) before decoding or replaying them, and names an encoding it cannot inflate', async () => {
    const Client = grpc.makeGenericClientConstructor(demoEchoService, 'Echo');
    const client = new Client(`127.0.0.1:${publicPort}`, grpc.credentials.createInsecure(), {
      'grpc.default_authority': 'demo-grpc.localhost',
      'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
    }) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
    try {
      const squeezed = echoMessage('squeeze me '.repeat(20));
      await new Promise<void>((resolve, reject) => (client.unary as (r: Buffer, cb: (e: Error | null) => void) => void)(squeezed, (error) => (error ? reject(error) : resolve())));
      const requestId = await newestCall('/burrow.demo.Echo/Unary');
      const detail = (await service.getRequestDetail({ requestId }))!;
      expect(detail.requestHeaders).toContainEqual(['grpc-encoding', 'gzip']);
      expect(detail.messages[0]).toMatchObject({ direction: 'to-service', compressed: true });
      expect(detail.messages[0]!.size).toBeLessThan(squeezed.length);
      const decoded = await service.decodeGrpcMessages({ requestId });
      expect(jsonOf(decoded)[0]).toEqual({ text: 'squeeze me '.repeat(20) });
      // Exported as kept: by index, the bytes as sent (compressed), in base64.
      const exported = await service.exportMessages({ requestId });
      expect(exported.fileName).toBe(`burrow-${requestId}-messages.json`);
      const file = JSON.parse(exported.text) as { protocol: string; messages: { direction: string; index: number; base64: string }[] };
      expect(file.protocol).toBe('grpc');
      expect(file.messages.map((m) => [m.direction, m.index])).toEqual([
        ['to-service', 0],
        ['to-client', 0],
      ]);
      expect(gunzipSync(Buffer.from(file.messages[0]!.base64, 'base64'))).toEqual(squeezed);
      // Replayed uncompressed, the service gets the same message.
      const replay = await service.replayRequest({ requestId });
      expect(replay).toMatchObject({ status: 200, grpcStatus: 0, requestId: expect.any(String) });
      await eventuallyAsync(async () => (await service.getRequestDetail({ requestId: replay.requestId! }))?.state === 'done', 'the replay done');
      const again = (await service.getRequestDetail({ requestId: replay.requestId! }))!;
      expect(again.messages.map((m) => m.compressed ?? false)).toEqual([false, false]);
      expect(jsonOf(await service.decodeGrpcMessages({ requestId: replay.requestId! }))).toEqual([{ text: 'squeeze me '.repeat(20) }, { text: 'squeeze me '.repeat(20) }]);
    } finally {
      client.close();
    }

    // Snappy is a grpc-encoding some services use and the inspector does not inflate: it says so.
    const id = `snappy-${Date.now()}`;
    service.recordTraffic({ kind: 'request-start', requestId: id, tunnel: 'demo-grpc', protocol: 'grpc', method: 'POST', path: '/burrow.demo.Echo/Unary', headers: [['grpc-encoding', 'snappy']], remoteAddress: '127.0.0.1', at: Date.now() });
    service.recordTraffic({ kind: 'grpc-message', requestId: id, direction: 'to-service', index: 0, size: 4, compressed: true, data: Buffer.from([1, 2, 3, 4]), at: Date.now() });
    const snappy = await service.decodeGrpcMessages({ requestId: id });
    expect(snappy.messages[0]).toEqual({ direction: 'to-service', index: 0, error: 'snappy-compressed: snappy is not one the inspector decodes (gzip, deflate, br)' });
  });

  it('says which messages do not fit the schema, and shows what they are', async () => {
    const client = demoClient();
    try {
      const notAMessage = Buffer.from([0x08, 0x96, 0x01, 0x12]); // field 1 = 150, then field 2 cut short
      await new Promise<void>((resolve, reject) => (client.unary as (r: Buffer, cb: (e: Error | null) => void) => void)(notAMessage, (error) => (error ? reject(error) : resolve())));
      const decoded = await service.decodeGrpcMessages({ requestId: await newestCall('/burrow.demo.Echo/Unary') });
      expect(decoded.messages[0]).toMatchObject({ error: expect.stringMatching(/^does not fit the schema's type: /) });
      expect(decoded.messages[0]!.json).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it('by fields and numbers without reflection, then by a .proto given to the tunnel, then by a descriptor set buf built', async () => {
    const client = echoClient(publicPort, 'plain-grpc');
    try {
      await new Promise<void>((resolve, reject) => (client.unary as (r: object, cb: (e: Error | null) => void) => void)({ text: 'hi', blob: Buffer.from([0, 1, 2]) }, (error) => (error ? reject(error) : resolve())));
    } finally {
      client.close();
    }
    const requestId = await newestCall('/burrow.test.v1.EchoService/Unary');
    const raw = await service.decodeGrpcMessages({ requestId });
    expect(raw.schema.source).toBe('none');
    expect(raw.schema.detail).toMatch(/^reflection on 127\.0\.0\.1:\d+: the service does not serve reflection \(grpc\.reflection\.v1 or v1alpha\)$/);
    expect(raw.messages[0]).toEqual({ direction: 'to-service', index: 0, raw: '1: "hi"\n2: <000102>' });

    const proto = await readFile(join(repoRoot, 'test/fixtures/echo.proto'));
    expect(await service.loadGrpcSchema({ tunnel: 'plain-grpc', fileName: 'echo.proto', base64: proto.toString('base64') })).toEqual({ fileName: 'echo.proto', services: ['burrow.test.v1.EchoService'] });
    const byProto = await service.decodeGrpcMessages({ requestId });
    expect(byProto.schema).toEqual({ source: 'file', detail: 'echo.proto' });
    expect(jsonOf(byProto)).toEqual([{ text: 'hi', blob: 'AAEC' }, { text: 'hi', blob: 'AAEC' }]);

    const scratch = await mkdtemp(join(tmpdir(), 'burrow-buf-'));
    try {
      await run(join(repoRoot, 'node_modules/.bin/buf'), ['build', '--path', 'echo.proto', '-o', join(scratch, 'echo.binpb'), '.'], { cwd: join(repoRoot, 'test/fixtures') });
      const set = await readFile(join(scratch, 'echo.binpb'));
      await service.loadGrpcSchema({ tunnel: 'plain-grpc', fileName: 'echo.binpb', base64: set.toString('base64') });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    const bySet = await service.decodeGrpcMessages({ requestId });
    expect(bySet.schema).toEqual({ source: 'file', detail: 'echo.binpb' });
    expect(jsonOf(bySet)).toEqual(jsonOf(byProto));

    // An inspector audit: schemas loaded for made-up tunnel names were kept without bound. The latest 64 keep theirs.
    for (let i = 0; i < maxGivenSchemas; i++) await service.loadGrpcSchema({ tunnel: `made-up-${i}`, fileName: 'echo.proto', base64: proto.toString('base64') });
    expect((await service.decodeGrpcMessages({ requestId })).schema.source).toBe('none');
    // Given again, for the cases after this one.
    await service.loadGrpcSchema({ tunnel: 'plain-grpc', fileName: 'echo.proto', base64: proto.toString('base64') });
  });

  it('decodes messages that span the chunks they arrive in, counts their bytes in the throughput graphs, and of one cut short by the inspector shows the fields before the cut', async () => {
    // After the test before, the tunnel decodes by echo.proto. ~1 KB messages back to back: some straddle a chunk's edge.
    const client = echoClient(publicPort, 'plain-grpc');
    const sent = Array.from({ length: 200 }, (_, i) => ({ text: `m${i}`, blob: Buffer.alloc(1_000, i) }));
    try {
      const call = (client.bidi as () => grpc.ClientDuplexStream<object, { text: string }>)();
      for (const message of sent) call.write(message);
      call.end();
      const echoed: string[] = [];
      for await (const answer of call) echoed.push(answer.text);
      expect(echoed).toHaveLength(sent.length);
      await new Promise<void>((resolve, reject) =>
        (client.unary as (r: object, cb: (e: Error | null) => void) => void)({ text: 'big', blob: Buffer.alloc(100_000, 7) }, (error) => (error ? reject(error) : resolve())),
      );
    } finally {
      client.close();
    }
    const bidi = await service.decodeGrpcMessages({ requestId: await newestCall('/burrow.test.v1.EchoService/Bidi') });
    expect(bidi.messages.filter((m) => m.error !== undefined)).toEqual([]);
    const texts = (direction: string): unknown[] => bidi.messages.filter((m) => m.direction === direction).map((m) => (JSON.parse(m.json!) as { text: string }).text);
    expect(texts('to-service')).toEqual(sent.map((m) => m.text));
    expect(texts('to-client')).toEqual(sent.map((m) => `echo:${m.text}`));

    // The throughput graphs count gRPC bytes too (they come as messages, not body events): the 100 KB each way at least.
    await eventuallyAsync(async () => {
      const points = (await service.getStats()).perTunnel['plain-grpc'] ?? [];
      return points.reduce((sum, p) => sum + p.bytesIn, 0) > 100_000 && points.reduce((sum, p) => sum + p.bytesOut, 0) > 100_000;
    }, 'the gRPC bytes in the throughput graphs');

    const large = await service.decodeGrpcMessages({ requestId: await newestCall('/burrow.test.v1.EchoService/Unary') });
    expect(large.messages[0]).toEqual({
      direction: 'to-service',
      index: 0,
      raw: '1: "big"\n… (cut at byte 5 of 100009)',
      error: 'decoded by field numbers up to the cut (only its first 16384 of 100009 bytes were kept)',
    });

    // Kept bytes that end between two fields: the first field (tag, 2-byte length, 16,381 bytes) is all that was kept.
    const again = echoClient(publicPort, 'plain-grpc');
    try {
      await new Promise<void>((resolve, reject) =>
        (again.unary as (r: object, cb: (e: Error | null) => void) => void)({ text: 'x'.repeat(16_381), blob: Buffer.alloc(100, 1) }, (error) => (error ? reject(error) : resolve())),
      );
    } finally {
      again.close();
    }
    const boundary = await service.decodeGrpcMessages({ requestId: await newestCall('/burrow.test.v1.EchoService/Unary') });
    expect(JSON.parse(boundary.messages[0]!.json!)).toEqual({ text: 'x'.repeat(16_381) });
    expect(boundary.messages[0]!.error).toBe('the fields after the cut are missing (only its first 16384 of 16486 bytes were kept)');
  });

  it('refuses a file that is no schema, with the reason, and keeps the one it had', async () => {
    const load = (fileName: string, text: string) =>
      service.loadGrpcSchema({ tunnel: 'plain-grpc', fileName, base64: Buffer.from(text).toString('base64') }).catch((error: { code: string; message: string }) => error);
    expect(await load('broken.proto', 'syntax = "proto3"; message A { int32 a = 1 }')).toMatchObject({ code: 'BURROW_E_INVALID_INPUT', message: expect.stringMatching(/^broken\.proto: illegal token/) });
    expect(await load('other.proto', 'syntax = "proto3"; import "mine/dep.proto"; message A {}')).toMatchObject({ message: expect.stringMatching(/imports mine\/dep\.proto: give a descriptor set instead/) });
    expect(await load('plain.proto', 'syntax = "proto3"; message A {}')).toMatchObject({ message: 'plain.proto describes no service' });
    expect(await load('notes.txt', 'hello there')).toMatchObject({ message: expect.stringMatching(/^notes\.txt is neither a \.proto file nor a descriptor set/) });
  });
});

describe('gRPC calls sent again', () => {
  it('replays a unary call through the tunnel, linked to its original, and copies it as grpcurl', async () => {
    const client = demoClient();
    const metadata = new grpc.Metadata();
    metadata.set('x-order', 'seven');
    try {
      await new Promise<void>((resolve, reject) =>
        (client.unary as (r: Buffer, m: grpc.Metadata, cb: (e: Error | null) => void) => void)(echoMessage("it's tea"), metadata, (error) => (error ? reject(error) : resolve())),
      );
    } finally {
      client.close();
    }
    const original = await newestCall('/burrow.demo.Echo/Unary');
    const replay = await service.replayRequest({ requestId: original });
    expect(replay).toEqual({ status: 200, grpcStatus: 0, requestId: expect.any(String) });
    const again = (await service.getRequestDetail({ requestId: replay.requestId! }))!;
    expect(again).toMatchObject({ replayOf: original, path: '/burrow.demo.Echo/Unary', grpcStatus: 0 });
    expect(again.requestHeaders).toContainEqual(['x-order', 'seven']);
    expect(jsonOf(await service.decodeGrpcMessages({ requestId: replay.requestId! }))).toEqual([{ text: "it's tea" }, { text: "it's tea" }]);

    const { snippet, warning } = await service.requestSnippet({ requestId: original, target: 'grpcurl' });
    expect(warning).toBeUndefined();
    expect(snippet).toBe(`grpcurl -plaintext -authority demo-grpc.localhost:${publicPort} -H 'x-order: seven' -d '{"text":"it'\\''s tea"}' 127.0.0.1:${publicPort} burrow.demo.Echo/Unary`);
    const curl = await service.requestSnippet({ requestId: original, target: 'curl' }).catch((error: Error) => error);
    expect(curl).toMatchObject({ message: 'a gRPC call is copied as grpcurl, not curl' });
  });

  it('refuses to replay a call that sent more than one message, or with edits', async () => {
    const client = demoClient();
    try {
      const call = (client.bidi as () => grpc.ClientDuplexStream<Buffer, Buffer>)();
      call.write(echoMessage('one'));
      call.write(echoMessage('two'));
      call.end();
      for await (const _ of call) void _;
    } finally {
      client.close();
    }
    const bidi = await newestCall('/burrow.demo.Echo/Bidi');
    expect(await service.replayRequest({ requestId: bidi }).catch((error: Error) => error.message)).toBe(
      'only a call with one request message (unary or server streaming) can be replayed; this one sent 2',
    );
    const unary = await newestCall('/burrow.demo.Echo/Unary');
    expect(await service.replayRequest({ requestId: unary, edit: { path: '/x' } }).catch((error: Error) => error.message)).toBe('a gRPC call is replayed as it was: editing is for HTTP requests');
  });
});

describe('the reflection client', () => {
  it('falls back to v1alpha for a server that serves only that, and gets every file the service needs', async () => {
    const schema = await schemaFromProtoSource('burrow/demo/echo.proto', demoEchoProto);
    const server = new grpc.Server();
    const definition = loadFileDescriptorSetFromBuffer(Buffer.from(toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: schema.files }))));
    new ReflectionV1AlphaImplementation(definition).addToServer(server);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    try {
      const files = await reflectServiceFiles(`127.0.0.1:${port}`, 'burrow.demo.Echo');
      expect(files.map((file) => file.name)).toEqual(['burrow/demo/echo.proto']);
      expect(files[0]!.service.map((s) => s.method.map((m) => m.name))).toEqual([['Unary', 'ServerStream', 'Bidi']]);
      await expect(reflectServiceFiles(`127.0.0.1:${port}`, 'no.Such')).rejects.toThrow(/reflection knows no no\.Such/);
    } finally {
      server.forceShutdown();
    }
  });
});
