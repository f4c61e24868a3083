// Runs the app's tunnel agent from its settings and reports what it does in
// the app's terms (status, a tunnel live or failing, traffic, the
// connection's timeline). Restarting replaces the agent; a replaced agent's
// late events are dropped here.
import type { AgentStatus, Settings, TunnelConfig } from '../../shared/contract.js';
import { BurrowError, ErrorCode } from '../../shared/error-codes.js';
import type { TrafficEvent } from '../../shared/traffic.js';
import type { WebSocketInjectTo } from '../tunnel/agent/local-exchanges.js';
import { MultiEdgeAgent } from '../tunnel/agent/multi-edge-agent.js';
import { addressList } from '../tunnel/host-port.js';
import type { AgentTls, TunnelSpec, WakeSignal } from '../tunnel/agent/tunnel-agent.js';
import { readCaFile } from './ca-file.js';

export interface AgentHooks {
  status(status: Omit<AgentStatus, 'server'>): void;
  tunnelLive(id: string, publicUrl: string): void;
  /** `id` is '' when the report concerns no registration (the server on a request). */
  tunnelFailed(id: string, code: string, message: string): void;
  traffic(event: TrafficEvent): void;
  /** The agent gave up for good (e.g. its token was rejected). */
  fatal(code: string, message: string): void;
  /** Something for the connection's timeline, other than a state change. */
  linkEvent(kind: 'data-stream-open' | 'data-stream-lost' | 'wake' | 'probe', detail: string): void;
  roundTrip(ms: number): void;
}

export interface AgentPlan {
  settings: Settings;
  /** Where to connect: the server's control address (several, comma-separated, for a cluster's edges), or the embedded server's. */
  address: string;
  /** Edges to hold at once when several are known. */
  ha?: number;
  /** The embedded server is cleartext on loopback, whatever the settings say. */
  embedded: boolean;
  tunnels: readonly TunnelConfig[];
}

export class AgentRunner {
  private agent: MultiEdgeAgent | undefined;

  constructor(private readonly hooks: AgentHooks) {}

  /** Stops the agent there is and starts one for `plan`, carrying every enabled tunnel; throws BurrowError when its TLS settings cannot be used. */
  restart(plan: AgentPlan): void {
    this.stop();
    const agent = new MultiEdgeAgent({
      servers: addressList(plan.address),
      ha: plan.ha,
      token: plan.settings.token || undefined,
      tls: plan.embedded ? undefined : agentTls(plan.settings),
      tunnels: plan.tunnels.filter((t) => t.enabled).map(tunnelSpec),
    });
    this.agent = agent;
    const hooks = this.hooks;
    const current = (): boolean => this.agent === agent;
    agent.on('state', (state, detail) => current() && hooks.status({ state, detail }));
    agent.on('tunnel-live', (tunnel) => current() && hooks.tunnelLive(tunnel.id, tunnel.publicUrl));
    agent.on('tunnel-error', (_name, code, message, id) => current() && hooks.tunnelFailed(id, code, message));
    agent.on('traffic', (event) => hooks.traffic(event));
    agent.on('fatal', (error) => hooks.fatal(error.code, error.message));
    agent.on('data-stream', (event, detail) => current() && hooks.linkEvent(event === 'open' ? 'data-stream-open' : 'data-stream-lost', detail));
    agent.on('wake', (signal, decision) => current() && hooks.linkEvent('wake', `${signal}: ${decision}`));
    agent.on('probe', (alive) => current() && hooks.linkEvent('probe', alive ? 'the server answered: the connection is fine' : 'no answer: reconnecting'));
    agent.on('round-trip', (ms) => current() && hooks.roundTrip(ms));
    agent.start();
  }

  stop(): void {
    this.agent?.stop();
    this.agent = undefined;
  }

  /** Stops once the requests under way have finished, within `timeoutMs` (MultiEdgeAgent.drain). */
  async drain(timeoutMs: number, started?: (underWay: number) => void): Promise<number> {
    const { agent } = this;
    this.agent = undefined;
    return (await agent?.drain(timeoutMs, started)) ?? 0;
  }

  addTunnel(config: TunnelConfig): void {
    this.agent?.addTunnel(tunnelSpec(config));
  }

  removeTunnel(id: string): void {
    this.agent?.removeTunnel(id);
  }

  injectWebSocketMessage(requestId: string, to: WebSocketInjectTo, binary: boolean, payload: Buffer): void {
    if (this.agent === undefined) throw new BurrowError(ErrorCode.Conflict, 'the agent is not running');
    this.agent.injectWebSocketMessage(requestId, to, binary, payload);
  }

  wake(signal: WakeSignal, sleptMs: number): void {
    this.agent?.wake(signal, sleptMs);
  }
}

function tunnelSpec(t: TunnelConfig): TunnelSpec {
  return { id: t.id, name: t.name || undefined, protocol: t.protocol, target: t.target };
}

/** How the agent reaches its server over TLS; INVALID_INPUT when the CA file cannot be used. */
export function agentTls({ tls, caFile }: Settings): AgentTls | undefined {
  if (tls === 'off') return undefined;
  if (tls === 'insecure') return { insecure: true };
  if (caFile === '') return {};
  try {
    return { ca: readCaFile(caFile) };
  } catch (error) {
    throw new BurrowError(ErrorCode.InvalidInput, `cannot use the CA file: ${(error as Error).message}`);
  }
}
