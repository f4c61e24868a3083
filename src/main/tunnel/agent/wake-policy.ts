// What the agent does when the machine wakes, the screen unlocks or the
// network changes: the one decision, pure, so it can be tested as a table.
// Heartbeats would notice a dead connection too, but only after their
// timeout (15 s by default), which is what users of tunnels complain about.
import { AgentState } from './agent-state.js';

export type WakeSignal = 'resume' | 'unlock' | 'network-change' | 'clock-jump';

export type WakeDecision =
  /** The server has surely dropped us: reconnect without waiting. */
  | 'reconnect-now'
  /** Waiting to retry: retry now, the reason to wait may be gone. */
  | 'retry-now'
  /** Connected, perhaps still: ask the server for a heartbeat and reconnect if none comes back soon. */
  | 'probe'
  /** Nothing to do (stopped, not started, or already connecting). */
  | 'ignore';

export interface WakeFacts {
  state: AgentState;
  signal: WakeSignal;
  /** How long the machine was away, when known (0 otherwise). */
  sleptMs: number;
  /** After this long without hearing from the agent, the server drops its session. */
  heartbeatTimeoutMs: number;
}

export function decideOnWake({ state, signal, sleptMs, heartbeatTimeoutMs }: WakeFacts): WakeDecision {
  switch (state) {
    case AgentState.Idle:
    case AgentState.Closed:
    case AgentState.Connecting:
      return 'ignore';
    case AgentState.Backoff:
      return 'retry-now';
    case AgentState.Ready:
      // Asleep longer than the server waits: our session is gone, whatever the socket says.
      if ((signal === 'resume' || signal === 'clock-jump') && sleptMs > heartbeatTimeoutMs) return 'reconnect-now';
      return 'probe';
  }
}
