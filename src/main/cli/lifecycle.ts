// Process plumbing shared by the long-running commands: clean stop on
// signals, one-line errors on stderr.

/**
 * A reader of stdout or stderr that went away (`burrow server | head -1`, a
 * test that read the line it wanted) is no reason to stop serving: Node
 * throws EPIPE on the next line, and the edge died with a stack trace. What
 * would have been printed is dropped.
 */
export function outliveOutputReaders(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
}

/**
 * grpc-js names an agent's TLS server by its address, IP or not, which Node
 * warns of on every start (DEP0123) and then ignores, as RFC 6066 asks: noise
 * to a user, about a library. Other warnings are printed as Node would.
 */
export function quietLibraryWarnings(): void {
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => {
    if (warning.code === 'DEP0123') return;
    for (const print of printers) print(warning);
  });
}

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** What a stop says while it waits for requests under way (nothing when there are none). */
export function drainLine(underWay: number, timeoutMs: number): string | undefined {
  if (underWay === 0) return undefined;
  const requests = underWay === 1 ? '1 request under way gets' : `${underWay} requests under way get`;
  return `stopping: ${requests} up to ${timeoutMs / 1000} s to finish (stop again to cut them now)`;
}

/** What a stop says of the requests it cut, past its wait (nothing when none was). */
export function cutLine(cut: number): string | undefined {
  if (cut === 0) return undefined;
  return `stopped: ${cut === 1 ? '1 request was' : `${cut} requests were`} still under way, and cut`;
}

/**
 * Runs `stop` once on SIGINT/SIGTERM, then exits 0. A second signal while it
 * runs (Ctrl-C again, waiting for requests under way to finish) runs `cut`,
 * when given, then exits; without one, or at a third, it exits at once.
 */
export function stopOnSignals(stop: () => Promise<unknown> | void, cut?: () => Promise<unknown>): void {
  let signals = 0;
  const handler = (): void => {
    signals++;
    if (signals === 1) void Promise.resolve(stop()).finally(() => process.exit(0));
    else if (signals === 2 && cut !== undefined) void cut().finally(() => process.exit(0));
    else process.exit(0);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
