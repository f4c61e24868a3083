// Runs an async job for the latest of many requests for it: one at a time,
// the next once the running one has ended (and a pause has passed), however
// many were asked for meanwhile. An open gRPC stream asked main to decode
// all its messages again for every new one: at 33 messages a second the
// requests piled up and the whole window ran at 8 frames a second.
export interface LatestOnly {
  /** Asks for a run: now, or once the running one (and the pause after it) is over. */
  request(): void;
  /** No more runs; one under way finishes unheeded. */
  stop(): void;
}

export function latestOnly(run: () => Promise<unknown>, pauseMs: number): LatestOnly {
  let running = false;
  let wanted = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const start = (): void => {
    if (stopped || running || timer !== undefined || !wanted) return;
    wanted = false;
    running = true;
    void run()
      .catch(() => undefined)
      .finally(() => {
        running = false;
        if (stopped || !wanted) return;
        timer = setTimeout(() => {
          timer = undefined;
          start();
        }, pauseMs);
      });
  };
  return {
    request: () => {
      wanted = true;
      start();
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
