// HTTP scenarios: small GETs (requests/s and latency) and 1 MiB bodies both
// ways (MB/s, p99, CPU per side; and one at a time, p50 and p99), beside frp
// and the minimal Node proxy when given, as medians of
// alternating rounds; a streamed download and upload of 1 GiB (MB/s and the
// peak memory of server and agent); a slow reader's effect on small requests.
import { request } from 'node:http';
import { Readable } from 'node:stream';
import type { BenchContext, Figure, Target } from '../context.js';
import { runLoad, type LoadResult } from '../load.js';
import { cpuSeconds, peakRss, rssBytes } from '../processes.js';
import { afterQuiet, alternating, medianFigure } from '../rounds.js';

const MiB = 1024 * 1024;
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

/** Small GETs over 50 connections for `seconds`: the load of every small-GET figure. */
export const smallGets = (target: Pick<Target, 'port' | 'host'>, seconds: number): Promise<LoadResult> => runLoad({ port: target.port, host: target.host, path: '/small', connections: 50, seconds });

/** Rounds of small GETs on every side of `ctx`, each side warmed before each of its rounds. */
export function smallGetRounds(ctx: BenchContext, seconds: number): Promise<Map<Target['label'], LoadResult[]>> {
  return alternating(
    ctx,
    async (target) => {
      const result = await smallGets(target, seconds);
      ctx.say(`small GET ${target.label}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms (${result.tool})`);
      return result;
    },
    // The tunnel's first seconds run code V8 has not compiled yet (a p99 of ~115 ms against ~30 once warm): the rounds compare every side warm.
    (target, first) => smallGets(target, ctx.quick ? 1 : first ? 3 : 2),
  );
}

export async function smallRequests(ctx: BenchContext): Promise<Figure[]> {
  const results = await smallGetRounds(ctx, ctx.quick ? 2 : 10);
  const errors = [...results.values()].flat().reduce((sum, result) => sum + result.errors, 0);
  const figures = [
    medianFigure('small GET, 50 connections', 'req/s', results, (r) => r.requestsPerSecond, { tool: results.get('tunnel')![0]!.tool, errors }),
    medianFigure('small GET p50', 'ms', results, (r) => r.p50Ms),
    medianFigure('small GET p99', 'ms', results, (r) => r.p99Ms),
  ];
  if (ctx.quick) return figures;
  // The price of giving memory back after 30 s of quiet, which the warmed rounds leave out.
  const quietSeconds = 40;
  ctx.say(`small GET after ${quietSeconds} s of quiet: waiting`);
  const cold = await afterQuiet(
    ctx,
    quietSeconds * 1000,
    async (target) => {
      const result = await smallGets(target, 5);
      ctx.say(`small GET after quiet ${target.label}: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99Ms.toFixed(2)} ms`);
      return result;
    },
    (backend) => smallGets(backend, 1),
  );
  figures.push(
    medianFigure(`small GET, first 5 s after ${quietSeconds} s of quiet`, 'req/s', cold, (r) => r.requestsPerSecond),
    medianFigure(`small GET p99, first 5 s after ${quietSeconds} s of quiet`, 'ms', cold, (r) => r.p99Ms),
  );
  return figures;
}

/** The two 1 MiB loads: responses from the backend, and uploads to it. */
export const oneMiBKinds = [
  ['responses', '/1mib', undefined],
  ['uploads', '/sink', Buffer.alloc(MiB, 'u')],
] as const;

export interface OneMiBRun {
  megabytesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU seconds each watched process spent per 1,000 bodies, in the order given. */
  cpuPer1000: number[];
}

/**
 * 1 MiB bodies over `connections` (8 unless told) for `seconds`, and the CPU
 * each of `pids` spent per 1,000 of them: comparable across sides whatever
 * each one's rate.
 */
export async function oneMiBLoad(port: number, host: string, [, path, body]: (typeof oneMiBKinds)[number], seconds: number, pids: readonly (number | undefined)[], connections = 8): Promise<OneMiBRun> {
  const before = pids.map(cpuSeconds);
  const result = await runLoad({ port, host, path, connections, seconds, body });
  const thousands = (result.requestsPerSecond * seconds) / 1000;
  return {
    megabytesPerSecond: (result.requestsPerSecond * MiB) / 1e6,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    cpuPer1000: pids.map((pid, i) => (cpuSeconds(pid) - before[i]!) / thousands),
  };
}

/** The server and agent side of each tunnel the 1 MiB rounds watch the CPU of. */
export type SidePids = Partial<Record<Target['label'], readonly (number | undefined)[]>>;

/**
 * Rounds of 1 MiB bodies over 8 connections on every side of `ctx`, with the
 * CPU of each side's two processes in `sidePids`, each side warmed before
 * each of its rounds.
 */
