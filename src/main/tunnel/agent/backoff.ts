// Jittered exponential backoff between reconnect attempts.

export interface BackoffOptions {
  /** Delay before the first retry. */
  initialMs: number;
  /** Each failed attempt multiplies the delay by this. */
  multiplier: number;
  /** The delay never grows past this, so a returning server is found quickly. */
  maxMs: number;
  /** Each delay is randomised by up to this fraction either way, so agents do not reconnect in lockstep. */
  jitter: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 200, multiplier: 1.6, maxMs: 1_500, jitter: 0.2 };

export class Backoff {
  private nextBaseMs: number;

  constructor(private readonly options: BackoffOptions = defaultBackoff) {
    this.nextBaseMs = options.initialMs;
  }

  /** The delay to wait now; grows the next one. */
  next(): number {
    const base = this.nextBaseMs;
    this.nextBaseMs = Math.min(base * this.options.multiplier, this.options.maxMs);
    const spread = base * this.options.jitter;
    // Jitter never takes a delay past the cap: a returning server is found within maxMs.
    return Math.min(this.options.maxMs, Math.max(0, Math.round(base - spread + Math.random() * 2 * spread)));
  }

  reset(): void {
    this.nextBaseMs = this.options.initialMs;
  }
}
