// The agent's connection as it happened: connects, disconnects and their
// reasons, data-stream resets, wakes and probes, and heartbeat round trips;
// the most recent of each kept for the Connection view.
import type { AgentState, ConnectionEvent, ConnectionLog as ConnectionLogView, RoundTrip } from '../../shared/contract.js';

const maxEvents = 500;
const maxRoundTrips = 300;

export class ConnectionLog {
  private readonly events: ConnectionEvent[] = [];
  private readonly roundTrips: RoundTrip[] = [];

  constructor(private readonly emit: { event(event: ConnectionEvent): void; roundTrip(roundTrip: RoundTrip): void }) {}

  /** The agent's state changed: a connect or a disconnect for the timeline. */
  stateChanged(state: AgentState, detail: string, server: string): void {
    const kind = ConnectionLog.eventForState(state);
    if (kind !== undefined) this.add({ at: Date.now(), kind, detail, server });
  }

  /** Anything else for the timeline. */
  happened(kind: ConnectionEvent['kind'], detail: string, server: string): void {
    this.add({ at: Date.now(), kind, detail, server });
  }

  measured(ms: number, server: string): void {
    const roundTrip = { at: Date.now(), ms, server };
    push(this.roundTrips, roundTrip, maxRoundTrips);
    this.emit.roundTrip(roundTrip);
  }

  /** The event a change of the agent's state makes, if any (backoff and closed are disconnects). */
  private static eventForState(state: AgentState): ConnectionEvent['kind'] | undefined {
    switch (state) {
      case 'connecting':
        return 'connecting';
      case 'ready':
        return 'connected';
      case 'backoff':
      case 'closed':
        return 'disconnected';
      default:
        return undefined;
    }
  }

  private add(event: ConnectionEvent): void {
    push(this.events, event, maxEvents);
    this.emit.event(event);
  }

  view(): ConnectionLogView {
    return { events: [...this.events], roundTrips: [...this.roundTrips] };
  }
}

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
