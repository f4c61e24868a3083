// Requests per second per tunnel: a token bucket per name, refilled by the
// clock on each request (no timers), so an idle tunnel costs nothing.
interface Bucket {
  tokens: number;
  updatedAt: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class TunnelRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** `perSecond` 0 turns limiting off; a burst of `perSecond` is allowed. */
  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(tunnel: string): RateDecision {
    if (this.perSecond <= 0) return { allowed: true };
    const now = this.now();
    let bucket = this.buckets.get(tunnel);
    if (bucket === undefined) this.buckets.set(tunnel, (bucket = { tokens: this.perSecond, updatedAt: now }));
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.perSecond);
    bucket.updatedAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond)) };
  }

  /** Forgets a tunnel that went away. */
  forget(tunnel: string): void {
    this.buckets.delete(tunnel);
  }

  get size(): number {
    return this.buckets.size;
  }
}
