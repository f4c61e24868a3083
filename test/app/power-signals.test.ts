// Electron's power events reach the agent as wake signals, with the length
// of a sleep; the electron module is stubbed, the clock driven by hand.
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';

const electron = vi.hoisted(() => ({ powerMonitor: new (require('node:events').EventEmitter as typeof EventEmitter)() }));
vi.mock('electron', () => electron);
const { watchPowerSignals } = await import('../../src/main/app/power-signals.js');

describe('watchPowerSignals', () => {
  it('reports a resume with how long the machine slept, and an unlock; nothing once stopped', () => {
    let now = 1_000;
    const signals: [string, number][] = [];
    const stop = watchPowerSignals((signal, sleptMs) => signals.push([signal, sleptMs]), () => now);
    electron.powerMonitor.emit('suspend');
    now += 90_000;
    electron.powerMonitor.emit('resume');
    electron.powerMonitor.emit('unlock-screen');
    // A resume without a suspend seen (the app started asleep) does not guess a length.
    electron.powerMonitor.emit('resume');
    stop();
    electron.powerMonitor.emit('resume');
    expect(signals).toEqual([
      ['resume', 90_000],
      ['unlock', 0],
      ['resume', 0],
    ]);
    expect(electron.powerMonitor.listenerCount('resume')).toBe(0);
  });
});
