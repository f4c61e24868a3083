// An agent on several edges at once (a cluster's high availability): one
// connection (a TunnelAgent) per edge, up to `ha` of them, all as the same
// agent with the same tunnels, so that any edge holding one serves the
// tunnel. Edges are learned from the servers given and from each edge's
// Welcome; a connection whose edge is lost moves to a known edge not in use.
// Requests from every edge share one set of local exchanges. With one edge
// known it is exactly one TunnelAgent.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { TrafficEvent } from '../../../shared/traffic.js';
import { ErrorCode } from '../errors.js';
import { AgentState } from './agent-state.js';
import { settledWithin } from '../bounded-waits.js';
import { LocalExchanges, type WebSocketInjectTo } from './local-exchanges.js';
import { parseLocalTarget, type LocalTarget } from './local-target.js';
import { TunnelAgent, type LiveTunnel, type TunnelAgentEvents, type TunnelAgentOptions, type TunnelSpec } from './tunnel-agent.js';
import { WakeWatch } from './wake-watch.js';
import type { WakeDecision, WakeSignal } from './wake-policy.js';

/** How long a draining agent waits for an edge to end its data stream after its own end, and to answer its tunnels' unregistering. */
const dataStreamEndMs = 2_000;
const withdrawWaitMs = 2_000;

/**
 * How long an edge a connection was moved away from is not moved to again:
 * about a connection's own longest backoff. With two edges down, moving at
 * once between them was a loop with no wait (the audit saw an agent spin
 * on 1.5 cores through an outage); each connection now waits out its own
 * backoff on its edge until another is worth trying.
 */
const movedAwayMs = 2_000;

export interface MultiEdgeAgentOptions extends Omit<TunnelAgentOptions, 'server' | 'agentId' | 'exchanges'> {
  /** Control addresses of edges, in order of preference (at least one). */
  servers: string[];
  /** Edges to hold at once; by default 2 once more than one edge is known, else 1. */
  ha?: number;
}

export interface MultiEdgeAgentEvents extends TunnelAgentEvents {
  /** The edges connected to now (changes as connections move). */
  edges: [connected: string[]];
}

export class MultiEdgeAgent extends EventEmitter<MultiEdgeAgentEvents> {
  readonly agentId = randomUUID();
  private readonly known: string[];
  private readonly links = new Map<string, TunnelAgent>();
  /** When a connection last moved away from each edge (movedAwayMs). */
  private readonly movedAwayAt = new Map<string, number>();
  private readonly exchanges: LocalExchanges;
  private readonly specs: TunnelSpec[];
  /** Local services by tunnel name, for requests from any edge. */
  private readonly targets = new Map<string, LocalTarget>();
  /** Which edges serve each tunnel (by id) now. */
  private readonly liveOn = new Map<string, Set<string>>();
  private readonly live = new Map<string, LiveTunnel>();
  private readonly wakeWatch: WakeWatch;
  private stateValue = AgentState.Idle;
  /** drain() is under way. */
  private draining = false;
  private stateDetail = '';
  private lastEdges = '';
  /** The edge asked for the tunnels that have no name yet (it picks them; the others then ask for those). */
  private namer: string | undefined;

  constructor(private readonly options: MultiEdgeAgentOptions) {
    super();
    if (options.servers.length === 0) throw new Error('an agent needs at least one server');
    this.known = [...new Set(options.servers)];
    this.specs = options.tunnels.map((spec) => ({ ...spec, id: spec.id ?? randomUUID() }));
    this.exchanges = new LocalExchanges(
      (name) => this.targets.get(name),
      (event: TrafficEvent) => this.emit('traffic', event),
    );
    this.wakeWatch = new WakeWatch(options, (signal, sleptMs) => this.wake(signal, sleptMs));
  }

  get state(): AgentState {
    return this.stateValue;
  }

  get liveTunnels(): LiveTunnel[] {
    return [...this.live.values()];
  }

  get inflightRequests(): number {
    return this.exchanges.size;
  }

  /** The edges connected to now. */
  get connectedEdges(): string[] {
    return [...this.links].filter(([, link]) => link.state === AgentState.Ready).map(([edge]) => edge);
  }

  start(): void {
    if (this.stateValue !== AgentState.Idle) return;
    this.wakeWatch.start();
    this.fill();
  }

  stop(): void {
    if (this.stateValue === AgentState.Closed) return;
    this.wakeWatch.stop();
    for (const link of this.links.values()) link.stop();
    this.links.clear();
    this.exchanges.close();
    this.setState(AgentState.Closed, 'stopped');
  }

