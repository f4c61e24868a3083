// What bounds bulk: 1 MiB messages over one bare grpc-js stream between two
// processes, each way, with the tunnel's windows. A tunnel carries every
// body over such a stream and does HTTP on both ends besides, so its 1 MiB
// figures are best read against these.
import { join } from 'node:path';
import type { BenchContext, Figure } from '../context.js';
import type { PipeDirection } from '../grpc-pipe.js';
import { repoRoot, startProcess } from '../processes.js';

export async function grpcPipe(ctx: BenchContext): Promise<Figure[]> {
  const seconds = ctx.quick ? 2 : 5;
  const script = join(repoRoot, 'bench/grpc-pipe.ts');
  const server = startProcess('gRPC pipe server', process.execPath, ['--import', 'tsx', script, 'serve']);
  try {
    const port = await server.line(/^\d+$/);
    const client = startProcess('gRPC pipe client', process.execPath, ['--import', 'tsx', script, port, String(seconds)]);
    const { up, down } = JSON.parse(await client.line(/^\{/, (seconds * 2 + 20) * 1000)) as { up: PipeDirection; down: PipeDirection };
    const cpu = (d: PipeDirection): string => `CPU s per 1,000 MiB: sender ${d.senderCpuPer1000.toFixed(2)}, receiver ${d.receiverCpuPer1000.toFixed(2)}`;
    ctx.say(`bare grpc-js stream, 1 MiB messages: client to server ${up.megabytesPerSecond.toFixed(0)} MB/s (${cpu(up)}), server to client ${down.megabytesPerSecond.toFixed(0)} MB/s (${cpu(down)})`);
    // Client to server is the way a tunnel carries responses (the agent is the gRPC client): read
    // its sender / receiver against the agent / server CPU of 1 MiB responses, and frp's.
    return [
      { scenario: '1 MiB messages, bare grpc-js stream: client→server / server→client', unit: 'MB/s', direct: up.megabytesPerSecond, tunnel: down.megabytesPerSecond, ratio: false },
      { scenario: 'CPU per 1,000 MiB, bare grpc-js stream client→server: server / client process', unit: 's', direct: up.receiverCpuPer1000, tunnel: up.senderCpuPer1000, ratio: false },
      { scenario: 'CPU per 1,000 MiB, bare grpc-js stream server→client: server / client process', unit: 's', direct: down.senderCpuPer1000, tunnel: down.receiverCpuPer1000, ratio: false },
    ];
  } finally {
    // Stopped by PID now, so it takes no CPU from the scenarios after.
    server.child.kill();
  }
}
