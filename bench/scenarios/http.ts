// HTTP scenarios: small GETs (requests/s and latency), 1 MiB bodies both
// ways (MB/s), a streamed download and upload of 1 GiB (MB/s and the peak
// memory of server and agent), and a slow reader's effect on small requests.
import { request } from 'node:http';
import { Readable } from 'node:stream';
import type { BenchContext, Figure, Target } from '../context.js';
import { runLoad } from '../load.js';
import { peakRss, rssBytes } from '../processes.js';

const MiB = 1024 * 1024;
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

export async function smallRequests(ctx: BenchContext): Promise<Figure[]> {
  const seconds = ctx.quick ? 2 : 10;
  const results = [];
  for (const target of [ctx.direct, ctx.tunnel]) {
    const result = await runLoad({ port: target.port, host: target.host, path: '/small', connections: 50, seconds });
    ctx.say(`small GET ${target.label}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms (${result.tool})`);
    results.push(result);
  }
  const [direct, tunnel] = results as [(typeof results)[0], (typeof results)[0]];
  return [
    { scenario: 'small GET, 50 connections', unit: 'req/s', direct: direct.requestsPerSecond, tunnel: tunnel.requestsPerSecond, extra: { tool: tunnel.tool, errors: direct.errors + tunnel.errors } },
    { scenario: 'small GET p50', unit: 'ms', direct: direct.p50Ms, tunnel: tunnel.p50Ms },
    { scenario: 'small GET p99', unit: 'ms', direct: direct.p99Ms, tunnel: tunnel.p99Ms },
  ];
}

export async function oneMiBBodies(ctx: BenchContext): Promise<Figure[]> {
  const seconds = ctx.quick ? 2 : 5;
  const figures: Figure[] = [];
  for (const [scenario, path, body] of [
    ['1 MiB responses, 8 connections', '/1mib', undefined],
    ['1 MiB uploads, 8 connections', '/sink', Buffer.alloc(MiB, 'u')],
  ] as const) {
    const figure: Figure = { scenario, unit: 'MB/s' };
    for (const target of [ctx.direct, ctx.tunnel]) {
      const result = await runLoad({ port: target.port, host: target.host, path, connections: 8, seconds, body });
      figure[target.label] = (result.requestsPerSecond * MiB) / 1e6;
      ctx.say(`${scenario} ${target.label}: ${figure[target.label]!.toFixed(0)} MB/s`);
    }
    figures.push(figure);
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
  const baseline = await runLoad({ port: t.port, host: t.host, path: '/small', connections: 50, seconds });
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
  const loaded = await runLoad({ port: t.port, host: t.host, path: '/small', connections: 50, seconds });
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
