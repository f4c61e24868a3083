// Giving an agent's tunnel its name: checked here, and in a cluster claimed
// across every edge first (a name picked at random that another agent holds
// is picked again); released when this edge no longer serves it.
import type { RegisterTunnel } from '../../gen/burrow/v1/tunnel.js';
import { ErrorCode } from '../errors.js';
import type { AgentSession } from './agent-session.js';
import type { ClaimOwner, EdgeCluster } from './edge-cluster.js';
import type { TunnelRegistry } from './tunnel-registry.js';

export interface TunnelNamingHooks {
  registered(session: AgentSession, name: string, correlationId: string): void;
  refused(session: AgentSession, asked: string, refusal: { code: string; message: string }, correlationId: string): void;
}

/** Random names tried before giving up when the cluster holds each one picked. */
const randomNameAttempts = 5;

export class TunnelNaming {
  constructor(
    private readonly registry: TunnelRegistry,
    private readonly cluster: EdgeCluster | undefined,
    private readonly hooks: TunnelNamingHooks,
  ) {}

  register(session: AgentSession, request: RegisterTunnel, correlationId: string): void {
    const checked = this.registry.check(session, request);
    if (!checked.ok) {
      this.hooks.refused(session, request.name, checked, correlationId);
    } else if (this.cluster === undefined) {
      this.registry.commit(session, checked.name, request);
      this.hooks.registered(session, checked.name, correlationId);
    } else {
      void this.claim(this.cluster, session, request, checked.name, correlationId);
    }
  }

  /** This edge no longer serves `name` for that agent: the cluster may give it to another. */
  release(name: string, session: AgentSession): void {
    void this.cluster?.release(name, ownerOf(session));
  }

  private async claim(cluster: EdgeCluster, session: AgentSession, request: RegisterTunnel, name: string, correlationId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const claimed = await cluster.claim(name, ownerOf(session), request.protocol);
      if (session.isClosed) {
        if (claimed.ok && this.registry.sessionOf(name) === undefined) this.release(name, session);
        return;
      }
      if (!claimed.ok && claimed.code === ErrorCode.NameTaken && request.name === '' && attempt < randomNameAttempts) {
        const again = this.registry.check(session, request);
        if (again.ok) {
          name = again.name;
          continue;
        }
      }
      // Checked again: another registration may have taken the name here meanwhile.
      const checked = claimed.ok ? this.registry.check(session, { ...request, name }) : claimed;
      if (!checked.ok) {
        if (claimed.ok && this.registry.sessionOf(name) === undefined) this.release(name, session);
        this.hooks.refused(session, request.name, checked, correlationId);
        return;
      }
      this.registry.commit(session, name, request);
      this.hooks.registered(session, name, correlationId);
      return;
    }
  }
}

export function ownerOf(session: AgentSession): ClaimOwner {
  return { agentId: session.agentId, tokenLabel: session.identity.label };
}
