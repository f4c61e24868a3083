// Reconnect backoff: jittered, growing, and never past its cap, which is
// what bounds how soon an agent finds a server that came back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff, defaultBackoff } from '../../src/main/tunnel/agent/backoff.js';

describe('Backoff', () => {
  it('never waits longer than the cap (1.5 s by default), however many attempts fail', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), (attempts) => {
        const backoff = new Backoff();
        for (let i = 0; i < attempts; i++) {
          const delay = backoff.next();
          if (delay < 0 || delay > defaultBackoff.maxMs) return false;
        }
        return true;
      }),
    );
  });

  it('starts near the initial delay, grows, and starts over after a reset', () => {
    const options = { initialMs: 100, multiplier: 2, maxMs: 10_000, jitter: 0.2 };
    const backoff = new Backoff(options);
    const first = backoff.next();
    expect(first).toBeGreaterThanOrEqual(80);
    expect(first).toBeLessThanOrEqual(120);
    backoff.next();
    const third = backoff.next(); // base 400
    expect(third).toBeGreaterThanOrEqual(320);
    expect(third).toBeLessThanOrEqual(480);
    backoff.reset();
    expect(backoff.next()).toBeLessThanOrEqual(120);
  });
});
