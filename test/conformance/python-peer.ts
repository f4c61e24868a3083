// A Python program that is both a service and its client (grpcio-peer.py,
// websockets-peer.py, aiohttp-peer.py), with burrow processes in front of
// its service: the conformance cases run its client directly and through
// the tunnel.
import { execFile, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import type { TunnelProtocol } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { spawnWithLines } from '../helpers/processes.js';
import { startProcessTunnelPair, type TunnelPair } from './tunnel-pair.js';

const here = dirname(fileURLToPath(import.meta.url));

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

export interface PythonPeer {
  pair: TunnelPair;
  /** Runs its client with `args` after `call`; resolves with the JSON it prints (each case's outcome by name). */
  clientOutcomes(args: string[]): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function startPythonPeer(script: string, modules: string, debianPackages: string, protocol: TunnelProtocol): Promise<PythonPeer> {
  const python = pythonWith(modules, debianPackages);
  const path = join(here, script);
  const service = spawnWithLines(`${script} serve`, python, [path, 'serve'], { cwd: here });
  try {
    const port = Number(await service.waitForLine(/^\d+$/, 20_000));
    const pair = await startProcessTunnelPair(port, protocol);
    return {
      pair,
      clientOutcomes: (args) =>
        new Promise((resolve, reject) => {
          execFile(python, [path, 'call', ...args], { timeout: 150_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error !== null) reject(new Error(`${script} call: ${error.message}; stderr: ${stderr.slice(-2000)}`));
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

/** A peer started before the calling file's tests and stopped after them; `modules` as Python's import names them ('aiohttp, httpx'). */
export function pythonPeerForTheseTests(script: string, modules: string, debianPackages: string, protocol: TunnelProtocol): () => PythonPeer {
  let peer: PythonPeer | undefined;
  beforeAll(async () => {
    peer = await startPythonPeer(script, modules, debianPackages, protocol);
  });
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
