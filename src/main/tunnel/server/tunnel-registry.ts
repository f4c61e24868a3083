// Which agent serves which tunnel name, and admission of public requests:
// a request is let through to a tunnel only while its agent is connected
// and within the concurrency and rate limits.
import { ProtocolType, type RegisterTunnel } from '../../gen/burrow/v1/tunnel.js';
import type { ServerLimits } from '../config.js';
import { ErrorCode } from '../errors.js';
import { isValidTunnelName, tunnelNameFromHost } from '../tunnel-names.js';
import type { AgentSession } from './agent-session.js';
import type { EdgeCluster } from './edge-cluster.js';
import type { TunnelRoute } from './tunnel-route.js';
import { TunnelRateLimiter } from './rate-limiter.js';

interface TunnelEntry {
  session: AgentSession;
  protocol: ProtocolType;
  target: string;
  /** Unix ms of the registration. */
  since: number;
  inflight: number;
}

/** A registered tunnel, as operators see it. */
export interface RegisteredTunnel {
  name: string;
  protocol: ProtocolType;
  agentId: string;
  /** The agent's token, by its label (never the token itself). */
  tokenLabel: string;
  since: number;
  inflight: number;
}

export type Registration = { ok: true; name: string } | { ok: false; code: string; message: string };

export type Admission =
  | { ok: true; name: string; protocol: ProtocolType; session: TunnelRoute; release: () => void }
  | { ok: false; code: string; message: string; retryAfterSeconds?: number; name?: string };

/** How many names of departed tunnels to remember, to answer 502 rather than 404. */
const rememberedOfflineNames = 10_000;

/**
 * How long after it starts an edge takes a name no agent holds for one whose
 * agent has yet to come back, when asked to (`--restart-grace`). Restarted,
 * an edge knows no names: its agents reconnect within their backoff (at most
 * about 2 s), and meanwhile every request for their tunnels gets 404, and
 * gRPC calls UNIMPLEMENTED, which clients do not try again; within the grace
 * the tunnel is offline (502, UNAVAILABLE). Not by default: the CLI contract
 * (DESIGN.md) has a host with no tunnel answered 404 from the start.
 */
export const defaultReconnectGraceMs = 0;

export class TunnelRegistry {
  private readonly tunnels = new Map<string, TunnelEntry>();
  private readonly offlineNames = new Set<string>();
  private readonly rateLimiter: TunnelRateLimiter;
  private inflight = 0;
  private readonly startedAt = performance.now();

  constructor(
    private readonly domain: string,
    private readonly limits: ServerLimits,
    clock?: () => number,
    /** Rate limits shared with the other edges; absent in a single process. */
    private readonly cluster?: Pick<EdgeCluster, 'takeRate'>,
    private readonly reconnectGraceMs = defaultReconnectGraceMs,
  ) {
    this.rateLimiter = new TunnelRateLimiter(limits.ratePerTunnel, clock);
  }

  /** Public requests in flight over all tunnels. */
  get inflightRequests(): number {
    return this.inflight;
  }

  /** The tunnel name a Host asks for, if it names one of this domain. */
  nameOf(host: string | undefined): string | undefined {
    return tunnelNameFromHost(host, this.domain);
  }

  sessionOf(name: string): AgentSession | undefined {
    return this.tunnels.get(name)?.session;
  }

  /** Claims a name for a session's tunnel, or says why not. */
  register(session: AgentSession, request: RegisterTunnel): Registration {
    const checked = this.check(session, request);
    if (checked.ok) this.commit(session, checked.name, request);
    return checked;
  }

  /** Whether a session may have the tunnel it asks for, and under which name (one picked when it asks for none). */
  check(session: AgentSession, request: RegisterTunnel): Registration {
    const { identity } = session;
    const name = request.name === '' ? identity.randomName() : request.name.toLowerCase();
    if (name === undefined) {
      return { ok: false, code: ErrorCode.NameNotAllowed, message: `token ${identity.label} may claim only ${identity.claims?.join(', ')}; ask for one of those names` };
    }
    if (!isValidTunnelName(name)) {
      return { ok: false, code: ErrorCode.BadName, message: `"${request.name}" is not a valid tunnel name (lowercase letters, digits and dashes, at most 63)` };
    }
    if (!identity.mayClaim(name)) {
      return { ok: false, code: ErrorCode.NameNotAllowed, message: `token ${identity.label} may not claim "${name}" (allowed: ${identity.claims?.join(', ')})` };
    }
    const owner = this.tunnels.get(name);
    if (owner !== undefined && owner.session !== session) {
      return { ok: false, code: ErrorCode.NameTaken, message: `tunnel name "${name}" is already in use by another agent` };
    }
    return { ok: true, name };
  }

