// `npm run bench [-- --quick] [--only small,proxy,bulk,pipe,stream,slow,websocket,grpc,h2load,cluster] [--load autocannon]`:
// starts a backend, `burrow server` and a `burrow` agent on 127.0.0.1, measures
// each scenario directly and through the tunnel in the same run, prints a
// table and writes bench/results/*.json. Figures only; nothing is asserted.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, Figure } from './context.js';
import { machine, table, writeJson } from './report.js';
import { useAutocannon } from './load.js';
import { removeAtExit, repoRoot, rssBytes, startProcess, stopAll } from './processes.js';
import { oneMiBBodies, slowReaderIsolation, smallRequests, streamedGiB } from './scenarios/http.js';
import { cluster } from './scenarios/cluster.js';
import { grpcCalls } from './scenarios/grpc.js';
import { grpcPipe } from './scenarios/grpc-pipe.js';
import { h2loadGrpc } from './scenarios/h2load.js';
import { minimalProxy } from './scenarios/minimal-proxy.js';
import { websocket } from './scenarios/websocket.js';

const scenarios: Record<string, (ctx: BenchContext) => Promise<Figure[]>> = {
  small: smallRequests,
  proxy: minimalProxy,
  bulk: oneMiBBodies,
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
  process.stdout.write(`usage: npm run bench -- [--quick] [--only ${Object.keys(scenarios).join(',')}] [--load autocannon]\n`);
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
const onlyIndex = args.indexOf('--only');
const selected = onlyIndex >= 0 ? (args[onlyIndex + 1] ?? '').split(',') : Object.keys(scenarios);
const unknown = selected.filter((name) => !(name in scenarios));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown scenario(s) ${unknown.join(', ')}; choose from ${Object.keys(scenarios).join(', ')}\n`);
  process.exit(2);
}
// The slowest full scenario (four 1 GiB transfers) takes well under a minute;
// a hung one must not hold the run, so it is abandoned and the next starts.
const scenarioTimeoutMs = 2 * 60_000;
const say = (line: string): void => void process.stdout.write(`  ${line}\n`);
const burrow = (...rest: string[]): [string, string[]] => [process.execPath, [join(repoRoot, 'bin/burrow.js'), ...rest]];

async function main(): Promise<void> {
  process.stdout.write(`burrow bench${quick ? ' (quick)' : ''} on ${JSON.stringify(machine())}\n`);
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
  say(`backend pid ${backend.pid}, server pid ${server.pid}, agent pid ${agent.pid}; public port ${publicPort}`);
  // At rest: connected, tunnels registered, no traffic yet.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const figures: Figure[] = [{ scenario: 'RSS at rest (server / agent)', unit: 'MB', direct: rssBytes(server.pid) / 1e6, tunnel: rssBytes(agent.pid) / 1e6, ratio: false }];
  say(`at rest: server ${figures[0]!.direct!.toFixed(0)} MB, agent ${figures[0]!.tunnel!.toFixed(0)} MB`);

  const ctx: BenchContext = {
    direct: { label: 'direct', port: ports.http, host: `127.0.0.1:${ports.http}`, grpcAddress: `127.0.0.1:${ports.grpc}` },
    tunnel: { label: 'tunnel', port: publicPort, host: 'bench.localhost', grpcAddress: `127.0.0.1:${publicPort}`, grpcAuthority: 'benchg.localhost' },
    pids: { server: server.pid, agent: agent.pid },
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
  figures.push({ scenario: 'RSS after the run (server / agent)', unit: 'MB', direct: rssBytes(server.pid) / 1e6, tunnel: rssBytes(agent.pid) / 1e6, ratio: false });
  // The machine again above the table, so the table can be quoted with it.
  process.stdout.write(`\n${Object.entries(machine()).map(([key, value]) => `${key}: ${value}`).join('\n')}\n\n${table(figures)}\n\nwrote ${writeJson(figures, quick)}\n`);
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
