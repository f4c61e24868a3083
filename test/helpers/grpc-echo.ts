// A real grpc-js backend and client for test/fixtures/echo.proto.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const protoPath = fileURLToPath(new URL('../fixtures/echo.proto', import.meta.url));
const definition = loadSync(protoPath, { keepCase: false, longs: Number, defaults: true });
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  burrow: { test: { v1: { EchoService: grpc.ServiceClientConstructor } } };
};
export const EchoService = loaded.burrow.test.v1.EchoService;

export interface EchoRequest {
  text?: string;
  blob?: Buffer;
  hang?: boolean;
  failWith?: number;
}
export interface EchoResponse {
  text: string;
  blob: Buffer;
  index: number;
}

/** What the backend saw, for assertions. */
export interface EchoBackendLog {
  metadata: grpc.Metadata[];
  cancelled: number;
}

export const largeMessageOptions = { 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.max_send_message_length': 16 * 1024 * 1024 };

export async function startEchoBackend(): Promise<{ port: number; log: EchoBackendLog; stop(): void }> {
  const log: EchoBackendLog = { metadata: [], cancelled: 0 };
  const server = new grpc.Server(largeMessageOptions);
  const trailer = (): grpc.Metadata => {
    const md = new grpc.Metadata();
    md.set('x-trailer', 'from-backend');
    return md;
  };
  server.addService(EchoService.service, {
    unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoResponse>, callback: grpc.sendUnaryData<EchoResponse>) => {
      log.metadata.push(call.metadata);
      call.on('cancelled', () => log.cancelled++);
      const header = new grpc.Metadata();
      header.set('x-header', 'early');
      call.sendMetadata(header);
      if (call.request.hang) return;
      if (call.request.failWith) {
        callback({ code: call.request.failWith, details: 'bad input', metadata: trailer() });
        return;
      }
      callback(null, { text: call.request.text ?? '', blob: call.request.blob ?? Buffer.alloc(0), index: 0 }, trailer());
    },
    serverStream: (call: grpc.ServerWritableStream<{ count: number }, EchoResponse>) => {
      let index = 0;
      let cancelled = false;
      call.on('cancelled', () => {
        cancelled = true;
        log.cancelled++;
      });
      const pump = (): void => {
        while (!cancelled && (call.request.count === 0 || index < call.request.count)) {
          if (!call.write({ text: `m${index}`, blob: Buffer.alloc(0), index: index++ })) {
            call.once('drain', pump);
            return;
          }
          if (call.request.count === 0 && index % 100 === 0) {
            setTimeout(pump, 5);
            return;
          }
        }
        if (!cancelled) call.end(trailer());
      };
      pump();
    },
    clientStream: (call: grpc.ServerReadableStream<EchoRequest, EchoResponse>, callback: grpc.sendUnaryData<EchoResponse>) => {
      const texts: string[] = [];
      call.on('data', (request: EchoRequest) => texts.push(request.text ?? ''));
      call.on('end', () => callback(null, { text: texts.join(','), blob: Buffer.alloc(0), index: texts.length }));
    },
    bidi: (call: grpc.ServerDuplexStream<EchoRequest, EchoResponse>) => {
      let index = 0;
      call.on('data', (request: EchoRequest) => call.write({ text: `echo:${request.text}`, blob: request.blob ?? Buffer.alloc(0), index: index++ }));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  return { port, log, stop: () => server.forceShutdown() };
}

/** A client that reaches tunnel NAME through the public port. */
export function echoClient(publicPort: number, name: string): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  return new EchoService(`127.0.0.1:${publicPort}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': `${name}.localhost`,
    ...largeMessageOptions,
  }) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
}
