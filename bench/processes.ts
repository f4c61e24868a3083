// Child processes of a benchmark run: started with their output watched,
// sampled for memory, and always stopped by PID, also on error or Ctrl-C.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateRssBytes, rssBytes, spawnWithLines } from '../test/helpers/processes.js';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const children = new Set<ChildProcess>();
const tempPaths = new Set<string>();

/** Stops this child with the rest (by its PID), whoever spawned it: wrk too. */
export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Removed when the run ends, however it ends. */
export function removeAtExit(path: string): void {
  tempPaths.add(path);
}

export interface Started {
  child: ChildProcess;
  pid: number;
  /** The first stdout line matching, within the timeout. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function startProcess(label: string, command: string, args: string[]): Started {
  const started = spawnWithLines(label, command, args, { cwd: repoRoot });
  track(started.child);
  return { child: started.child, pid: started.pid, line: (pattern, timeoutMs = 20_000) => started.waitForLine(pattern, timeoutMs) };
}

export function stopAll(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const path of tempPaths) rmSync(path, { recursive: true, force: true });
  tempPaths.clear();
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopAll();
    process.exit(130);
  });
}
process.once('exit', stopAll);

export { privateRssBytes, rssBytes };

/**
 * How long the after-load memory figures wait (Burrow's and the minimal
 * proxy's alike): the command collects its young generation in the first
 * quiet 5 s sample and everything at the sixth (src/main/cli/idle-memory.ts),
 * trimming a second later. The sample the load ends in is not quiet, nor,
 * often, the one V8's own memory reducer runs in ~20 s later, so the full
 * collection comes 35-45 s after the load: 50 s sees it. --quick only checks
 * the figure is there.
 */
export function afterLoadQuietSeconds(quick: boolean): number {
  return quick ? 2 : 50;
}

/** CPU time a process has used, in seconds (Linux: utime + stime); NaN elsewhere. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    // Fields after the command name, which may hold spaces: state is [0], utime [11], stime [12].
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return NaN;
  }
}
const ticksPerSecond = 100;

/** Samples the peak RSS of some processes every 100 ms while `work` runs. */
export async function peakRss<T>(pids: Record<string, number>, work: () => Promise<T>): Promise<{ result: T; peak: Record<string, number> }> {
  const peak: Record<string, number> = Object.fromEntries(Object.keys(pids).map((name) => [name, 0]));
  const sample = (): void => {
    for (const [name, pid] of Object.entries(pids)) peak[name] = Math.max(peak[name]!, rssBytes(pid));
  };
  sample();
  const timer = setInterval(sample, 100);
  try {
    return { result: await work(), peak };
  } finally {
    clearInterval(timer);
    sample();
  }
}

/**
 * How bin/burrow.js will run: the bundle when it is newer than every source
 * (as bin/burrow.js decides), else tsx. Worth recording: tsx costs ~35 MB of
 * RSS per process and a slower start, so figures differ between the two.
 */
export function burrowMode(): 'bundle' | 'tsx' {
  const bundle = join(repoRoot, 'out/cli/burrow.mjs');
  if (!existsSync(bundle)) return 'tsx';
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
      const path = join(dir, entry.name);
      return Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }, 0);
  const sources = ['src/main', 'src/shared'].map((dir) => join(repoRoot, dir)).filter(existsSync);
  return statSync(bundle).mtimeMs >= Math.max(...sources.map(newest)) ? 'bundle' : 'tsx';
}
