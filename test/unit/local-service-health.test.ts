// A tunnel's local service health: failures of the last minute by kind
// (refused, timed out, failed), reset by a request that gets through, aged
// out by the clock.
import { describe, expect, it } from 'vitest';
import type { EndedRequest } from '../../src/main/service/ended-requests.js';
import { LocalServiceHealthTracker } from '../../src/main/service/local-service-health.js';

const ok: EndedRequest = { tunnel: 'app', protocol: 'http', status: 200, bytesIn: 0, bytesOut: 0, durationMs: 1 };
const failed = (errorCode: string, errorMessage = 'refused'): EndedRequest => ({ ...ok, status: 502, errorCode, errorMessage });

function tracker(): { health: LocalServiceHealthTracker; advance(ms: number): void } {
  let now = 1_000_000;
  return { health: new LocalServiceHealthTracker(() => now), advance: (ms) => (now += ms) };
}

describe('LocalServiceHealthTracker', () => {
  it('counts refusals and other local failures of the last minute, with the last error; nothing for other failures', () => {
    const { health } = tracker();
    expect(health.of('app')).toBeUndefined();
    const fail = (code: string, message?: string): boolean => health.ended(failed(code, message));
    expect(fail('BURROW_E_LOCAL_UNREACHABLE')).toBe(true);
    expect(fail('BURROW_E_LOCAL_UNREACHABLE')).toBe(true);
    expect(fail('BURROW_E_TIMEOUT', 'no response from the local service in 30000 ms')).toBe(true);
    expect(fail('BURROW_E_LOCAL_FAILED', 'reset by the service')).toBe(true);
    // The client going away or a limit is not the service's doing.
    expect(fail('BURROW_E_CLIENT_GONE')).toBe(false);
    expect(fail('BURROW_E_BODY_TOO_LARGE')).toBe(false);
    expect(health.of('app')).toEqual({
      refusedLastMinute: 2,
      timedOutLastMinute: 1,
      failedLastMinute: 1,
      lastError: { code: 'BURROW_E_LOCAL_FAILED', message: 'reset by the service', at: 1_000_000 },
    });
    expect(health.of('other')).toBeUndefined();
  });

  it('forgets the counts once a request gets through, or once they are a minute old', () => {
    const { health, advance } = tracker();
    health.ended(failed('BURROW_E_LOCAL_UNREACHABLE'));
    expect(health.ended(ok)).toBe(true);
    expect(health.of('app')).toMatchObject({ refusedLastMinute: 0, failedLastMinute: 0, lastError: { code: 'BURROW_E_LOCAL_UNREACHABLE' } });
    health.ended(failed('BURROW_E_LOCAL_UNREACHABLE'));
    advance(30_000);
    expect(health.expire()).toBe(false);
    expect(health.of('app')?.refusedLastMinute).toBe(1);
    advance(31_000);
    expect(health.of('app')?.refusedLastMinute).toBe(0);
    expect(health.expire()).toBe(true);
    expect(health.expire()).toBe(false);
  });
});
