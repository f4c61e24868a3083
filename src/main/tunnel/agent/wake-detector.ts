// Notices that the process was suspended (the machine slept) without any OS
// event: a timer meant to fire every interval finds far more wall-clock time
// gone. The headless agent has no power events; this is how it learns. The
// wall clock, not a monotonic one: monotonic clocks stop while suspended.
import { Poller } from './poller.js';

export interface WakeDetectorOptions {
  /** How often to look. */
  intervalMs: number;
  /** Time past the interval that means the process did not run (an event loop merely busy stays well under it). */
  thresholdMs: number;
  /** Wall-clock milliseconds; tests drive it by hand. */
  now?: () => number;
}

export const defaultWakeDetection: WakeDetectorOptions = { intervalMs: 2_000, thresholdMs: 5_000 };

export class WakeDetector extends Poller {
  private last = 0;
  private readonly now: () => number;

  constructor(
    /** Called with how long the process was away, beyond the interval. */
    private readonly onWake: (sleptMs: number) => void,
    private readonly options: WakeDetectorOptions = defaultWakeDetection,
  ) {
    super(options.intervalMs);
    this.now = options.now ?? Date.now;
  }

  protected begin(): void {
    this.last = this.now();
  }

  check(): void {
    const now = this.now();
    const away = now - this.last - this.options.intervalMs;
    this.last = now;
    if (away > this.options.thresholdMs) this.onWake(away);
  }
}
