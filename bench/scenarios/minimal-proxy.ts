// What bounds a Node tunnel, measured on the smallest Node reverse proxy
// (node:http alone) in front of the same backend: small requests through one
// hop and two chained (a tunnel is two hops: server, then agent), then 1 MiB
// bodies both ways through the two hops, with each hop's CPU per MiB and its
// memory at rest and after that load. Then the smallest multiplexed Node
// tunnel (its two hops share one node:http2 session, as a tunnel's requests
// share its connection), in rounds with Burrow. The tunnel's figures are
// best read against these, and frp's beside them.
import { join } from 'node:path';
import type { BenchContext, Figure, Target } from '../context.js';
import { afterLoadQuietSeconds, repoRoot, rssBytes, startProcess, type Started } from '../processes.js';
import { median, medianFigure } from '../rounds.js';
import { oneMiBKinds, oneMiBLoad, oneMiBRounds, smallGetRounds, smallGets, type OneMiBRun, type SidePids } from './http.js';

const toMiB = (bytes: number): number => bytes / 2 ** 20;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function startHop(label: string, script: string, args: string[]): Promise<{ hop: Started; port: number }> {
  const hop = startProcess(label, process.execPath, [join(repoRoot, 'bench', script), ...args]);
  return { hop, port: Number(await hop.line(/^\d+$/)) };
}

/** A chain of two hops: the load goes to `port`, the public hop (the tunnel server's place). */
export interface TwoHops {
  port: number;
  servicePort: number;
  publicPid: number;
  servicePid: number;
  stop(): void;
}

function linkHops(publicHop: { hop: Started; port: number }, serviceHop: { hop: Started; port: number }): TwoHops {
  return {
    port: publicHop.port,
    servicePort: serviceHop.port,
    publicPid: publicHop.hop.pid,
    servicePid: serviceHop.hop.pid,
    stop: () => {
      serviceHop.hop.child.kill();
      publicHop.hop.child.kill();
    },
  };
}

/** The minimal proxy twice in front of `targetPort`. */
export async function startTwoHops(targetPort: number): Promise<TwoHops> {
  const serviceHop = await startHop('minimal proxy', 'minimal-proxy.mjs', [String(targetPort)]);
  return linkHops(await startHop('minimal proxy', 'minimal-proxy.mjs', [String(serviceHop.port)]), serviceHop);
}

/** The smallest multiplexed Node tunnel in front of `targetPort`. */
export async function startMultiplexedHops(targetPort: number): Promise<TwoHops> {
  const serviceHop = await startHop('multiplexed proxy', 'minimal-multiplexed-proxy.mjs', ['service', String(targetPort)]);
  return linkHops(await startHop('multiplexed proxy', 'minimal-multiplexed-proxy.mjs', ['public', String(serviceHop.port)]), serviceHop);
}

export async function minimalProxy(ctx: BenchContext): Promise<Figure[]> {
  // One chain at a time, each measured after its own load and quiet.
  return [...(await minimalProxyAlone(ctx)), ...(await multiplexedTunnel(ctx))];
}

async function minimalProxyAlone(ctx: BenchContext): Promise<Figure[]> {
  const seconds = ctx.quick ? 2 : 10;
  // Hops of its own, fresh: memory at rest and after this load alone (those in the other scenarios' rounds have carried theirs).
  const chain = await startTwoHops(ctx.direct.port);
  const hops = [chain.publicPid, chain.servicePid] as const;
  try {
    await sleep(1_000);
    const atRest = hops.map(rssBytes);
    const oneHop = await smallGets({ port: chain.servicePort, host: ctx.direct.host }, seconds);
    const twoHops = await smallGets({ port: chain.port, host: ctx.direct.host }, seconds);
    ctx.say(`minimal Node proxy: one hop ${Math.round(oneHop.requestsPerSecond)} req/s (p99 ${oneHop.p99Ms.toFixed(2)} ms), two hops ${Math.round(twoHops.requestsPerSecond)} req/s (p99 ${twoHops.p99Ms.toFixed(2)} ms)`);
    const figures: Figure[] = [
      { scenario: 'small GET via minimal Node proxy, 1 hop / 2 hops', unit: 'req/s', direct: oneHop.requestsPerSecond, tunnel: twoHops.requestsPerSecond, ratio: false },
      { scenario: 'small GET p99 via minimal Node proxy, 1 hop / 2 hops', unit: 'ms', direct: oneHop.p99Ms, tunnel: twoHops.p99Ms, ratio: false },
    ];
    const bulkSeconds = ctx.quick ? 2 : 5;
    const bulk: OneMiBRun[] = [];
    for (const load of oneMiBKinds) {
      const run = await oneMiBLoad(chain.port, ctx.direct.host, load, bulkSeconds, hops);
      const [publicCpu, serviceCpu] = run.cpuPer1000;
      ctx.say(`minimal Node proxy, two hops, 1 MiB ${load[0]}: ${run.megabytesPerSecond.toFixed(0)} MB/s, p99 ${run.p99Ms.toFixed(1)} ms, CPU s per 1,000: public hop ${publicCpu!.toFixed(2)}, service hop ${serviceCpu!.toFixed(2)}`);
      bulk.push(run);
      figures.push({ scenario: `CPU per 1,000 1 MiB ${load[0]} via minimal Node proxy, public / service hop`, unit: 's', direct: publicCpu, tunnel: serviceCpu, ratio: false });
    }
    const [responses, uploads] = bulk as [OneMiBRun, OneMiBRun];
    figures.push(
      { scenario: '1 MiB responses / uploads via minimal Node proxy, 2 hops', unit: 'MB/s', direct: responses.megabytesPerSecond, tunnel: uploads.megabytesPerSecond, ratio: false },
      { scenario: '1 MiB responses / uploads p99 via minimal Node proxy, 2 hops', unit: 'ms', direct: responses.p99Ms, tunnel: uploads.p99Ms, ratio: false },
      ...(await memoryRows(ctx, 'minimal Node proxy', hops, atRest)),
    );
    return figures;
  } finally {
    // Stopped by PID now, so they take no CPU from the scenarios after.
    chain.stop();
  }
}

