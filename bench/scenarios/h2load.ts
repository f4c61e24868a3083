// gRPC unary calls driven by h2load (nghttp2-client), a client nobody here
// wrote: the same calls directly to the backend and through the tunnel.
// Skipped, with a line saying so, when h2load is not installed.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, Figure, Target } from '../context.js';
import { removeAtExit, track } from '../processes.js';

const h2loadPath = ['/usr/bin/h2load', '/usr/local/bin/h2load'].find((path) => existsSync(path));

interface H2loadResult {
  callsPerSecond: number;
  meanMs: number;
  succeeded: number;
  requested: number;
}

function run(target: Target, bodyFile: string, calls: number): Promise<H2loadResult> {
  const [host, port] = target.grpcAddress.split(':');
  const authority = target.grpcAuthority ?? target.grpcAddress;
  const args = ['-n', String(calls), '-c', '4', '-m', '32', '-d', bodyFile, '-H', 'content-type: application/grpc', '-H', 'te: trailers', '-H', `:authority: ${authority}`];
  return new Promise((resolve, reject) => {
    const child = execFile(h2loadPath!, [...args, `http://${host}:${port}/burrow.bench.Echo/Unary`], { timeout: 120_000 }, (error, stdout) => {
      const finished = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(stdout);
      const counts = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded/.exec(stdout);
      const mean = /time for request:\s+\S+\s+\S+\s+(\S+)/.exec(stdout);
      if (finished === null || counts === null || mean === null) {
        reject(new Error(`h2load gave no figures${error ? ` (${error.message})` : ''}: ${stdout.slice(-300)}`));
        return;
      }
      const meanMs = mean[1]!.endsWith('us') ? Number.parseFloat(mean[1]!) / 1000 : Number.parseFloat(mean[1]!);
      resolve({ callsPerSecond: Number(finished[1]), meanMs, succeeded: Number(counts[2]), requested: Number(counts[1]) });
    });
    track(child);
  });
}

export async function h2loadGrpc(ctx: BenchContext): Promise<Figure[]> {
  if (h2loadPath === undefined) {
    ctx.say('h2load not installed (apt-get install nghttp2-client): gRPC h2load row skipped');
    return [];
  }
  const dir = mkdtempSync(join(tmpdir(), 'burrow-bench-h2load-'));
  removeAtExit(dir);
  const bodyFile = join(dir, 'unary.bin');
  // One gRPC message of 64 bytes: flag, length, payload.
  const message = Buffer.alloc(5 + 64, 'h');
  message[0] = 0;
  message.writeUInt32BE(64, 1);
  writeFileSync(bodyFile, message);
  const calls = ctx.quick ? 5_000 : 50_000;
  const figure: Figure = { scenario: `gRPC unary with h2load, ${calls} calls, 4 x 32 in flight`, unit: 'calls/s', extra: {} };
  for (const target of [ctx.direct, ctx.tunnel]) {
    const result = await run(target, bodyFile, calls);
    if (result.succeeded !== result.requested) ctx.say(`h2load ${target.label}: only ${result.succeeded} of ${result.requested} calls succeeded`);
    figure[target.label] = result.callsPerSecond;
    figure.extra![`${target.label} mean ms`] = result.meanMs;
    ctx.say(`h2load ${target.label}: ${Math.round(result.callsPerSecond)} calls/s, mean ${result.meanMs.toFixed(2)} ms`);
  }
  return [figure];
}