export function oneMiBRounds(ctx: BenchContext, load: (typeof oneMiBKinds)[number], seconds: number, sidePids: SidePids, rounds: number): Promise<Map<Target['label'], OneMiBRun[]>> {
  return alternating(
    ctx,
    async (target) => {
      const pids = sidePids[target.label];
      const run = await oneMiBLoad(target.port, target.host, load, seconds, pids ?? []);
      const [server, agent] = run.cpuPer1000;
      ctx.say(
        `1 MiB ${load[0]} ${target.label}: ${run.megabytesPerSecond.toFixed(0)} MB/s, p99 ${run.p99Ms.toFixed(1)} ms` +
          (pids ? `, CPU s per 1,000: server side ${server!.toFixed(2)}, agent side ${agent!.toFixed(2)}` : ''),
      );
      return run;
    },
    // Warm, as for small GETs. V8 goes on compiling the body path for ~10 s of
    // 1 MiB bodies (uploads after the bench's earlier loads: 300-323 req/s
    // and a p99 of 56-63 ms in the first two 5 s slices, 388-446 and 38-41 after).
    (target, first) => oneMiBLoad(target.port, target.host, load, ctx.quick ? 1 : first ? 10 : 3, []),
    rounds,
  );
}

export async function oneMiBBodies(ctx: BenchContext): Promise<Figure[]> {
  const seconds = ctx.quick ? 2 : 5;
  const figures: Figure[] = [];
  const sidePids: SidePids = {
    tunnel: [ctx.pids.server, ctx.pids.agent],
    frp: [ctx.pids.frpServer, ctx.pids.frpAgent],
    node: [ctx.pids.nodePublic, ctx.pids.nodeService],
  };
  for (const load of oneMiBKinds) {
    const kind = load[0];
    // Five short rounds: one 5 s round of 1 MiB bodies can differ from the next by a quarter on this VM.
    const results = await oneMiBRounds(ctx, load, seconds, sidePids, 5);
    figures.push(
      medianFigure(`1 MiB ${kind}, 8 connections`, 'MB/s', results, (r) => r.megabytesPerSecond),
      medianFigure(`1 MiB ${kind} p99`, 'ms', results, (r) => r.p99Ms),
    );
    results.delete('direct');
    figures.push(
      { ...medianFigure(`CPU per 1,000 1 MiB ${kind}, server side`, 's', results, (r) => r.cpuPer1000[0]!), ratio: false },
      { ...medianFigure(`CPU per 1,000 1 MiB ${kind}, agent side`, 's', results, (r) => r.cpuPer1000[1]!), ratio: false },
    );
  }
  return figures;
}

/**
 * One 1 MiB body at a time: the latency one user feels, where a hop that
 * holds a whole body chunk before passing it on shows (with 8 connections
 * the cores are busy either way and the rate hides it).
 */
export async function oneMiBOneAtATime(ctx: BenchContext): Promise<Figure[]> {
  const seconds = ctx.quick ? 1 : 4;
  const figures: Figure[] = [];
  for (const load of oneMiBKinds) {
    const kind = load[0];
    const results = await alternating(
      ctx,
      async (target) => {
        const run = await oneMiBLoad(target.port, target.host, load, seconds, [], 1);
        ctx.say(`1 MiB ${kind} one at a time ${target.label}: p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(1)} ms`);
        return run;
      },
      // Warm, as for the other rounds.
      (target, first) => oneMiBLoad(target.port, target.host, load, ctx.quick ? 1 : first ? 2 : 1, [], 1),
    );
    figures.push(
      medianFigure(`1 MiB ${kind}, one connection, p50`, 'ms', results, (r) => r.p50Ms),
      medianFigure(`1 MiB ${kind}, one connection, p99`, 'ms', results, (r) => r.p99Ms),
    );
  }
  return figures;
}

function download(target: Target, bytes: number, onChunk?: (res: import('node:http').IncomingMessage) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: '127.0.0.1', port: target.port, path: `/stream/${bytes}`, headers: { host: target.host } }, (res) => {
      let received = 0;
      res.on('data', (chunk: Buffer) => (received += chunk.length));
      res.on('end', () => (received === bytes ? resolve(performance.now() - started) : reject(new Error(`got ${received} of ${bytes} bytes`))));
      res.on('error', reject);
      // A download cut short (destroyed by the caller) settles too.
      res.on('close', () => reject(new Error(`closed after ${received} of ${bytes} bytes`)));
      onChunk?.(res);
    });
    req.on('error', reject);
    req.end();
  });
}

