// The floor for bulk: 1 MiB messages over one bare grpc-js bidi stream
// between two processes, with the tunnel's HTTP/2 windows and nothing else
// (no HTTP on either end, no protobuf, no flow control of ours).
//   node grpc-pipe.ts serve            prints the port
//   node grpc-pipe.ts PORT SECONDS     prints {"up":{...},"down":{...}}
// "up" is client to server (the direction of responses through a tunnel:
// the agent is the gRPC client), "down" server to client. Each direction
// gives MB/s and the CPU seconds each process spent per 1,000 MiB: the
// least a tunnel that carries bodies over grpc-js can spend on its two hops.
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

export interface PipeDirection {
  megabytesPerSecond: number;
  /** CPU seconds per 1,000 MiB moved, by the process that sent and the one that received. */
  senderCpuPer1000: number;
  receiverCpuPer1000: number;
}

/** CPU time since `since`, in microseconds (user + system). */
const cpuSince = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};
const perThousandMiB = (cpuMicros: number, bytes: number): number => cpuMicros / 1e6 / (bytes / 2 ** 20 / 1000);

/** Writes 1 MiB messages while `more()` holds, honouring backpressure, then `last()` if given, then ends. */
function pump(stream: grpc.ClientDuplexStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>, more: () => boolean, last?: () => Buffer): void {
  const next = (): void => {
    while (more()) if (!stream.write(oneMiB)) return void stream.once('drain', next);
    if (last) stream.write(last());
    stream.end();
  };
  next();
}

function serve(): void {
  const server = new grpc.Server(grpcChannelOptions);
  server.addService(pipeService, {
    // Answers with the byte count and the CPU it spent receiving them.
    sink: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      let bytes = 0;
      let cpu: NodeJS.CpuUsage | undefined;
      call.on('data', (data: Buffer) => {
        cpu ??= process.cpuUsage();
        bytes += data.length;
      });
      call.on('end', () => {
        call.write(Buffer.from(JSON.stringify({ bytes, cpuMicros: cpu ? cpuSince(cpu) : 0 })));
        call.end();
      });
    },
    // Streams for the asked milliseconds, then sends the CPU it spent in one last message.
    source: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.once('data', (data: Buffer) => {
        const until = Date.now() + Number(data.toString());
        const cpu = process.cpuUsage();
        pump(call, () => Date.now() < until, () => Buffer.from(JSON.stringify({ cpuMicros: cpuSince(cpu) })));
      });
    },
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    raiseSessionWindows(server, http2WindowBytes);
    process.stdout.write(`${port}\n`);
  });
}

async function measure(port: number, seconds: number): Promise<{ up: PipeDirection; down: PipeDirection }> {
  const Client = grpc.makeGenericClientConstructor(pipeService, 'Pipe');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), grpcChannelOptions) as unknown as Record<'sink' | 'source', () => grpc.ClientDuplexStream<Buffer, Buffer>>;
  const up = await new Promise<PipeDirection>((resolve, reject) => {
    const call = client.sink();
    const started = performance.now();
    const cpu = process.cpuUsage();
    const until = Date.now() + seconds * 1000;
    call.on('data', (data: Buffer) => {
      const senderCpu = cpuSince(cpu);
      const { bytes, cpuMicros } = JSON.parse(data.toString()) as { bytes: number; cpuMicros: number };
      resolve({
        megabytesPerSecond: bytes / 1e6 / ((performance.now() - started) / 1000),
        senderCpuPer1000: perThousandMiB(senderCpu, bytes),
        receiverCpuPer1000: perThousandMiB(cpuMicros, bytes),
      });
    });
    call.on('error', reject);
    pump(call, () => Date.now() < until);
  });
  const down = await new Promise<PipeDirection>((resolve, reject) => {
    const call = client.source();
    let bytes = 0;
    let started = 0;
    let cpu: NodeJS.CpuUsage | undefined;
    let last: Buffer | undefined;
    call.on('data', (data: Buffer) => {
      if (started === 0) started = performance.now();
      cpu ??= process.cpuUsage();
      // Every message but the last is 1 MiB of payload; the last is the server's CPU report.
      if (last !== undefined) bytes += last.length;
      last = data;
    });
    call.on('end', () => {
      const receiverCpu = cpu ? cpuSince(cpu) : 0;
      const { cpuMicros } = JSON.parse(last?.toString() ?? '{}') as { cpuMicros: number };
      resolve({
        megabytesPerSecond: bytes / 1e6 / ((performance.now() - started) / 1000),
        senderCpuPer1000: perThousandMiB(cpuMicros, bytes),
        receiverCpuPer1000: perThousandMiB(receiverCpu, bytes),
      });
    });
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
