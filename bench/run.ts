// `npm run bench [-- --quick] [--only small,proxy,bulk,single,...] [--load autocannon] [--frp DIR]`:
// starts a backend, `burrow server` and a `burrow` agent on 127.0.0.1 (and
// frps and frpc from DIR, and the minimal Node proxy's two hops for small
// GETs and 1 MiB bodies), measures each scenario directly and through the
// tunnel (and frp, and the Node proxy) in the same run, prints a table and
// writes bench/results/*.json. Figures only; nothing is asserted.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, Figure } from './context.js';
import { frpProblem, startFrp } from './frp.js';
import { machine, table, writeJson } from './report.js';
import { useAutocannon } from './load.js';
import { afterLoadQuietSeconds, burrowMode, privateRssBytes, removeAtExit, repoRoot, rssBytes, startProcess, stopAll } from './processes.js';
import { oneMiBBodies, oneMiBOneAtATime, slowReaderIsolation, smallRequests, streamedGiB } from './scenarios/http.js';
import { cluster } from './scenarios/cluster.js';
import { grpcCalls } from './scenarios/grpc.js';
import { grpcPipe } from './scenarios/grpc-pipe.js';
import { h2loadGrpc } from './scenarios/h2load.js';
import { minimalProxy, startTwoHops } from './scenarios/minimal-proxy.js';
import { websocket } from './scenarios/websocket.js';

