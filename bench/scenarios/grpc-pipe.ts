// What bounds bulk: 1 MiB messages over one bare grpc-js stream between two
// processes, each way, with the tunnel's windows. A tunnel carries every
// body over such a stream and does HTTP on both ends besides, so its 1 MiB
// figures are best read against these.
import { join } from 'node:path';
import type { BenchContext, Figure } from '../context.js';
import { repoRoot, startProcess } from '../processes.js';

export async function grpcPipe(ctx: BenchContext): Promise<Figure[]> {
  const seconds = ctx.quick ? 2 : 5;
  const script = join(repoRoot, 'bench/grpc-pipe.ts');
  const server = startProcess('gRPC pipe server', process.execPath, ['--import', 'tsx', script, 'serve']);
  try {
    const port = await server.line(/^\d+$/);
    const client = startProcess('gRPC pipe client', process.execPath, ['--import', 'tsx', script, port, String(seconds)]);
    const { up, down } = JSON.parse(await client.line(/^\{/, (seconds * 2 + 20) * 1000)) as { up: number; down: number };
    ctx.say(`bare grpc-js stream, 1 MiB messages: client to server ${up.toFixed(0)} MB/s, server to client ${down.toFixed(0)} MB/s`);
    return [{ scenario: '1 MiB messages, bare grpc-js stream: client→server / server→client', unit: 'MB/s', direct: up, tunnel: down, ratio: false }];
  } finally {
    // Stopped by PID now, so it takes no CPU from the scenarios after.
    server.child.kill();
  }
}