  /** Gives a checked name to a session's tunnel. */
  commit(session: AgentSession, name: string, request: RegisterTunnel): void {
    const owner = this.tunnels.get(name);
    if (owner !== undefined) {
      // The same agent again (e.g. a changed target): its requests in flight still count.
      owner.protocol = request.protocol;
      owner.target = request.target;
    } else {
      this.tunnels.set(name, { session, protocol: request.protocol, target: request.target, since: Date.now(), inflight: 0 });
    }
    this.offlineNames.delete(name);
    session.tunnels.add(name);
  }

  list(): RegisteredTunnel[] {
    return [...this.tunnels].map(([name, { session, protocol, since, inflight }]) => ({
      name,
      protocol,
      agentId: session.agentId,
      tokenLabel: session.identity.label,
      since,
      inflight,
    }));
  }

  /** True when the session served that name (and now does not). */
  unregister(session: AgentSession, name: string): boolean {
    if (this.tunnels.get(name)?.session !== session) return false;
    session.tunnels.delete(name);
    this.forget(name);
    return true;
  }

  /** A session ended: its tunnels go offline. Returns the names it served. */
  sessionClosed(session: AgentSession): string[] {
    const served = [...session.tunnels].filter((name) => this.tunnels.get(name)?.session === session);
    for (const name of served) this.forget(name);
    return served;
  }

  /** Finds the tunnel for a Host and takes an in-flight slot, or says why not; asks the cluster (a promise) only for a cluster-wide rate limit. */
  admit(host: string | undefined): Admission | Promise<Admission> {
    const name = tunnelNameFromHost(host, this.domain);
    const entry = name === undefined ? undefined : this.tunnels.get(name);
    if (name === undefined || entry === undefined) {
      if (name !== undefined && this.offlineNames.has(name)) {
        return { ok: false, code: ErrorCode.TunnelOffline, message: `tunnel ${name} is offline: its agent is not connected`, name };
      }
      const sinceStartMs = performance.now() - this.startedAt;
      if (name !== undefined && sinceStartMs < this.reconnectGraceMs) {
        const message = `tunnel ${name} is not connected (yet): this edge started ${(sinceStartMs / 1000).toFixed(1)} s ago, and its agents are connecting again`;
        // No name in the record: any name, misspelt or not, gets this (metrics would grow a label for each).
        return { ok: false, code: ErrorCode.TunnelOffline, message, retryAfterSeconds: 1 };
      }
      return { ok: false, code: ErrorCode.NoTunnel, message: `no tunnel for host ${host || '(none)'}` };
    }
    const { session } = entry;
    if (!session.hasDataStream) {
      return { ok: false, code: ErrorCode.TunnelOffline, message: `tunnel ${name} is offline: the agent's data stream is down`, name };
    }
    if (this.inflight >= this.limits.maxInflight || session.exchanges.size >= this.limits.maxInflightPerAgent) {
      return { ok: false, code: ErrorCode.OverCapacity, message: `tunnel ${name} is at its concurrency limit; retry shortly`, retryAfterSeconds: 1, name };
    }
    const clusterRate = this.cluster !== undefined && this.limits.ratePerTunnel > 0;
    const rate = clusterRate ? undefined : this.rateLimiter.take(name);
    if (rate !== undefined && !rate.allowed) return this.overRate(name, rate.retryAfterSeconds);
    this.inflight++;
    entry.inflight++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.inflight--;
      entry.inflight--;
    };
    const admitted: Admission = { ok: true, name, protocol: entry.protocol, session, release };
    if (!clusterRate) return admitted;
    // The slot is held while the edges' shared bucket answers; without an answer this edge's own bucket decides.
    return this.cluster!.takeRate(name, this.limits.ratePerTunnel).then((shared) => {
      const decision = shared ?? this.rateLimiter.take(name);
      if (decision.allowed) return admitted;
      release();
      return this.overRate(name, decision.retryAfterSeconds);
    });
  }

  private overRate(name: string, retryAfterSeconds: number): Admission {
    return {
      ok: false,
      code: ErrorCode.RateLimited,
      message: `tunnel ${name} is over its rate limit of ${this.limits.ratePerTunnel} requests per second`,
      retryAfterSeconds,
      name,
    };
  }

  /**
   * A name another edge of the cluster holds: once no edge does (its agent
   * restarting), it is offline here too (502), as at the edge that held it,
   * not unknown (404, which a client or cache may keep: the cluster audit).
   */
  heldElsewhere(name: string): void {
    if (!this.tunnels.has(name) && !this.offlineNames.has(name)) this.rememberOffline(name);
  }

  private forget(name: string): void {
    this.tunnels.delete(name);
    this.rateLimiter.forget(name);
    this.rememberOffline(name);
  }

  private rememberOffline(name: string): void {
    this.offlineNames.add(name);
    if (this.offlineNames.size > rememberedOfflineNames) {
      const oldest = this.offlineNames.values().next().value;
      if (oldest !== undefined) this.offlineNames.delete(oldest);
    }
  }
}
