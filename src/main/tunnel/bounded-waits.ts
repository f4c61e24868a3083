// Waits with a bound, for stopping: what is under way gets so long to end,
// and no longer.

/**
 * Resolves true once `met()` holds, checked every `everyMs`, or false after
 * `timeoutMs`: for a condition met by many small events on many objects
 * (every connection closed, every request ended), where listening to each
 * for a one-off wait would cost more than looking now and then.
 */
export function pollUntil(met: () => boolean, timeoutMs: number, everyMs = 25): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = (): void => {
      if (met()) resolve(true);
      else if (performance.now() >= deadline) resolve(false);
      else setTimeout(check, Math.min(everyMs, Math.max(1, deadline - performance.now())));
    };
    check();
  });
}

/** Resolves once `settled` has, or after `timeoutMs`, whichever is first; its timer does not outlast it. */
export async function settledWithin(settled: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}