const scenarios: Record<string, (ctx: BenchContext) => Promise<Figure[]>> = {
  small: smallRequests,
  proxy: minimalProxy,
  bulk: oneMiBBodies,
  single: oneMiBOneAtATime,
  pipe: grpcPipe,
  stream: streamedGiB,
  slow: slowReaderIsolation,
  websocket,
  grpc: grpcCalls,
  h2load: h2loadGrpc,
  cluster,
};

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`usage: npm run bench -- [--quick] [--only ${Object.keys(scenarios).join(',')}] [--load autocannon] [--frp DIR]\n`);
  process.exit(0);
}
const quick = args.includes('--quick');
const loadIndex = args.indexOf('--load');
if (loadIndex >= 0) {
  if (args[loadIndex + 1] !== 'autocannon') {
    process.stderr.write('bench: --load takes only "autocannon" (wrk is used when installed)\n');
    process.exit(2);
  }
  useAutocannon();
}
// frp's rows are optional: without --frp, or with a DIR lacking frps/frpc, the run says so and goes on.
const frpIndex = args.indexOf('--frp');
const frpDir = frpIndex >= 0 ? args[frpIndex + 1] : undefined;
if (frpIndex >= 0 && (frpDir === undefined || frpDir.startsWith('--'))) {
  process.stderr.write('bench: --frp takes the directory holding frps and frpc\n');
  process.exit(2);
}
const onlyIndex = args.indexOf('--only');
const selected = onlyIndex >= 0 ? (args[onlyIndex + 1] ?? '').split(',') : Object.keys(scenarios);
const unknown = selected.filter((name) => !(name in scenarios));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown scenario(s) ${unknown.join(', ')}; choose from ${Object.keys(scenarios).join(', ')}\n`);
  process.exit(2);
}
// The longest full scenario (1 MiB bodies: 376 s of load in its rounds and
// warm-ups with frp and the Node proxy, then each load's start) fits well
// within the limit; a hung one must not hold the run, so it is abandoned and
// the next starts.
const scenarioTimeoutMs = 10 * 60_000;
const settledAfterMs = 20_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const say = (line: string): void => void process.stdout.write(`  ${line}\n`);
const burrow = (...rest: string[]): [string, string[]] => [process.execPath, [join(repoRoot, 'bin/burrow.js'), ...rest]];

async function main(): Promise<void> {
  // A source edited since the last build would make bin/burrow.js run under
  // tsx (~35 MB more per process, slower start): a run's figures are of the
  // bundle, so it is rebuilt first.
  if (burrowMode() === 'tsx') {
    say('the command bundle is missing or older than src: building it (node scripts/build-cli.mjs)');
    execFileSync(process.execPath, [join(repoRoot, 'scripts/build-cli.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  }
  // Once, before anything runs: editing a source mid-run must not relabel what ran.
  const ranOn = machine();
  process.stdout.write(`burrow bench${quick ? ' (quick)' : ''} on ${JSON.stringify(ranOn)}\n`);
  // Started first, so it has settled by the time Burrow has (see below).
  const floor = startProcess('library floor', process.execPath, [join(repoRoot, 'bench/library-floor.mjs')]);
  const backend = startProcess('backend', process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/backend.ts')]);
  const ports = JSON.parse(await backend.line(/^\{/)) as { http: number; grpc: number };
  const server = startProcess('burrow server', ...burrow('server', '--control', '127.0.0.1:0', '--public', '127.0.0.1:0', '--token', 'bench-token'));
  const control = /connect to (\S+)/.exec(await server.line(/agents connect to/))![1]!;
  const publicPort = Number(/:(\d+)\s*$/.exec(await server.line(/public traffic on/))![1]);
  const configDir = mkdtempSync(join(tmpdir(), 'burrow-bench-'));
  removeAtExit(configDir);
  const config = join(configDir, 'burrow.yaml');
  writeFileSync(config, `server: ${control}\ntoken: bench-token\ntunnels:\n  - { name: bench, protocol: http, target: ${ports.http} }\n  - { name: benchg, protocol: grpc, target: ${ports.grpc} }\n`);
  const agent = startProcess('burrow agent', ...burrow('start', '--config', config, '--no-inspect'));
  await Promise.all([agent.line(/^tunnel bench: /), agent.line(/^tunnel benchg: /)]);
  const upAt = performance.now();
  say(`backend pid ${backend.pid}, server pid ${server.pid}, agent pid ${agent.pid}; public port ${publicPort}`);
  const problem = frpDir === undefined ? 'no --frp DIR given' : frpProblem(frpDir);
  const frp = problem === undefined ? await startFrp(frpDir!, ports.http, 'bench.localhost') : undefined;
  say(frp ? `frps pid ${frp.serverPid}, frpc pid ${frp.agentPid}; frp public port ${frp.publicPort}` : `frp rows skipped: ${problem}`);
  // The minimal Node proxy's two hops join the rounds of small GETs and 1 MiB bodies: Burrow against the floor of a Node tunnel, round by round.
  const nodeHops = ['small', 'bulk', 'single'].some((name) => selected.includes(name)) ? await startTwoHops(ports.http) : undefined;
  if (nodeHops) say(`minimal Node proxy, two hops: pids ${nodeHops.publicPid} (public) and ${nodeHops.servicePid} (service); port ${nodeHops.port}`);
  const pids = {
    server: server.pid,
    agent: agent.pid,
    ...(frp && { frpServer: frp.serverPid, frpAgent: frp.agentPid }),
    ...(nodeHops && { nodePublic: nodeHops.publicPid, nodeService: nodeHops.servicePid }),
  };
  // Each side's server and agent, Burrow against frp: MiB, as the goals are put.
  const sides = (['server', 'agent'] as const).map((side) => ({ side, burrow: pids[side], frp: side === 'server' ? pids.frpServer : pids.frpAgent }));
  const rssRows = (when: string, rss: (pid: number) => number = rssBytes): Figure[] =>
    sides.map(({ side, burrow, frp }) => ({ scenario: `RSS ${when}, ${side} side`, unit: 'MiB', tunnel: rss(burrow) / 2 ** 20, ...(frp && { frp: rss(frp) / 2 ** 20 }), ratio: false }));
  const peaks = new Map<number, number>();
  const samplePeaks = setInterval(() => {
    for (const pid of Object.values(pids)) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, rssBytes(pid) || 0));
  }, 250);
  // At rest: connected, tunnels registered, no traffic yet.
  await sleep(1_000);
  const figures: Figure[] = rssRows('at rest');
  const sayRss = (rows: Figure[]): void =>
    say(`${rows.map((f) => `${f.scenario.replace('RSS ', '')} ${f.tunnel!.toFixed(1)} MiB${f.frp ? ` (frp ${f.frp.toFixed(1)})` : ''}`).join(', ')}`);
  sayRss(figures);
  // Settled: V8 gives back what start-up grew (a young generation grown to
  // 16 MB, start-up garbage) in a memory-reducing collection about 16 s after
  // start, now and then later (a server still at 74 MiB 20 s after in one
  // run): each process's lowest figure from 20 to 40 s after the tunnel is
  // up. Beside it, the floor: Node with only the libraries the command loads.
  await floor.line(/^ready$/);
  const watched = [...sides.flatMap(({ burrow, frp }) => (frp === undefined ? [burrow] : [burrow, frp])), floor.pid];
  const lowestRss = new Map<number, number>();
  const lowestPrivate = new Map<number, number>();
  const settledUntilMs = quick ? settledAfterMs : settledAfterMs + 20_000;
  await sleep(Math.max(0, settledAfterMs - (performance.now() - upAt)));
  for (;;) {
    for (const pid of watched) {
      lowestRss.set(pid, Math.min(lowestRss.get(pid) ?? Infinity, rssBytes(pid)));
      lowestPrivate.set(pid, Math.min(lowestPrivate.get(pid) ?? Infinity, privateRssBytes(pid)));
    }
    if (performance.now() - upAt >= settledUntilMs) break;
    await sleep(1_000);
  }
  const window = settledUntilMs > settledAfterMs ? `lowest ${settledAfterMs / 1000}-${settledUntilMs / 1000} s` : `${settledAfterMs / 1000} s`;
  const settled = rssRows(`at rest, settled (${window} after the tunnel is up)`, (pid) => lowestRss.get(pid) ?? NaN);
  // What of it is each process's own (RssAnon): the rest is file pages, for Node mostly the node binary's, shared by every Node process.
  const settledPrivate = rssRows('at rest, settled, private (RssAnon)', (pid) => lowestPrivate.get(pid) ?? NaN);
  sayRss([...settled, ...settledPrivate]);
  const floorRss = lowestRss.get(floor.pid)! / 2 ** 20;
  const floorPrivate = lowestPrivate.get(floor.pid)! / 2 ** 20;
  floor.child.kill();
  say(`a Node process with only commander, grpc-js, ws, pino, pino-pretty and protobuf's wire format loaded: ${floorRss.toFixed(1)} MiB, private ${floorPrivate.toFixed(1)}`);
  figures.push(
    ...settled,
    ...settledPrivate,
    { scenario: 'RSS at rest, Node with only the libraries Burrow loads at start: the floor', unit: 'MiB', tunnel: floorRss, ratio: false },
    { scenario: 'RSS at rest, private (RssAnon), the floor', unit: 'MiB', tunnel: floorPrivate, ratio: false },
  );

  const ctx: BenchContext = {
    direct: { label: 'direct', port: ports.http, host: `127.0.0.1:${ports.http}`, grpcAddress: `127.0.0.1:${ports.grpc}` },
    tunnel: { label: 'tunnel', port: publicPort, host: 'bench.localhost', grpcAddress: `127.0.0.1:${publicPort}`, grpcAuthority: 'benchg.localhost' },
    ...(frp && { frp: { label: 'frp' as const, port: frp.publicPort, host: 'bench.localhost', grpcAddress: '' } }),
    ...(nodeHops && { node: { label: 'node' as const, port: nodeHops.port, host: 'bench.localhost', grpcAddress: '' } }),
    pids,
    quick,
    say,
  };
  for (const name of selected) {
    process.stdout.write(`${name}\n`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${name} took over ${scenarioTimeoutMs / 60_000} minutes`)), scenarioTimeoutMs)));
    try {
      figures.push(...(await Promise.race([scenarios[name]!(ctx), timeout])));
    } catch (error) {
      say(`${name} failed: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
  clearInterval(samplePeaks);
  nodeHops?.stop();
  figures.push(...rssRows('peak during the run', (pid) => peaks.get(pid) ?? NaN), ...rssRows('right after the run'));
  const quietSeconds = afterLoadQuietSeconds(quick);
  say(`waiting ${quietSeconds} s of quiet for the after-load memory figure`);
  await sleep(quietSeconds * 1000);
  figures.push(...rssRows(`after the run, ${quietSeconds} s quiet`), ...rssRows(`after the run, ${quietSeconds} s quiet, private (RssAnon)`, privateRssBytes));
  // The machine again above the table, so the table can be quoted with it.
  process.stdout.write(`\n${Object.entries(ranOn).map(([key, value]) => `${key}: ${value}`).join('\n')}\n\n${table(figures)}\n\nwrote ${writeJson(figures, quick, ranOn)}\n`);
}

main()
  .catch((error: Error) => {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    stopAll();
    // Clients of finished scenarios may hold sockets; the run is over.
    setTimeout(() => process.exit(), 200).unref();
  });
