// gRPC: unary calls per second at 50 in flight, and server-streamed
// messages per second on one call.
import * as grpc from '@grpc/grpc-js';
import type { BenchContext, Figure, Target } from '../context.js';
import { benchEchoService } from '../grpc-service.js';

const Client = grpc.makeGenericClientConstructor(benchEchoService, 'Echo');
type EchoClient = grpc.Client & {
  unary(request: Buffer, callback: (error: grpc.ServiceError | null, reply?: Buffer) => void): void;
  serverStream(request: Buffer): grpc.ClientReadableStream<Buffer>;
};

function client(target: Target): EchoClient {
  const options = target.grpcAuthority ? { 'grpc.default_authority': target.grpcAuthority } : {};
  return new Client(target.grpcAddress, grpc.credentials.createInsecure(), options) as unknown as EchoClient;
}

async function unaryRate(target: Target, seconds: number): Promise<number> {
  const c = client(target);
  const payload = Buffer.alloc(64, 'g');
  let calls = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (performance.now() < deadline) {
        await new Promise<void>((resolve, reject) => c.unary(payload, (error) => (error ? reject(error) : resolve())));
        calls++;
      }
    }),
  );
  c.close();
  return calls / seconds;
}

async function streamRate(target: Target, messages: number): Promise<number> {
  const c = client(target);
  const request = Buffer.alloc(4 + 64, 's');
  request.writeUInt32BE(messages, 0);
  const started = performance.now();
  let received = 0;
  for await (const _ of c.serverStream(request)) received++;
  c.close();
  if (received !== messages) throw new Error(`received ${received} of ${messages} messages`);
  return messages / ((performance.now() - started) / 1000);
}

export async function grpcCalls(ctx: BenchContext): Promise<Figure[]> {
  const seconds = ctx.quick ? 2 : 5;
  const messages = ctx.quick ? 20_000 : 200_000;
  const unary: Figure = { scenario: 'gRPC unary, 50 in flight', unit: 'calls/s' };
  const stream: Figure = { scenario: `gRPC server stream of ${messages} x 64 B`, unit: 'msg/s' };
  for (const target of [ctx.direct, ctx.tunnel]) {
    unary[target.label] = await unaryRate(target, seconds);
    stream[target.label] = await streamRate(target, messages);
    ctx.say(`gRPC ${target.label}: ${Math.round(unary[target.label]!)} unary calls/s, ${Math.round(stream[target.label]!)} streamed msg/s`);
  }
  return [unary, stream];
}
