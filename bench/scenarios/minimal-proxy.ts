// What bounds a Node tunnel, measured on the smallest Node reverse proxy
// (node:http alone) in front of the same backend: small requests through one
// hop and two chained (a tunnel is two hops: server, then agent), then 1 MiB
// bodies both ways through the two hops, with each hop's CPU per MiB and its
// memory at rest and after that load. The tunnel's figures are best read
// against these, and frp's beside them.
import { join } from 'node:path';
import type { BenchContext, Figure } from '../context.js';
import { runLoad } from '../load.js';
import { afterLoadQuietSeconds, repoRoot, rssBytes, startProcess, type Started } from '../processes.js';
import { oneMiBKinds, oneMiBLoad, type OneMiBRun } from './http.js';

const toMiB = (bytes: number): number => bytes / 2 ** 20;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function startProxy(targetPort: number): Promise<{ proxy: Started; port: number }> {
  const proxy = startProcess('minimal proxy', process.execPath, [join(repoRoot, 'bench/minimal-proxy.mjs'), String(targetPort)]);
  return { proxy, port: Number(await proxy.line(/^\d+$/)) };
}

/** Two chained hops in front of `targetPort`: the load goes to `port`, the public hop (the tunnel server's place). */
export async function startTwoHops(targetPort: number): Promise<{ port: number; servicePort: number; publicPid: number; servicePid: number; stop(): void }> {
  const serviceHop = await startProxy(targetPort);
  const publicHop = await startProxy(serviceHop.port);
  return {
    port: publicHop.port,
    servicePort: serviceHop.port,
    publicPid: publicHop.proxy.pid,
    servicePid: serviceHop.proxy.pid,
    stop: () => {
      serviceHop.proxy.child.kill();
      publicHop.proxy.child.kill();
    },
  };
}

export async function minimalProxy(ctx: BenchContext): Promise<Figure[]> {
  const seconds = ctx.quick ? 2 : 10;
  // Hops of its own, fresh: memory at rest and after this load alone (those in the other scenarios' rounds have carried theirs).
  const chain = await startTwoHops(ctx.direct.port);
  const hops = [chain.publicPid, chain.servicePid] as const;
  try {
    await sleep(1_000);
    const atRest = hops.map(rssBytes);
    const oneHop = await runLoad({ port: chain.servicePort, host: ctx.direct.host, path: '/small', connections: 50, seconds });
    const twoHops = await runLoad({ port: chain.port, host: ctx.direct.host, path: '/small', connections: 50, seconds });
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
    );
    // As long as Burrow's own after-load figure waits: Node frees what it can by then.
    const quietSeconds = afterLoadQuietSeconds(ctx.quick);
    await sleep(quietSeconds * 1000);
    const afterLoad = hops.map(rssBytes);
    ctx.say(`minimal Node proxy RSS, public / service hop: at rest ${atRest.map(toMiB).map((v) => v.toFixed(1)).join(' / ')} MiB, after this load and ${quietSeconds} s quiet ${afterLoad.map(toMiB).map((v) => v.toFixed(1)).join(' / ')} MiB`);
    figures.push(
      { scenario: 'RSS of minimal Node proxy at rest, public hop / service hop', unit: 'MiB', direct: toMiB(atRest[0]!), tunnel: toMiB(atRest[1]!), ratio: false },
      { scenario: `RSS of minimal Node proxy after its load, ${quietSeconds} s quiet, public / service hop`, unit: 'MiB', direct: toMiB(afterLoad[0]!), tunnel: toMiB(afterLoad[1]!), ratio: false },
    );
    return figures;
  } finally {
    // Stopped by PID now, so they take no CPU from the scenarios after.
    chain.stop();
  }
}
