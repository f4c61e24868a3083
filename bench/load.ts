// Load generators: wrk from the OS when present (the figures the README
// compares use it), a closed-loop Node client otherwise. Both report
// requests/s, latency percentiles and errors in the same shape.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeAtExit, track } from './processes.js';

export interface LoadResult {
  tool: 'wrk' | 'node';
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface LoadSpec {
  port: number;
  /** Host header: NAME.localhost through the tunnel, 127.0.0.1 direct. */
  host: string;
  path: string;
  connections: number;
  seconds: number;
  /** A POST body, for uploads. */
  body?: Buffer;
}

const foundWrk = ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((path) => existsSync(path));
let wrkPath = foundWrk;

/** `--load node` forces the Node generator, to try it or compare with wrk. */
export function useNodeLoad(): void {
  wrkPath = undefined;
}

/** Which generator runs, for the printout and the JSON. */
export function loadGenerator(): string {
  return wrkPath !== undefined ? `wrk (${wrkPath})` : foundWrk === undefined ? 'node (wrk not found)' : 'node (--load node)';
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return wrkPath === undefined ? nodeLoad(spec) : wrk(wrkPath, spec);
}

let scriptDir: string | undefined;

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

async function wrk(binary: string, spec: LoadSpec): Promise<LoadResult> {
  const args = ['-t1', `-c${spec.connections}`, `-d${spec.seconds}s`, '--latency', '-H', `Host: ${spec.host}`];
  if (spec.body !== undefined) {
    // wrk posts a body only from a script; the body is written once per run.
    if (scriptDir === undefined) removeAtExit((scriptDir = mkdtempSync(join(tmpdir(), 'burrow-bench-wrk-'))));
    const script = join(scriptDir, `post-${spec.body.length}.lua`);
    writeFileSync(script, `wrk.method = "POST"\nwrk.body = string.rep("u", ${spec.body.length})\n`);
    args.push('-s', script);
  }
  args.push(`http://127.0.0.1:${spec.port}${spec.path}`);
  const output = await new Promise<string>((resolve, reject) => {
    // Bounded, and tracked so Ctrl-C or a failed run stops it by PID too.
    const child = execFile(binary, args, { timeout: (spec.seconds + 30) * 1000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    track(child);
  });
  const number = (pattern: RegExp): number => Number(pattern.exec(output)?.[1] ?? NaN);
  const percentile = (p: string): number => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
    return match ? toMs(match[1]!, match[2]!) : NaN;
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors = (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0) + (number(/Non-2xx or 3xx responses: (\d+)/) || 0);
  return { tool: 'wrk', requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/), p50Ms: percentile('50'), p99Ms: percentile('99'), errors };
}

/** Closed loop: each connection sends its next request when the last answer ends. */
async function nodeLoad(spec: LoadSpec): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + spec.seconds * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = request(
        { host: '127.0.0.1', port: spec.port, path: spec.path, method: spec.body ? 'POST' : 'GET', headers: { host: spec.host }, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            if ((res.statusCode ?? 0) >= 400) errors++;
            latencies.push(performance.now() - started);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(spec.body);
    });
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      while (performance.now() < deadline) await one();
    }),
  );
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { tool: 'node', requestsPerSecond: latencies.length / spec.seconds, p50Ms: at(0.5), p99Ms: at(0.99), errors };
}
