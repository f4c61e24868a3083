// A gRPC method that answers with as many bytes as asked for, served two
// ways: by grpc-js, and by a bare HTTP/2 server that ends each stream with
// RST_STREAM(NO_ERROR) after its trailers, as grpc-go does when the caller
// has not finished sending (RFC 9113 section 8.1 allows it). Two callers:
// grpc-js, and a bare HTTP/2 one that ends its request only once the
// response has ended, so that such a reset really happens.
import { createHash } from 'node:crypto';
import { connect, constants, createServer, type ClientHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { rawMethod } from '../../src/main/service/raw-grpc-method.js';
import type { Endpoint } from './tunnel-pair.js';

const sizedService = {
  get: rawMethod('/burrow.conformance.Sized/Get', false, false),
  /** Answers with the 4-byte length of what it was sent. */
  put: rawMethod('/burrow.conformance.Sized/Put', false, false),
} satisfies grpc.ServiceDefinition;

const largeMessages = { 'grpc.max_receive_message_length': 64 * 1024 * 1024, 'grpc.max_send_message_length': 64 * 1024 * 1024 };

/** A pattern whose period (a prime) divides no buffer or window size, so misplaced bytes show. */
const pattern = Buffer.from(Array.from({ length: 65_521 }, (_, i) => (i * 7 + (i >> 12)) & 0xff));

/** The payload of `size` bytes every server sends. */
export function sizedPayload(size: number): Buffer {
  return size === 0 ? Buffer.alloc(0) : Buffer.allocUnsafe(size).fill(pattern);
}

const request = (size: number): Buffer => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(size);
  return bytes;
};

export interface SizedService {
  port: number;
  stop(): Promise<void>;
}

export async function startGrpcJsSizedService(): Promise<SizedService> {
  const server = new grpc.Server(largeMessages);
  server.addService(sizedService, {
    get: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, sizedPayload(call.request.readUInt32BE(0))),
    put: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, request(call.request.length)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { port, stop: async () => server.forceShutdown() };
}

/** Answers as soon as the request message is in, without waiting for the caller's end, then resets with NO_ERROR. */
export async function startResettingSizedService(): Promise<SizedService> {
  const server = createServer({ settings: { initialWindowSize: 16 * 1024 * 1024 } });
  server.on('stream', (stream: ServerHttp2Stream) => {
    stream.on('error', () => {});
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 9) return;
      stream.off('data', onData);
      stream.resume();
      const payload = sizedPayload(received.readUInt32BE(5));
      const frame = Buffer.alloc(5 + payload.length);
      frame.writeUInt32BE(payload.length, 1);
      payload.copy(frame, 5);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => {
        stream.sendTrailers({ 'grpc-status': '0' });
        // A PING goes out after the trailers: its answer means they are through, and the reset cannot overtake them.
        stream.session?.ping(() => stream.closed || stream.close(constants.NGHTTP2_NO_ERROR));
      });
      stream.end(frame);
    };
    stream.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What one call ended with: comparable across runs. */
export interface SizedOutcome {
  code: grpc.status;
  details: string;
  bytes: number;
  sha256: string;
}

export interface SizedClient {
  get(size: number): Promise<SizedOutcome>;
  /** Sends `size` bytes; the outcome's bytes are the 4-byte length the service counted. */
  put?(size: number): Promise<SizedOutcome>;
  close(): void;
}

const outcomeOf = (code: grpc.status, details: string, bytes: Buffer): SizedOutcome => ({
  code,
  details,
  bytes: bytes.length,
  sha256: createHash('sha256').update(bytes).digest('hex'),
});

export function sizedClient(endpoint: Endpoint): SizedClient {
  const Client = grpc.makeGenericClientConstructor(sizedService, 'Sized');
  const client = new Client(`127.0.0.1:${endpoint.port}`, grpc.credentials.createInsecure(), {
    ...largeMessages,
    'grpc.default_authority': endpoint.authority,
  }) as unknown as grpc.Client & Record<'get' | 'put', (request: Buffer, callback: (error: grpc.ServiceError | null, response?: Buffer) => void) => void>;
  const call = (method: 'get' | 'put', message: Buffer): Promise<SizedOutcome> =>
    new Promise((resolve) =>
      client[method](message, (error, response) => resolve(outcomeOf(error?.code ?? grpc.status.OK, error?.details ?? '', response ?? Buffer.alloc(0)))),
    );
  return {
    get: (size) => call('get', request(size)),
    put: (size) => call('put', sizedPayload(size)),
    close: () => client.close(),
  };
}

/** Calls over bare HTTP/2, keeping each request open until its response has ended. */
export function lateEndingClient(endpoint: Endpoint): SizedClient {
  const session: ClientHttp2Session = connect(`http://127.0.0.1:${endpoint.port}`, { settings: { initialWindowSize: 4 * 1024 * 1024 } });
  session.on('error', () => {});
  return {
    get: (size) =>
      new Promise((resolve) => {
        const stream = session.request(
          { ':method': 'POST', ':path': sizedService.get.path, ':authority': endpoint.authority, 'content-type': 'application/grpc', te: 'trailers' },
          { endStream: false },
        );
        const chunks: Buffer[] = [];
        let status: string | undefined;
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('trailers', (trailers) => (status = String(trailers['grpc-status'])));
        stream.on('end', () => stream.end());
        stream.on('error', () => {});
        stream.on('close', () => {
          const body = Buffer.concat(chunks);
          const message = body.length >= 5 ? body.subarray(5) : Buffer.alloc(0);
          if (status === undefined) resolve(outcomeOf(grpc.status.INTERNAL, `no status (stream closed with code ${stream.rstCode})`, message));
          else resolve(outcomeOf(Number(status), '', message));
        });
        const frame = Buffer.alloc(9);
        frame.writeUInt32BE(4, 1);
        frame.writeUInt32BE(size, 5);
        stream.write(frame);
      }),
    close: () => session.close(),
  };
}