function upload(target: Target, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const piece = Buffer.alloc(64 * 1024, 'u');
    let left = bytes;
    const body = new Readable({
      read() {
        if (left <= 0) return void this.push(null);
        const next = left >= piece.length ? piece : piece.subarray(0, left);
        left -= next.length;
        this.push(next);
      },
    });
    const req = request(
      { host: '127.0.0.1', port: target.port, method: 'POST', path: '/sink', headers: { host: target.host, 'content-length': bytes } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk));
        res.on('end', () => (Number(text) === bytes ? resolve(performance.now() - started) : reject(new Error(`backend saw ${text} of ${bytes} bytes`))));
      },
    );
    req.on('error', reject);
    body.pipe(req);
  });
}

export async function streamedGiB(ctx: BenchContext): Promise<Figure[]> {
  const bytes = ctx.quick ? 64 * MiB : 1024 * MiB;
  const label = ctx.quick ? '64 MiB' : '1 GiB';
  const pids = { server: ctx.pids.server, agent: ctx.pids.agent };
  // Growth beside the peak: earlier scenarios leave memory the allocator
  // keeps, which says nothing about what streaming costs.
  const before = { server: rssBytes(pids.server), agent: rssBytes(pids.agent) };
  const peak = { server: 0, agent: 0 };
  const figures: Figure[] = [];
  for (const [kind, run] of [
    ['download', download],
    ['upload', upload],
  ] as const) {
    const figure: Figure = { scenario: `${label} streamed ${kind}`, unit: 'MB/s', extra: {} };
    for (const target of [ctx.direct, ctx.tunnel]) {
      const { result: ms, peak: runPeak } = await peakRss(pids, () => run(target, bytes));
      figure[target.label] = mbps(bytes, ms);
      if (target.label === 'tunnel') {
        figure.extra!.serverPeakRssMB = runPeak.server! / 1e6;
        figure.extra!.agentPeakRssMB = runPeak.agent! / 1e6;
        peak.server = Math.max(peak.server, runPeak.server!);
        peak.agent = Math.max(peak.agent, runPeak.agent!);
      }
      ctx.say(`${figure.scenario} ${target.label}: ${figure[target.label]!.toFixed(0)} MB/s`);
    }
    figures.push(figure);
  }
  ctx.say(`RSS before streaming: server ${(before.server / 1e6).toFixed(0)} MB, agent ${(before.agent / 1e6).toFixed(0)} MB`);
  figures.push(
    { scenario: `peak RSS streaming ${label} (server / agent)`, unit: 'MB', ratio: false, direct: peak.server / 1e6, tunnel: peak.agent / 1e6 },
    {
      scenario: `RSS growth streaming ${label} (server / agent)`,
      unit: 'MB',
      ratio: false,
      direct: Math.max(0, peak.server - before.server) / 1e6,
      tunnel: Math.max(0, peak.agent - before.agent) / 1e6,
      extra: { serverBeforeMB: before.server / 1e6, agentBeforeMB: before.agent / 1e6 },
    },
  );
  return figures;
}

/** Small-request p99 through the tunnel alone, then with a slow 1 GiB download in flight. */
export async function slowReaderIsolation(ctx: BenchContext): Promise<Figure[]> {
  const seconds = ctx.quick ? 2 : 5;
  const t = ctx.tunnel;
  const baseline = await smallGets(t, seconds);
  // Reads about 1 MB/s: 64 KiB every 64 ms, paused in between, so the tunnel
  // has a 1 GiB response it cannot deliver faster than that.
  let slowRes: import('node:http').IncomingMessage | undefined;
  let slowRead = 0;
  let slowEnded: Error | undefined;
  const slow = download(t, 1024 * MiB, (res) => {
    slowRes = res;
    res.pause();
    res.on('data', (chunk: Buffer) => (slowRead += chunk.length));
    const timer = setInterval(() => res.read(64 * 1024), 64);
    res.once('close', () => clearInterval(timer));
  }).catch((error: Error) => void (slowEnded = error));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const loaded = await smallGets(t, seconds);
  // Otherwise the second figure would just be another baseline.
  const stillSlow = slowEnded === undefined && slowRes !== undefined && slowRead > 0;
  slowRes?.destroy();
  await slow;
  if (!stillSlow) throw new Error(`the slow download was not in flight throughout (read ${slowRead} bytes${slowEnded ? `; ${slowEnded.message}` : ''})`);
  ctx.say(
    `slow reader: small GET p99 ${baseline.p99Ms.toFixed(2)} ms alone, ${loaded.p99Ms.toFixed(2)} ms beside a slow 1 GiB download (it read ${(slowRead / 1e6).toFixed(1)} MB meanwhile)`,
  );
  return [
    { scenario: 'small GET p99 alone / beside a slow reader (tunnel)', unit: 'ms', direct: baseline.p99Ms, tunnel: loaded.p99Ms, extra: { slowReaderReadBytes: slowRead } },
    { scenario: 'small GET req/s alone / beside a slow reader (tunnel)', unit: 'req/s', direct: baseline.requestsPerSecond, tunnel: loaded.requestsPerSecond },
  ];
}
