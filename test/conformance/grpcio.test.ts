// gRPC's C core on both ends (grpcio-peer.py): its caller against its
// service directly and through `burrow server` and `burrow grpc`
// processes, at message sizes around every
// window and buffer, streams each way, failures with their messages and
// trailers, metadata, deadlines, a cancel, compression and 300 calls at
// once. The C core's HTTP/2 grows its windows by its own probes, so the
// tunnel's flow control meets a peer unlike Node's.
import { execFile, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnWithLines, type LineProcess } from '../helpers/processes.js';
import { startProcessTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

const here = dirname(fileURLToPath(import.meta.url));
const peer = join(here, 'grpcio-peer.py');

type Outcome = { ok: unknown } | { code: string; details: string; trailers: string[][] } | { exception: string };

/** Debian's Python, where python3-grpcio installs (a python3 of pyenv's or a venv's earlier on PATH may lack it). */
function pythonWithGrpc(): string {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(python, ['-c', 'import grpc'], { stdio: 'ignore' });
      return python;
    } catch {
      // not this one
    }
  }
  throw new Error('no Python with grpcio: apt-get install -y python3-grpcio (.ci/run does this)');
}

let python: string;
let service: LineProcess;
let pair: TunnelPair;

beforeAll(async () => {
  python = pythonWithGrpc();
  service = spawnWithLines('grpcio service', python, [peer, 'serve'], { cwd: here });
  const port = Number(await service.waitForLine(/^\d+$/, 20_000));
  pair = await startProcessTunnelPair(port, 'grpc');
});

afterAll(async () => {
  await pair?.stop();
  await service?.kill();
});

/** Every case's outcome for the C core's caller at `endpoint`. */
function callerOutcomes(endpoint: Endpoint, authority: string): Promise<Record<string, Outcome>> {
  return new Promise((resolve, reject) => {
    execFile(python, [peer, 'call', `127.0.0.1:${endpoint.port}`, authority], { timeout: 150_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`grpcio caller: ${error.message}; stderr: ${stderr.slice(-2000)}`));
      else resolve(JSON.parse(stdout) as Record<string, Outcome>);
    });
  });
}

describe('gRPC between a C-core caller and a C-core service', () => {
  it('comes out the same directly and through the tunnel', async () => {
    const direct = await callerOutcomes(pair.direct, '');
    const tunnel = await callerOutcomes(pair.tunnel, pair.tunnel.authority);

    // What the cases show directly, so that a case broken both ways fails too.
    const echoed = Object.entries(direct).filter(([name]) => /^(unary echo|server stream|bidi stream|gzip)/.test(name));
    expect(echoed.length).toBe(13 + 3 + 3 + 1);
    for (const [name, outcome] of echoed) expect(outcome, name).toEqual({ ok: true });
    expect(direct['unary answer of 4194305 bytes']).toEqual({ ok: 4 * 1024 * 1024 + 1 });
    expect(direct['client stream of 6 x 1048577']).toMatchObject({ ok: expect.stringMatching(/^6,6291462,/) });
    expect(direct['20 x 1 MiB read slowly']).toEqual({ ok: 20 * (1024 * 1024 + 1) });
    expect(direct['a service failing RESOURCE_EXHAUSTED']).toEqual({
      code: 'RESOURCE_EXHAUSTED',
      details: 'détails – ünïcode 100% \n line 2',
      trailers: [
        ['x-why', 'because'],
        ['x-blob-bin', '0001ff'],
      ],
    });
    expect(direct['past the deadline']).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(direct['a cancel reaches the service']).toEqual({ ok: true });
    expect(direct['300 calls of 70,000 bytes at once']).toEqual({ ok: 300 });
    expect(Object.values(direct).filter((outcome) => 'exception' in outcome)).toEqual([]);

    // Case by case, so that a difference names its case.
    expect(Object.keys(tunnel)).toEqual(Object.keys(direct));
    for (const [name, outcome] of Object.entries(direct)) expect(tunnel[name], name).toEqual(outcome);
  }, 320_000);
});
