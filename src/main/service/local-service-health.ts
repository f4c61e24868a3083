// How each tunnel's local service is doing, from the requests the agent
// forwarded to it: a tunnel can be registered ("online") while everything
// sent to it is refused. Failures of the last minute by kind (until a
// request gets through again), and the last error, by the tunnel name
// requests carry.
import type { LocalServiceHealth } from '../../shared/contract.js';
import { ErrorCode } from '../../shared/error-codes.js';
import type { EndedRequest } from './ended-requests.js';

type FailureKind = 'refused' | 'timedOut' | 'failed';

interface Failure {
  at: number;
  kind: FailureKind;
}

/** The codes that mean the local service, not the client or the tunnel, failed. */
const failureKinds = new Map<string, FailureKind>([
  [ErrorCode.LocalUnreachable, 'refused'],
  [ErrorCode.Timeout, 'timedOut'],
  [ErrorCode.LocalFailed, 'failed'],
]);

interface TunnelHealth {
  failures: Failure[];
  lastError?: LocalServiceHealth['lastError'];
}

/** Failures this far back still count. */
export const localHealthWindowMs = 60_000;
/** Kept per tunnel at most: enough to count a minute of a failing service without growing with it. */
const maxFailuresKept = 1_000;

export class LocalServiceHealthTracker {
  private readonly byTunnel = new Map<string, TunnelHealth>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Each forwarded request once it has ended; returns true when its tunnel's health changed. */
  ended(request: EndedRequest): boolean {
    const { tunnel, errorCode } = request;
    if (errorCode === undefined) return this.recovered(tunnel);
    const kind = failureKinds.get(errorCode);
    if (kind === undefined) return false;
    const health = this.byTunnel.get(tunnel) ?? { failures: [] };
    this.byTunnel.set(tunnel, health);
    const at = this.now();
    health.failures.push({ at, kind });
    if (health.failures.length > maxFailuresKept) health.failures.shift();
    health.lastError = { code: errorCode, message: request.errorMessage ?? errorCode, at };
    return true;
  }

  /** A request got through: the service works again, whatever failed before. */
  private recovered(tunnel: string): boolean {
    const health = this.byTunnel.get(tunnel);
    if (health === undefined || health.failures.length === 0) return false;
    health.failures = [];
    return true;
  }

  /** Drops failures older than the window; returns true when any count changed. */
  expire(): boolean {
    const since = this.now() - localHealthWindowMs;
    let changed = false;
    for (const health of this.byTunnel.values()) {
      const kept = health.failures.filter((failure) => failure.at > since);
      changed ||= kept.length !== health.failures.length;
      health.failures = kept;
    }
    return changed;
  }

  /** Undefined for a tunnel whose local service never failed. */
  of(tunnel: string): LocalServiceHealth | undefined {
    const health = this.byTunnel.get(tunnel);
    if (health?.lastError === undefined) return undefined;
    const since = this.now() - localHealthWindowMs;
    const recent = health.failures.filter((failure) => failure.at > since);
    const count = (kind: FailureKind): number => recent.filter((failure) => failure.kind === kind).length;
    return { refusedLastMinute: count('refused'), timedOutLastMinute: count('timedOut'), failedLastMinute: count('failed'), lastError: health.lastError };
  }
}
