// What bounds small requests: the same load through a minimal Node reverse
// proxy, one hop and two chained, beside the backend served directly. The
// tunnel's figure is best read against the two-hop one.
import { join } from 'node:path';
import type { BenchContext, Figure } from '../context.js';
import { runLoad } from '../load.js';
import { repoRoot, startProcess, type Started } from '../processes.js';

async function startProxy(targetPort: number): Promise<{ proxy: Started; port: number }> {
  const proxy = startProcess('minimal proxy', process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/minimal-proxy.ts'), String(targetPort)]);
  return { proxy, port: Number(await proxy.line(/^\d+$/)) };
}

export async function minimalProxy(ctx: BenchContext): Promise<Figure[]> {
  const seconds = ctx.quick ? 2 : 10;
  const first = await startProxy(ctx.direct.port);
  const second = await startProxy(first.port);
  try {
    const oneHop = await runLoad({ port: first.port, host: ctx.direct.host, path: '/small', connections: 50, seconds });
    const twoHops = await runLoad({ port: second.port, host: ctx.direct.host, path: '/small', connections: 50, seconds });
    ctx.say(`minimal Node proxy: one hop ${Math.round(oneHop.requestsPerSecond)} req/s (p99 ${oneHop.p99Ms.toFixed(2)} ms), two hops ${Math.round(twoHops.requestsPerSecond)} req/s (p99 ${twoHops.p99Ms.toFixed(2)} ms)`);
    return [
      { scenario: 'small GET via minimal Node proxy, 1 hop / 2 hops', unit: 'req/s', direct: oneHop.requestsPerSecond, tunnel: twoHops.requestsPerSecond, ratio: false },
      { scenario: 'small GET p99 via minimal Node proxy, 1 hop / 2 hops', unit: 'ms', direct: oneHop.p99Ms, tunnel: twoHops.p99Ms, ratio: false },
    ];
  } finally {
    // Stopped by PID now, so they take no CPU from the scenarios after.
    first.proxy.child.kill();
    second.proxy.child.kill();
  }
}
