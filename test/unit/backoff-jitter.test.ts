// Backoff with its randomness pinned (Math.random spied): the exact schedule,
// the edges of the jitter range, and reset. backoff.test.ts covers it with
// real randomness.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Backoff, defaultBackoff, type BackoffOptions } from '../../src/main/tunnel/agent/backoff.js';

const pinRandom = (value: number): void => {
  vi.spyOn(Math, 'random').mockReturnValue(value);
};

const take = (backoff: Backoff, n: number): number[] => Array.from({ length: n }, () => backoff.next());

/** The un-jittered delays: initialMs, times multiplier each attempt, never past maxMs. */
const bases = (options: BackoffOptions, n: number): number[] => {
  const out: number[] = [];
  let base = options.initialMs;
  for (let i = 0; i < n; i++) {
    out.push(base);
    base = Math.min(base * options.multiplier, options.maxMs);
  }
  return out;
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Backoff', () => {
  it('with the jitter centred, follows the default schedule up to the 1.5 s cap', () => {
    pinRandom(0.5);
    expect(defaultBackoff.maxMs).toBe(1_500); // the README promises retries at most about 1.5 s apart
    expect(take(new Backoff(), 8)).toEqual([200, 320, 512, 819, 1_311, 1_500, 1_500, 1_500]);
  });

  it('uses the defaults when given no options', () => {
    pinRandom(0.5);
    expect(take(new Backoff(), 6)).toEqual(take(new Backoff(defaultBackoff), 6));
  });

  const optionSets: BackoffOptions[] = [
    defaultBackoff,
    { initialMs: 100, multiplier: 2, maxMs: 10_000, jitter: 0.2 },
    { initialMs: 1, multiplier: 3, maxMs: 50, jitter: 0.5 },
    { initialMs: 1_000, multiplier: 1, maxMs: 1_000, jitter: 0.1 },
    { initialMs: 50, multiplier: 10, maxMs: 60_000, jitter: 0 },
    { initialMs: 300, multiplier: 1.5, maxMs: 2_000, jitter: 1 },
  ];
  const randoms = [0, 1e-9, 0.25, 0.5, 0.75, 1 - 1e-9];

  it.each(optionSets.flatMap((options) => randoms.map((random) => ({ options, random }))))(
    'stays within base ± jitter and never past the cap: $options with random $random',
    ({ options, random }) => {
      pinRandom(random);
      const delays = take(new Backoff(options), 12);
      bases(options, 12).forEach((base, i) => {
        const low = Math.max(0, Math.round(base * (1 - options.jitter)));
        const high = Math.min(options.maxMs, Math.round(base * (1 + options.jitter)));
        expect(Number.isInteger(delays[i])).toBe(true);
        expect(delays[i]).toBeGreaterThanOrEqual(Math.min(low, high));
        expect(delays[i]).toBeLessThanOrEqual(high);
        expect(delays[i]).toBeLessThanOrEqual(options.maxMs);
      });
    },
  );

  it('reaches both ends of the jitter range', () => {
    const options = { initialMs: 1_000, multiplier: 2, maxMs: 100_000, jitter: 0.25 };
    pinRandom(0);
    expect(new Backoff(options).next()).toBe(750);
    pinRandom(1 - 1e-12);
    expect(new Backoff(options).next()).toBe(1_250);
  });

  it('caps the jittered delay at maxMs instead of letting jitter push past it', () => {
    pinRandom(1 - 1e-12);
    const delays = take(new Backoff({ initialMs: 1_000, multiplier: 2, maxMs: 1_000, jitter: 0.5 }), 4);
    expect(delays).toEqual([1_000, 1_000, 1_000, 1_000]);
  });

  it('never waits a negative time, even with jitter above 1', () => {
    pinRandom(0);
    expect(take(new Backoff({ initialMs: 100, multiplier: 2, maxMs: 1_000, jitter: 3 }), 5)).toEqual([0, 0, 0, 0, 0]);
  });

  it('without jitter the delays are exact and do not consult randomness', () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.9);
    expect(take(new Backoff({ initialMs: 10, multiplier: 2, maxMs: 100, jitter: 0 }), 6)).toEqual([10, 20, 40, 80, 100, 100]);
    random.mockReturnValue(0.1);
    expect(take(new Backoff({ initialMs: 10, multiplier: 2, maxMs: 100, jitter: 0 }), 6)).toEqual([10, 20, 40, 80, 100, 100]);
  });

  it('an initial delay above the cap is cut to the cap from the first attempt', () => {
    pinRandom(0.5);
    expect(take(new Backoff({ initialMs: 5_000, multiplier: 2, maxMs: 1_500, jitter: 0.2 }), 3)).toEqual([1_500, 1_500, 1_500]);
  });

  it('reset starts the schedule over from the initial delay, however far it had grown', () => {
    pinRandom(0.5);
    const backoff = new Backoff();
    const first = take(backoff, 10);
    backoff.reset();
    expect(take(backoff, 10)).toEqual(first);
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(defaultBackoff.initialMs);
  });

  it('reset on a fresh backoff changes nothing', () => {
    pinRandom(0.5);
    const backoff = new Backoff();
    backoff.reset();
    expect(take(backoff, 3)).toEqual([200, 320, 512]);
  });

  it('really jitters: the same attempt differs between agents', () => {
    const firsts = new Set(Array.from({ length: 200 }, () => new Backoff().next()));
    expect(firsts.size).toBeGreaterThan(1);
    for (const delay of firsts) {
      expect(delay).toBeGreaterThanOrEqual(160);
      expect(delay).toBeLessThanOrEqual(240);
    }
  });
});
