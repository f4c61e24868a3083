// Starts the app's tunnel agent from its settings and reports what the agent
// does in the app's terms (status, a tunnel live or failing, traffic). A
// replaced agent's late events are dropped by the caller's `current` check.
import { readFileSync } from 'node:fs';
import type { AgentStatus, Settings, TunnelConfig } from '../../shared/contract.js';
import { BurrowError, ErrorCode } from '../../shared/error-codes.js';
import type { TrafficEvent } from '../../shared/traffic.js';
import { TunnelAgent, type AgentTls } from '../tunnel/agent/tunnel-agent.js';

export interface AgentHooks {
  status(status: Omit<AgentStatus, 'server'>): void;
  tunnelLive(id: string, publicUrl: string): void;
  /** `id` is '' when the report concerns no registration (the server on a request). */
  tunnelFailed(id: string, code: string, message: string): void;
  traffic(event: TrafficEvent): void;
  /** The agent gave up for good (e.g. its token was rejected). */
  fatal(code: string, message: string): void;
}

export interface AgentPlan {
  settings: Settings;
  /** Where to connect: the server's control address, or the embedded server's. */
  address: string;
  /** The embedded server is cleartext on loopback, whatever the settings say. */
  embedded: boolean;
  tunnels: readonly TunnelConfig[];
}

/** A started agent carrying every enabled tunnel; throws BurrowError when its TLS settings cannot be used. */
export function startAgent(plan: AgentPlan, hooks: AgentHooks): TunnelAgent {
  const agent = new TunnelAgent({
    server: plan.address,
    token: plan.settings.token || undefined,
    tls: plan.embedded ? undefined : agentTls(plan.settings),
    tunnels: plan.tunnels.filter((t) => t.enabled).map((t) => ({ id: t.id, name: t.name || undefined, protocol: t.protocol, target: t.target })),
  });
  agent.on('state', (state, detail) => hooks.status({ state, detail }));
  agent.on('tunnel-live', (tunnel) => hooks.tunnelLive(tunnel.id, tunnel.publicUrl));
  agent.on('tunnel-error', (_name, code, message, id) => hooks.tunnelFailed(id, code, message));
  agent.on('traffic', (event) => hooks.traffic(event));
  agent.on('fatal', (error) => hooks.fatal(error.code, error.message));
  agent.start();
  return agent;
}

function agentTls({ tls, caFile }: Settings): AgentTls | undefined {
  if (tls === 'off') return undefined;
  if (tls === 'insecure') return { insecure: true };
  if (caFile === '') return {};
  try {
    return { ca: readFileSync(caFile, 'utf8') };
  } catch (error) {
    throw new BurrowError(ErrorCode.InvalidInput, `cannot read the CA file ${caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
