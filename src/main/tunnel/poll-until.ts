// A condition met by many small events on many objects (every connection
// closed, every request ended), where listening to each for a one-off wait
// would cost more than looking now and then.

/** Resolves true once `met()` holds, checked every `everyMs`, or false after `timeoutMs`. */
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
