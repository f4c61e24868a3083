// Programs on implementations that are neither Node's nor ours (Python's
// grpcio, websockets, aiohttp and httpx; the JDK's HTTP server and clients),
// as a service with burrow processes in front of it and a client: the
// conformance cases run the client directly and through the tunnel.
import { execFile, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import type { TunnelProtocol } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { spawnWithLines } from '../helpers/processes.js';
import { startProcessTunnelPair, type TunnelPair } from './tunnel-pair.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface Command {
  label: string;
  file: string;
  args: string[];
}

/** A program's service (it prints its port, then serves until killed) and its client (it prints each case's outcome as JSON). */
export interface PeerProgram {
  service: Command;
  client(args: string[]): Command;
}

/**
 * Debian's Python when it has `modules` (Debian's python3-* packages install
 * there; a python3 of pyenv's or a venv's earlier on PATH may lack them),
 * else python3 on PATH if it has them. Fails with the packages to install.
 */
function pythonWith(modules: string, debianPackages: string): string {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(python, ['-c', `import ${modules}`], { stdio: 'ignore' });
      return python;
    } catch {
      // not this one
    }
  }
  throw new Error(`no Python with ${modules}: apt-get install -y ${debianPackages} (.ci/run does this)`);
}

/** A Python script run as `script serve` and `script call ARGS`; `modules` as Python's import names them ('aiohttp, httpx'). */
export function pythonProgram(script: string, modules: string, debianPackages: string): PeerProgram {
  const python = pythonWith(modules, debianPackages);
  const path = join(here, script);
  return {
    service: { label: `${script} serve`, file: python, args: [path, 'serve'] },
    client: (args) => ({ label: `${script} call`, file: python, args: [path, 'call', ...args] }),
  };
}

/** JavaPeer.java, run from its source: a Java that can compile it (the JDK's jdk.compiler module) is needed. */
export function javaProgram(): PeerProgram {
  try {
    if (!execFileSync('java', ['--list-modules'], { encoding: 'utf8' }).includes('jdk.compiler')) throw new Error('no jdk.compiler');
  } catch (error) {
    throw new Error(`no Java that runs a source file (${String(error)}): apt-get install -y openjdk-17-jdk-headless (.ci/run does this)`);
  }
  const path = join(here, 'JavaPeer.java');
  return {
    service: { label: 'JavaPeer.java serve', file: 'java', args: [path, 'serve'] },
    // The Host field carries the tunnel's name; the JDK's client sends it only when told it may.
    client: (args) => ({ label: `JavaPeer.java ${args[0]}`, file: 'java', args: ['-Djdk.httpclient.allowRestrictedHeaders=host', path, ...args] }),
  };
}

export interface ForeignPeer {
  pair: TunnelPair;
  /** Runs the client with `args`; resolves with the JSON it prints (each case's outcome by name). */
  clientOutcomes(args: string[]): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function startPeer(program: PeerProgram, protocol: TunnelProtocol, serverFlags: string[]): Promise<ForeignPeer> {
  const { label, file, args } = program.service;
  const service = spawnWithLines(label, file, args, { cwd: here });
  try {
    const port = Number(await service.waitForLine(/^\d+$/, 30_000));
    const pair = await startProcessTunnelPair(port, protocol, serverFlags);
    return {
      pair,
      clientOutcomes: (clientArgs) =>
        new Promise((resolve, reject) => {
          const client = program.client(clientArgs);
          execFile(client.file, client.args, { timeout: 150_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error !== null) reject(new Error(`${client.label}: ${error.message}; stderr: ${stderr.slice(-2000)}`));
            else resolve(JSON.parse(stdout) as Record<string, unknown>);
          });
        }),
      stop: async () => {
        await pair.stop();
        await service.kill();
      },
    };
  } catch (error) {
    await service.kill();
    throw error;
  }
}

/**
 * A peer started before the calling file's tests (`program` is asked for
 * then, so that a missing runtime fails them) and stopped after them;
 * `serverFlags` go to `burrow server`.
 */
export function peerForTheseTests(program: () => PeerProgram, protocol: TunnelProtocol, serverFlags: string[] = []): () => ForeignPeer {
  let peer: ForeignPeer | undefined;
  beforeAll(async () => {
    peer = await startPeer(program(), protocol, serverFlags);
  }, 60_000);
  afterAll(async () => {
    await peer?.stop();
  });
  return () => peer!;
}

/** The cases whose own code failed (an outcome `{ exception }`), by name. */
export function casesThatThrew(outcomes: Record<string, unknown>): string[] {
  return Object.entries(outcomes)
    .filter(([, outcome]) => typeof outcome === 'object' && outcome !== null && 'exception' in outcome)
    .map(([name]) => name);
}

/** Through the tunnel as `expected` (the direct outcomes), case by case, so that a difference names its case. */
export function expectCaseByCase(tunnel: Record<string, unknown>, expected: Record<string, unknown>): void {
  expect(Object.keys(tunnel)).toEqual(Object.keys(expected));
  for (const [name, outcome] of Object.entries(expected)) expect(tunnel[name], name).toEqual(outcome);
}
