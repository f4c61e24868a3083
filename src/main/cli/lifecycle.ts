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

/** Runs `stop` once on SIGINT/SIGTERM, then exits 0. */
export function stopOnSignals(stop: () => Promise<void> | void): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) return;
    stopping = true;
    Promise.resolve(stop()).finally(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
