// Wake handling's pure parts: what the agent decides for each state and
// signal, a suspend noticed by timer drift on a hand-driven clock, a network
// change noticed by interface addresses, and heartbeat probes answered or not.
import { describe, expect, it, vi } from 'vitest';
import type { Heartbeat } from '../../src/main/gen/burrow/v1/tunnel.js';
import { AgentState } from '../../src/main/tunnel/agent/agent-state.js';
import { NetworkWatcher } from '../../src/main/tunnel/agent/network-watcher.js';
import { WakeDetector } from '../../src/main/tunnel/agent/wake-detector.js';
import { decideOnWake, type WakeDecision, type WakeSignal } from '../../src/main/tunnel/agent/wake-policy.js';
import { Heartbeats } from '../../src/main/tunnel/heartbeats.js';

describe('decideOnWake', () => {
  const timeout = 15_000;
  it.each<[AgentState, WakeSignal, number, WakeDecision]>([
    [AgentState.Idle, 'resume', 60_000, 'ignore'],
    [AgentState.Closed, 'network-change', 0, 'ignore'],
    [AgentState.Connecting, 'resume', 60_000, 'ignore'],
    [AgentState.Backoff, 'network-change', 0, 'retry-now'],
    [AgentState.Backoff, 'resume', 60_000, 'retry-now'],
    [AgentState.Ready, 'resume', 60_000, 'reconnect-now'],
    [AgentState.Ready, 'clock-jump', 16_000, 'reconnect-now'],
    [AgentState.Ready, 'resume', 5_000, 'probe'],
    [AgentState.Ready, 'resume', 0, 'probe'],
    [AgentState.Ready, 'clock-jump', 14_000, 'probe'],
    [AgentState.Ready, 'unlock', 60_000, 'probe'],
    [AgentState.Ready, 'network-change', 0, 'probe'],
  ])('%s, %s after %i ms away: %s', (state, signal, sleptMs, decision) => {
    expect(decideOnWake({ state, signal, sleptMs, heartbeatTimeoutMs: timeout })).toBe(decision);
  });
});

describe('WakeDetector', () => {
  it('reports time the timer could not run, and not a busy loop', () => {
    let now = 1_000_000;
    const woke: number[] = [];
    const detector = new WakeDetector((ms) => woke.push(ms), { intervalMs: 2_000, thresholdMs: 5_000, now: () => now });
    detector.start();
    now += 2_000;
    detector.check(); // on time
    now += 6_500;
    detector.check(); // late by 4.5 s: a busy event loop, not a suspend
    now += 2_000 + 60_000;
    detector.check(); // a minute away
    now += 2_000;
    detector.check();
    detector.stop();
    expect(woke).toEqual([60_000]);
  });
});

describe('NetworkWatcher', () => {
  it('reports an external address that comes, goes or moves, not a loopback change or a reordering', () => {
    const info = (address: string, internal = false) => ({ address, internal, family: 'IPv4', netmask: '', mac: '', cidr: null }) as never;
    let interfaces: Record<string, unknown[]> = { lo: [info('127.0.0.1', true)], eth0: [info('10.0.0.5')] };
    let changes = 0;
    const watcher = new NetworkWatcher(() => changes++, { intervalMs: 1_000, interfaces: () => interfaces as never });
    watcher.start();
    watcher.check();
    interfaces = { eth0: [info('10.0.0.5')], lo: [info('127.0.0.2', true)] };
    watcher.check();
    expect(changes).toBe(0);
    interfaces = { lo: [info('127.0.0.1', true)], wlan0: [info('192.168.1.20')] };
    watcher.check();
    interfaces = { lo: [info('127.0.0.1', true)] };
    watcher.check();
    watcher.stop();
    expect(changes).toBe(2);
  });

  it('carries on when the interfaces cannot be read (out of file descriptors: the throw ended the agent)', () => {
    let failing = true;
    let changes = 0;
    const watcher = new NetworkWatcher(() => changes++, {
      intervalMs: 1_000,
      interfaces: () => {
        if (failing) throw Object.assign(new Error('uv_interface_addresses returned Unknown system error 24'), { code: 'ERR_SYSTEM_ERROR' });
        return { eth0: [{ address: '10.0.0.5', internal: false, family: 'IPv4', netmask: '', mac: '', cidr: null }] } as never;
      },
    });
    // The first read fails (at start): its first good read is no change, a later change is one.
    watcher.start();
    expect(() => watcher.check()).not.toThrow();
    failing = false;
    watcher.check();
    expect(changes).toBe(0);
    failing = true;
    expect(() => watcher.check()).not.toThrow();
    watcher.stop();
    expect(changes).toBe(0);
  });
});

describe('Heartbeats', () => {
  function pair(): { a: Heartbeats; b: Heartbeats; rtts: number[]; deliverToA: () => void; toA: Heartbeat[] } {
    const toA: Heartbeat[] = [];
    const rtts: number[] = [];
    let now = 10_000;
    const b = new Heartbeats((heartbeat) => toA.push(heartbeat), 1_000, undefined, () => now);
    const a = new Heartbeats((heartbeat) => b.received(heartbeat), 1_000, (ms) => rtts.push(ms), () => (now += 7));
    return { a, b, rtts, toA, deliverToA: () => toA.splice(0).forEach((heartbeat) => a.received(heartbeat)) };
  }

  it('answers a heartbeat with its echo, and measures the round trip from the echo', async () => {
    const { a, rtts, deliverToA, toA } = pair();
    const alive = a.probe(5_000);
    expect(toA).toEqual([{ sentAtUnixMs: expect.any(BigInt), echoUnixMs: expect.any(BigInt) }]);
    expect(toA[0]!.echoUnixMs).not.toBe(0n);
    deliverToA();
    expect(await alive).toBe(true);
    expect(rtts).toEqual([7]);
  });

  it('says a probe with no answer in time failed, and stopping fails the ones pending', async () => {
    vi.useFakeTimers();
    try {
      const { a } = pair();
      const unanswered = a.probe(3_000);
      vi.advanceTimersByTime(3_001);
      expect(await unanswered).toBe(false);
      const pending = a.probe(3_000);
      a.stop();
      expect(await pending).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