  /**
   * Stops as stop() does, once the requests under way have finished or
   * `timeoutMs` has passed: the edges are told to send no new ones (the
   * tunnels go offline there at once), and WebSockets close as going away.
   * `started` hears how many requests are under way as it begins. Resolves
   * with how many were still under way, and cut, when it stopped.
   */
  async drain(timeoutMs: number, started?: (underWay: number) => void): Promise<number> {
    let cut = this.exchanges.size;
    if (this.stateValue !== AgentState.Closed && timeoutMs > 0) {
      this.draining = true;
      await Promise.all([...this.links.values()].map((link) => link.withdraw(withdrawWaitMs)));
      // Told first: started?.() would not run its argument without a listener.
      const underWay = this.exchanges.goAway();
      started?.(underWay);
      await settledWithin(this.exchanges.idle(), timeoutMs);
      cut = this.exchanges.size;
      // What the last answers queued on each data stream leaves before it ends.
      await Promise.all([...this.links.values()].map((link) => link.finish(dataStreamEndMs)));
    }
    this.stop();
    return cut;
  }

  addTunnel(spec: TunnelSpec): string {
    const added = { ...spec, id: spec.id ?? randomUUID() };
    this.specs.push(added);
    // A tunnel without a name gets one from its first edge; the others are asked for that one (see tunnelLive).
    for (const [edge, link] of this.links) if (added.name !== undefined || edge === this.namer) link.addTunnel(added);
    return added.id;
  }

  removeTunnel(id: string): boolean {
    const index = this.specs.findIndex((spec) => spec.id === id);
    if (index < 0) return false;
    this.specs.splice(index, 1);
    for (const link of this.links.values()) link.removeTunnel(id);
    this.liveOn.delete(id);
    this.forgetLive(id);
    return true;
  }

  /** Sends a message from the inspector into an open WebSocket this agent forwards. */
  injectWebSocketMessage(requestId: string, to: WebSocketInjectTo, binary: boolean, payload: Buffer): void {
    this.exchanges.injectWebSocketMessage(requestId, to, binary, payload);
  }

  wake(signal: WakeSignal, sleptMs = 0): WakeDecision {
    const decisions = [...this.links.values()].map((link) => link.wake(signal, sleptMs));
    return decisions[0] ?? 'nothing';
  }

  /** Opens connections to known edges not in use until `ha` are held. */
  private fill(): void {
    // A stopping agent opens no connection: one to an edge would register its tunnels there again.
    if (this.stateValue === AgentState.Closed || this.draining) return;
    const target = Math.min(this.options.ha ?? (this.known.length > 1 ? 2 : 1), this.known.length);
    for (const edge of this.known) {
      if (this.links.size >= target) break;
      if (!this.links.has(edge) && !this.justLeft(edge)) this.connect(edge);
    }
    this.reportState();
  }

  private connect(edge: string): void {
    const { ha: _ha, servers: _servers, ...shared } = this.options;
    const link = new TunnelAgent({
      ...shared,
      server: edge,
      agentId: this.agentId,
      exchanges: this.exchanges,
      tunnels: this.specs.filter((spec) => spec.name !== undefined || this.namer === undefined),
      // Wakes and network changes are noticed once, here, for every connection.
      wakeDetection: false,
      networkWatch: false,
    });
    this.namer ??= edge;
    this.links.set(edge, link);
    const current = (): boolean => this.links.get(edge) === link;
    link.on('state', (state, detail) => current() && this.linkState(edge, link, state, detail));
    link.on('tunnel-live', (tunnel) => current() && this.tunnelLive(edge, tunnel));
    link.on('tunnel-error', (name, code, message, id) => current() && this.tunnelError(edge, name, code, message, id));
    link.on('cluster-edges', (edges) => current() && this.learn(edges));
    link.on('fatal', (error) => {
      if (!current()) return;
      this.stop();
      this.emit('fatal', error);
    });
    link.on('round-trip', (ms) => current() && this.emit('round-trip', ms));
    link.on('data-stream', (event, detail) => current() && this.emit('data-stream', event, `${edge}: ${detail}`));
    link.on('wake', (signal, decision) => current() && this.emit('wake', signal, decision));
    link.on('probe', (alive) => current() && this.emit('probe', alive));
    link.start();
  }

