// What an agent tells its operator (`burrow http|grpc|start --admin`): the
// same request metrics as the edge, its link to the edge, and its tunnels,
// all read from the AppService it runs in.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppService } from '../service/app-service.js';
import type { AdminEndpoints, Readiness } from './admin-server.js';
import { roundTripBuckets } from './edge-metrics.js';
import { RequestMetrics, type TunnelCounters } from './request-metrics.js';

export interface AgentTunnelView {
  tunnel: string;
  protocol: 'http' | 'grpc';
  target: string;
  status: string;
  publicUrl?: string;
  /** The edge the agent is connected to. */
  edge: string;
  /** ISO time the tunnel last went online here. */
  since?: string;
  counters: TunnelCounters & { inFlight: number };
}

export class AgentMetrics implements AdminEndpoints {
  readonly registry = new Registry();
  private readonly requests = new RequestMetrics(this.registry);
  private readonly onlineSince = new Map<string, number>();

  constructor(private readonly service: AppService) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'burrow_' });
    new Gauge({ name: 'burrow_agent_connected', help: '1 while the agent holds a session with its edge', registers, async collect() {
      this.set((await service.getAgentStatus()).state === 'ready' ? 1 : 0);
    } });
    new Gauge({ name: 'burrow_tunnels_online', help: 'Tunnels registered and served', registers, async collect() {
      this.set((await service.listTunnels()).filter((tunnel) => tunnel.status === 'online').length);
    } });
    new Gauge({ name: 'burrow_requests_in_flight', help: 'Requests being forwarded, by tunnel', labelNames: ['tunnel'], registers, collect() {
      this.reset();
      for (const [tunnel, count] of service.inFlightByTunnel()) this.set({ tunnel }, count);
    } });
    const roundTrip = new Histogram({ name: 'burrow_heartbeat_round_trip_seconds', help: 'Heartbeat round trips to the edge', buckets: roundTripBuckets, registers });
    const reconnects = new Counter({ name: 'burrow_data_stream_reconnects_total', help: 'Data streams opened again after a loss, the control stream staying up', registers });
    const connects = new Counter({ name: 'burrow_edge_connects_total', help: 'Sessions opened with the edge (more than one: reconnects)', registers });

    service.on('requestEnded', (request) => this.requests.observe(request));
    service.on('roundTrip', ({ ms }) => roundTrip.observe(ms / 1000));
    let dataStreamLost = false;
    service.on('connectionEvent', ({ kind }) => {
      if (kind === 'connected') connects.inc();
      if (kind === 'data-stream-lost') dataStreamLost = true;
      if (kind === 'data-stream-open' && dataStreamLost) {
        dataStreamLost = false;
        reconnects.inc();
      }
      if (kind === 'disconnected') dataStreamLost = false;
    });
    service.on('tunnels', (views) => {
      for (const view of views) {
        if (view.status !== 'online') this.onlineSince.delete(view.id);
        else if (!this.onlineSince.has(view.id)) this.onlineSince.set(view.id, Date.now());
      }
    });
  }

  async readiness(): Promise<Readiness> {
    const status = await this.service.getAgentStatus();
    return status.state === 'ready' ? { ready: true } : { ready: false, reason: `not connected to ${status.server}: ${status.state}${status.detail ? ` (${status.detail})` : ''}` };
  }

  async tunnels(): Promise<AgentTunnelView[]> {
    const [views, status] = await Promise.all([this.service.listTunnels(), this.service.getAgentStatus()]);
    const inFlight = this.service.inFlightByTunnel();
    return views.map((view) => {
      const name = view.publicUrl === undefined ? view.name : new URL(view.publicUrl).hostname.split('.')[0]!;
      const since = this.onlineSince.get(view.id);
      return {
        tunnel: name,
        protocol: view.protocol,
        target: view.target,
        status: view.status,
        ...(view.publicUrl !== undefined && { publicUrl: view.publicUrl }),
        edge: status.server,
        ...(since !== undefined && { since: new Date(since).toISOString() }),
        counters: { ...this.requests.countersOf(name), inFlight: inFlight.get(name) ?? 0 },
      };
    });
  }
}
