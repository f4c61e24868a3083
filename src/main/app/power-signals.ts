// Electron's power events, as wake signals for the agent: a resume after a
// suspend (with how long it slept) and an unlocked screen. The engine also
// notices suspends and network changes by itself; these come sooner.
import { powerMonitor } from 'electron';
import type { WakeSignal } from '../tunnel/agent/tunnel-agent.js';

export function watchPowerSignals(wake: (signal: WakeSignal, sleptMs: number) => void, now: () => number = Date.now): () => void {
  let suspendedAt: number | undefined;
  const onSuspend = (): void => {
    suspendedAt = now();
  };
  const onResume = (): void => {
    const sleptMs = suspendedAt === undefined ? 0 : now() - suspendedAt;
    suspendedAt = undefined;
    wake('resume', sleptMs);
  };
  const onUnlock = (): void => wake('unlock', 0);
  powerMonitor.on('suspend', onSuspend);
  powerMonitor.on('resume', onResume);
  powerMonitor.on('unlock-screen', onUnlock);
  return () => {
    powerMonitor.off('suspend', onSuspend);
    powerMonitor.off('resume', onResume);
    powerMonitor.off('unlock-screen', onUnlock);
  };
}
