// Load generators: wrk from the OS when present (the figures the README
// compares use it), autocannon otherwise. Both report requests/s, latency
// percentiles and errors in the same shape.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { removeAtExit, track } from './processes.js';

export interface LoadResult {
  tool: 'wrk' | 'autocannon';
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

/** `--load autocannon` forces autocannon, to try it or compare with wrk. */
export function useAutocannon(): void {
  wrkPath = undefined;
}

/** Which generator runs, for the printout and the JSON. */
export function loadGenerator(): string {
  return wrkPath !== undefined ? `wrk (${wrkPath})` : foundWrk === undefined ? 'autocannon (wrk not found)' : 'autocannon (--load autocannon)';
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return wrkPath === undefined ? autocannonLoad(spec) : wrk(wrkPath, spec);
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

/**
 * autocannon, in this process: each connection sends its next request when
 * the last answer ends. Its latencies are whole milliseconds.
 */
async function autocannonLoad(spec: LoadSpec): Promise<LoadResult> {
  const result = await autocannon({
    url: `http://127.0.0.1:${spec.port}${spec.path}`,
    connections: spec.connections,
    duration: spec.seconds,
    headers: { host: spec.host },
    ...(spec.body !== undefined && { method: 'POST' as const, body: spec.body }),
  });
  return {
    tool: 'autocannon',
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}