async function multiplexedTunnel(ctx: BenchContext): Promise<Figure[]> {
  const chain = await startMultiplexedHops(ctx.direct.port);
  const hops = [chain.publicPid, chain.servicePid] as const;
  try {
    await sleep(1_000);
    const atRest = hops.map(rssBytes);
    return [...(await multiplexedRounds(ctx, chain)), ...(await memoryRows(ctx, 'multiplexed Node tunnel', hops, atRest))];
  } finally {
    chain.stop();
  }
}

/** A chain's memory at rest and, after as long a quiet as Burrow's own after-load figure waits (Node frees what it can by then), after its load. */
async function memoryRows(ctx: BenchContext, name: string, hops: readonly [number, number], atRest: number[]): Promise<Figure[]> {
  const quietSeconds = afterLoadQuietSeconds(ctx.quick);
  await sleep(quietSeconds * 1000);
  const afterLoad = hops.map(rssBytes);
  const pair = (values: number[]): string => values.map((v) => toMiB(v).toFixed(1)).join(' / ');
  ctx.say(`${name} RSS, public / service hop: at rest ${pair(atRest)} MiB, after its load and ${quietSeconds} s quiet ${pair(afterLoad)} MiB`);
  return [
    { scenario: `RSS of ${name} at rest, public hop / service hop`, unit: 'MiB', direct: toMiB(atRest[0]!), tunnel: toMiB(atRest[1]!), ratio: false },
    { scenario: `RSS of ${name} after its load, ${quietSeconds} s quiet, public / service hop`, unit: 'MiB', direct: toMiB(afterLoad[0]!), tunnel: toMiB(afterLoad[1]!), ratio: false },
  ];
}

/**
 * Small GETs and 1 MiB bodies both ways, in rounds of direct, Burrow and the
 * multiplexed Node tunnel (frp and the minimal proxy have theirs in the
 * scenarios before), each side warmed before each round as there.
 */
async function multiplexedRounds(ctx: BenchContext, multiplexed: TwoHops): Promise<Figure[]> {
  const mux: Target = { label: 'mux', port: multiplexed.port, host: ctx.tunnel.host, grpcAddress: '' };
  const rounds: BenchContext = { ...ctx, frp: undefined, node: undefined, mux };
  const label = 'the multiplexed Node tunnel';
  // --quick only shows the rows exist: a second each.
  const seconds = ctx.quick ? 1 : 5;
  const smallResults = await smallGetRounds(rounds, seconds);
  const figures = [
    medianFigure(`small GET, 50 connections, against ${label}`, 'req/s', smallResults, (r) => r.requestsPerSecond),
    medianFigure(`small GET p99, against ${label}`, 'ms', smallResults, (r) => r.p99Ms),
  ];
  const sidePids: SidePids = { tunnel: [ctx.pids.server, ctx.pids.agent], mux: [multiplexed.publicPid, multiplexed.servicePid] };
  for (const load of oneMiBKinds) {
    const kind = load[0];
    const results = await oneMiBRounds(rounds, load, seconds, sidePids, 3);
    const muxRuns = results.get('mux')!;
    figures.push(
      medianFigure(`1 MiB ${kind}, 8 connections, against ${label}`, 'MB/s', results, (r) => r.megabytesPerSecond),
      medianFigure(`1 MiB ${kind} p99, against ${label}`, 'ms', results, (r) => r.p99Ms),
      {
        scenario: `CPU per 1,000 1 MiB ${kind} via ${label}, public / service hop`,
        unit: 's',
        direct: median(muxRuns.map((r) => r.cpuPer1000[0]!)),
        tunnel: median(muxRuns.map((r) => r.cpuPer1000[1]!)),
        ratio: false,
      },
    );
  }
  return figures;
}
