// Child processes for tests and the benchmark alike: output collected by
// line and waited on by pattern, stopped by PID, and their resident memory
// as Linux reports it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface LineProcess {
  child: ChildProcess;
  pid: number;
  stdoutLines: string[];
  stderrLines: string[];
  exited: Promise<number | null>;
  /** The first stdout line matching (already printed or to come); rejects if the process exits first, or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Signals the process if it still runs; resolves with its exit code. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnWithLines(label: string, command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): LineProcess {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const collect = (stream: NodeJS.ReadableStream, into: string[], notify: boolean): void => {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      buffer += text;
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        into.push(line);
        if (!notify) continue;
        for (const waiter of [...waiters]) {
          if (!waiter.pattern.test(line)) continue;
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    });
  };
  collect(child.stdout!, stdoutLines, true);
  collect(child.stderr!, stderrLines, false);
  return {
    child,
    pid: child.pid!,
    stdoutLines,
    stderrLines,
    exited,
    waitForLine: (pattern, timeoutMs) => {
      const seen = stdoutLines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = timeoutMs === undefined ? undefined : setTimeout(() => reject(new Error(`${label}: no line matching ${pattern} in ${timeoutMs} ms; stderr: ${stderrLines.join(' | ')}`)), timeoutMs);
        waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
        void exited.then((code) => reject(new Error(`${label} exited (${code}) before printing ${pattern}; stderr: ${stderrLines.join(' | ')}`)));
      });
    },
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Resident memory of a process, in bytes (Linux); NaN once it is gone. */
export function rssBytes(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

/**
 * The process's own share of it (RssAnon: heaps, stacks, buffers), without
 * the file pages it maps: for Node mostly the node binary's, shared with
 * every Node process and given back by the kernel whenever it needs them.
 */
export function privateRssBytes(pid: number): number {
  return statusBytes(pid, 'RssAnon');
}

function statusBytes(pid: number, field: string): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return NaN;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : NaN;
}