  private learn(edges: string[]): void {
    const before = this.known.length;
    for (const edge of edges) if (!this.known.includes(edge)) this.known.push(edge);
    if (this.known.length !== before) this.fill();
  }

  private linkState(edge: string, link: TunnelAgent, state: AgentState, detail: string): void {
    if (state === AgentState.Backoff && this.known.some((other) => !this.links.has(other) && !this.justLeft(other))) {
      // Lost (or not reached): move to an edge not in use; this one goes to the back of the list.
      this.movedAwayAt.set(edge, Date.now());
      link.stop();
      this.links.delete(edge);
      if (this.namer === edge) this.handOverNaming();
      this.known.splice(this.known.indexOf(edge), 1);
      this.known.push(edge);
      for (const [id, edges] of this.liveOn) if (edges.delete(edge) && edges.size === 0) this.tunnelGone(id, `lost ${edge}: ${detail}`);
      this.fill();
      return;
    }
    this.reportState(detail);
  }

  /** A connection moved away from `edge` within movedAwayMs. */
  private justLeft(edge: string): boolean {
    const at = this.movedAwayAt.get(edge);
    return at !== undefined && Date.now() - at < movedAwayMs;
  }

  /** The edge naming tunnels is gone: another one is asked for the tunnels still without a name. */
  private handOverNaming(): void {
    const [next] = this.links;
    this.namer = next?.[0];
    if (next === undefined) return;
    for (const spec of this.specs) if (spec.name === undefined && !next[1].hasTunnel(spec.id!)) next[1].addTunnel(spec);
  }

  private tunnelLive(edge: string, tunnel: LiveTunnel): void {
    const spec = this.specs.find((each) => each.id === tunnel.id);
    if (spec === undefined) return;
    this.targets.set(tunnel.name, parseLocalTarget(spec.target));
    if (spec.name === undefined) {
      // Named by its first edge: every other edge is asked for the same name.
      spec.name = tunnel.name;
      for (const [other, link] of this.links) if (other !== edge && !link.hasTunnel(spec.id!)) link.addTunnel(spec);
    }
    const edges = this.liveOn.get(tunnel.id) ?? new Set<string>();
    this.liveOn.set(tunnel.id, edges);
    const first = edges.size === 0;
    edges.add(edge);
    this.live.set(tunnel.id, tunnel);
    if (first) this.emit('tunnel-live', tunnel);
    this.reportState();
  }

  private tunnelError(edge: string, name: string, code: string, message: string, id: string): void {
    const edges = this.liveOn.get(id);
    edges?.delete(edge);
    // Still served by another edge: nothing the user needs to hear.
    if (code === ErrorCode.TunnelOffline && edges !== undefined && edges.size > 0) return;
    if (code === ErrorCode.TunnelOffline) this.forgetLive(id);
    this.emit('tunnel-error', name, code, message, id);
  }

  private tunnelGone(id: string, why: string): void {
    const tunnel = this.forgetLive(id);
    if (tunnel !== undefined) this.emit('tunnel-error', tunnel.name, ErrorCode.TunnelOffline, why, id);
  }

  /** A tunnel no edge serves any more: requests for its name are refused here too. */
  private forgetLive(id: string): LiveTunnel | undefined {
    const tunnel = this.live.get(id);
    this.live.delete(id);
    if (tunnel !== undefined) this.targets.delete(tunnel.name);
    return tunnel;
  }

  /** The agent's state is its best connection's: ready while any edge is. */
  private reportState(detail?: string): void {
    if (this.stateValue === AgentState.Closed) return;
    const states = [...this.links.values()].map((link) => link.state);
    const edges = this.connectedEdges;
    if (states.includes(AgentState.Ready)) {
      this.setState(AgentState.Ready, edges.length > 1 ? `connected to ${edges.join(', ')}` : 'connected; all tunnels live');
    } else if (states.includes(AgentState.Connecting)) {
      this.setState(AgentState.Connecting, `connecting to ${[...this.links.keys()].join(', ')}`);
    } else if (states.includes(AgentState.Backoff)) {
      this.setState(AgentState.Backoff, detail ?? this.stateDetail);
    }
  }

  private setState(state: AgentState, detail: string): void {
    const edgesBefore = this.lastEdges;
    this.lastEdges = this.connectedEdges.join(',');
    if (this.lastEdges !== edgesBefore) this.emit('edges', this.connectedEdges);
    if (state === this.stateValue && detail === this.stateDetail) return;
    this.stateValue = state;
    this.stateDetail = detail;
    this.emit('state', state, detail);
  }

}
