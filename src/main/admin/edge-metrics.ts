// What an edge tells its operator: Prometheus metrics (prom-client, `burrow_`
// prefix) and the tunnels it serves, both read from the TunnelServer's
// events and state.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ProtocolType } from '../gen/burrow/v1/tunnel.js';
import type { TunnelServer } from '../tunnel/server/tunnel-server.js';
import type { AdminEndpoints, Readiness } from './admin-server.js';
import { RequestMetrics, type TunnelCounters } from './request-metrics.js';

/** One tunnel in /api/tunnels. */
export interface EdgeTunnelView {
  tunnel: string;
  protocol: 'http' | 'grpc';
  publicUrl: string;
  agent: string;
  /** The label of the agent's token (never the token). */
  token: string;
  edge: string;
  /** ISO time of the registration. */
  since: string;
  counters: TunnelCounters & { inFlight: number };
}

export const roundTripBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class EdgeMetrics implements AdminEndpoints {
  readonly registry = new Registry();
  private readonly requests = new RequestMetrics(this.registry);

  constructor(
    private readonly server: TunnelServer,
    /** How this edge is known: its advertised or control address. */
    private readonly edge: string,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'burrow_' });
    new Gauge({ name: 'burrow_agents_connected', help: 'Agents with a live control stream', registers, collect() {
      this.set(server.agentCount);
    } });
    new Gauge({ name: 'burrow_tunnels_registered', help: 'Tunnel names served here', registers, collect() {
      this.set(server.tunnels().length);
    } });
    new Gauge({ name: 'burrow_requests_in_flight', help: 'Public requests in flight, by tunnel', labelNames: ['tunnel'], registers, collect() {
      this.reset();
      for (const tunnel of server.tunnels()) this.set({ tunnel: tunnel.name }, tunnel.inflight);
    } });
    const rejections = new Counter({
      name: 'burrow_rejections_total',
      help: 'Requests, agents and tunnel names refused, by reason (the error code: limits, rate, auth, names)',
      labelNames: ['reason'],
      registers,
    });
    const roundTrip = new Histogram({ name: 'burrow_heartbeat_round_trip_seconds', help: 'Heartbeat round trips to agents', buckets: roundTripBuckets, registers });
    const reconnects = new Counter({ name: 'burrow_data_stream_reconnects_total', help: 'Data streams attached again after a loss, the control stream staying up', registers });
    const agentSessions = new Counter({ name: 'burrow_agent_sessions_total', help: 'Agent sessions opened', registers });

    server.on('request-end', (record) => {
      this.requests.observe(record);
      if (record.refused && record.errorCode !== undefined) rejections.inc({ reason: reasonOf(record.errorCode) });
    });
    server.on('agent-refused', (code) => rejections.inc({ reason: reasonOf(code) }));
    server.on('tunnel-refused', (_name, code) => rejections.inc({ reason: reasonOf(code) }));
    server.on('round-trip', (_agent, ms) => roundTrip.observe(ms / 1000));
    server.on('data-stream', (_agent, event) => event === 'reattached' && reconnects.inc());
    server.on('agent-connected', () => agentSessions.inc());
  }

  readiness(): Readiness {
    return this.server.readiness();
  }

  tunnels(): EdgeTunnelView[] {
    return this.server.tunnels().map((tunnel) => ({
      tunnel: tunnel.name,
      protocol: tunnel.protocol === ProtocolType.PROTOCOL_TYPE_GRPC ? 'grpc' : 'http',
      publicUrl: this.server.publicUrl(tunnel.name),
      agent: tunnel.agentId,
      token: tunnel.tokenLabel,
      edge: this.edge,
      since: new Date(tunnel.since).toISOString(),
      counters: { ...this.requests.countersOf(tunnel.name), inFlight: tunnel.inflight },
    }));
  }
}

/** BURROW_E_RATE_LIMITED reads as rate_limited. */
export function reasonOf(code: string): string {
  return code.replace(/^BURROW_E_/, '').toLowerCase();
}
