// Several edges (issue 17): small GETs through one edge of a two-edge cluster
// vs spread over both, with an agent holding a stream on each; and through
// an edge that forwards to the one holding the agent's stream. Needs
// Debian's redis-server; skipped, saying so, without it. On a 2-core machine
// two edges compete with the agent and the load tool for the same cores: the
// figure shows the cost of the arrangement, not a speed-up.
import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BenchContext, Figure } from '../context.js';
import { runLoad, type LoadResult } from '../load.js';
import { repoRoot, startProcess, type Started } from '../processes.js';
import { smallGets } from './http.js';

const burrow = (...rest: string[]): [string, string[]] => [process.execPath, [join(repoRoot, 'bin/burrow.js'), ...rest]];

function hasRedis(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function startEdge(redisUrl: string): Promise<{ process: Started; control: string; publicPort: number }> {
  const edge = startProcess('burrow server --cluster', ...burrow('server', '--control', '127.0.0.1:0', '--public', '127.0.0.1:0', '--cluster', redisUrl));
  const control = /connect to (\S+)/.exec(await edge.line(/agents connect to/))![1]!;
  const publicPort = Number(/:(\d+)\s*$/.exec(await edge.line(/public traffic on/))![1]);
  return { process: edge, control, publicPort };
}

/** Load on several edges at once, the connections shared out; requests/s summed, the slowest p99. */
async function spread(ports: number[], host: string, connections: number, seconds: number): Promise<LoadResult> {
  const results = await Promise.all(ports.map((port) => runLoad({ port, host, path: '/small', connections: connections / ports.length, seconds })));
  return {
    tool: results[0]!.tool,
    requestsPerSecond: results.reduce((sum, each) => sum + each.requestsPerSecond, 0),
    p50Ms: Math.max(...results.map((each) => each.p50Ms)),
    p99Ms: Math.max(...results.map((each) => each.p99Ms)),
    errors: results.reduce((sum, each) => sum + each.errors, 0),
  };
}

export async function cluster(ctx: BenchContext): Promise<Figure[]> {
  if (!hasRedis()) {
    ctx.say('cluster skipped: redis-server is not installed (apt-get install redis-server)');
    return [];
  }
  const seconds = ctx.quick ? 2 : 10;
  const redisPort = await freePort();
  const redis = startProcess('redis-server', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await redis.line(/Ready to accept connections/);
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const [one, two] = [await startEdge(redisUrl), await startEdge(redisUrl)];
  const agent = startProcess('burrow agent --server A,B', ...burrow('http', String(ctx.direct.port), '--name', 'benchc', '--server', `${one.control},${two.control}`, '--no-inspect'));
  await agent.line(/^tunnel benchc: /);
  // Both edges hold a stream once the agent has learned them.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const single = await smallGets({ port: one.publicPort, host: 'benchc.localhost' }, seconds);
  const both = await spread([one.publicPort, two.publicPort], 'benchc.localhost', 50, seconds);
  ctx.say(`cluster small GET one edge: ${Math.round(single.requestsPerSecond)} req/s p99 ${single.p99Ms.toFixed(1)} ms; two edges: ${Math.round(both.requestsPerSecond)} req/s p99 ${both.p99Ms.toFixed(1)} ms`);

  // The same agent on one edge only: the other forwards every request to it.
  agent.child.kill('SIGKILL');
  const holder = startProcess('burrow agent --ha 1', ...burrow('http', String(ctx.direct.port), '--name', 'benchf', '--server', one.control, '--ha', '1', '--no-inspect'));
  await holder.line(/^tunnel benchf: /);
  const held = await smallGets({ port: one.publicPort, host: 'benchf.localhost' }, seconds);
  const forwarded = await smallGets({ port: two.publicPort, host: 'benchf.localhost' }, seconds);
  ctx.say(`cluster small GET at the holding edge: ${Math.round(held.requestsPerSecond)} req/s; forwarded by the other: ${Math.round(forwarded.requestsPerSecond)} req/s p99 ${forwarded.p99Ms.toFixed(1)} ms`);
  for (const each of [holder, one.process, two.process, redis]) each.child.kill('SIGKILL');
  return [
    { scenario: 'cluster small GET req/s (one edge | two edges)', unit: 'req/s', direct: single.requestsPerSecond, tunnel: both.requestsPerSecond, extra: { p99OneMs: single.p99Ms, p99TwoMs: both.p99Ms, errors: single.errors + both.errors } },
    { scenario: 'cluster small GET req/s (holding edge | forwarded)', unit: 'req/s', direct: held.requestsPerSecond, tunnel: forwarded.requestsPerSecond, extra: { p99HeldMs: held.p99Ms, p99ForwardedMs: forwarded.p99Ms, errors: held.errors + forwarded.errors } },
  ];
}
