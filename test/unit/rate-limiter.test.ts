// The per-tunnel token bucket, on a hand-driven clock.
import { describe, expect, it } from 'vitest';
import { TunnelRateLimiter } from '../../src/main/tunnel/server/rate-limiter.js';

describe('TunnelRateLimiter', () => {
  it('allows a burst of the rate, then refills with time, per tunnel', () => {
    let now = 0;
    const limiter = new TunnelRateLimiter(5, () => now);
    const burst = Array.from({ length: 7 }, () => limiter.take('a').allowed);
    expect(burst).toEqual([true, true, true, true, true, false, false]);
    expect(limiter.take('b').allowed).toBe(true);
    const refused = limiter.take('a');
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 400; // two more tokens at 5 per second
    expect([limiter.take('a').allowed, limiter.take('a').allowed, limiter.take('a').allowed]).toEqual([true, true, false]);
    limiter.forget('a');
    expect(limiter.size).toBe(1);
  });

  it('is off at rate 0', () => {
    const limiter = new TunnelRateLimiter(0);
    expect(Array.from({ length: 1_000 }, () => limiter.take('a').allowed).every(Boolean)).toBe(true);
    expect(limiter.size).toBe(0);
  });
});
