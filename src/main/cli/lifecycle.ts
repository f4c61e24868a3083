// Process plumbing shared by the long-running commands: clean stop on
// signals, one-line errors on stderr.

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
