// The floor for bulk: 1 MiB messages over one bare grpc-js bidi stream
// between two processes, with the tunnel's HTTP/2 windows and nothing else
// (no HTTP on either end, no protobuf, no flow control of ours).
//   node grpc-pipe.ts serve            prints the port
//   node grpc-pipe.ts PORT SECONDS     prints {"up":MB/s,"down":MB/s}
// "up" is client to server (the direction of responses through a tunnel:
// the agent is the gRPC client), "down" server to client.
import * as grpc from '@grpc/grpc-js';
import { grpcChannelOptions, http2WindowBytes } from '../src/main/tunnel/config.js';
import { raiseSessionWindows } from '../src/main/tunnel/patches/grpc-session-window.js';
import { rawMethod } from '../src/main/service/raw-grpc-method.js';

const pipeService = {
  // The client streams until it ends; the server answers with the byte count.
  sink: rawMethod('/burrow.bench.Pipe/Sink', true, true),
  // The client sends the milliseconds to stream for; the server streams that long.
  source: rawMethod('/burrow.bench.Pipe/Source', true, true),
} satisfies grpc.ServiceDefinition;
const oneMiB = Buffer.alloc(1024 * 1024, 'p');

/** Writes 1 MiB messages while `more()` holds, honouring backpressure, then ends. */
function pump(stream: grpc.ClientDuplexStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>, more: () => boolean): void {
  const next = (): void => {
    while (more()) if (!stream.write(oneMiB)) return void stream.once('drain', next);
    stream.end();
  };
  next();
}

function serve(): void {
  const server = new grpc.Server(grpcChannelOptions);
  server.addService(pipeService, {
    sink: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      let bytes = 0;
      call.on('data', (data: Buffer) => (bytes += data.length));
      call.on('end', () => {
        call.write(Buffer.from(String(bytes)));
        call.end();
      });
    },
    source: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.once('data', (data: Buffer) => {
        const until = Date.now() + Number(data.toString());
        pump(call, () => Date.now() < until);
      });
    },
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    raiseSessionWindows(server, http2WindowBytes);
    process.stdout.write(`${port}\n`);
  });
}

async function measure(port: number, seconds: number): Promise<{ up: number; down: number }> {
  const Client = grpc.makeGenericClientConstructor(pipeService, 'Pipe');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), grpcChannelOptions) as unknown as Record<'sink' | 'source', () => grpc.ClientDuplexStream<Buffer, Buffer>>;
  const up = await new Promise<number>((resolve, reject) => {
    const call = client.sink();
    const started = performance.now();
    const until = Date.now() + seconds * 1000;
    call.on('data', (data: Buffer) => resolve(Number(data.toString()) / 1e6 / ((performance.now() - started) / 1000)));
    call.on('error', reject);
    pump(call, () => Date.now() < until);
  });
  const down = await new Promise<number>((resolve, reject) => {
    const call = client.source();
    let bytes = 0;
    let started = 0;
    call.on('data', (data: Buffer) => {
      if (started === 0) started = performance.now();
      bytes += data.length;
    });
    call.on('end', () => resolve(bytes / 1e6 / ((performance.now() - started) / 1000)));
    call.on('error', reject);
    call.write(Buffer.from(String(seconds * 1000)));
    call.end();
  });
  (client as unknown as grpc.Client).close();
  return { up, down };
}

if (process.argv[2] === 'serve') {
  serve();
} else {
  const result = await measure(Number(process.argv[2]), Number(process.argv[3] ?? 5));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
