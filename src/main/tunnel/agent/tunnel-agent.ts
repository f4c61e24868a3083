// The tunnel agent: keeps a control stream and a data stream open to the
// server, registers tunnels and forwards each public request to its local
// service. Reconnects with jittered backoff, at once after a wake or a
// network change that broke the connection; only a rejected token or an
// untrusted certificate is final.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { TunnelServiceClient } from '../../gen/burrow/v1/tunnel.js';
import type { TrafficEvent } from '../../../shared/traffic.js';
import { settledWithin } from '../bounded-waits.js';
import { defaultConfigSync, grpcChannelOptions, keepaliveOptions } from '../config.js';
import { ownConnectionOption } from '../data-direction.js';
import { ClientSockets } from '../patches/grpc-client-sockets.js';
import { ErrorCode, type BurrowError } from '../errors.js';
import { installGatheredReceive } from '../patches/grpc-gathered-receive.js';
import { installReleasedSubchannelIdle } from '../patches/grpc-released-subchannel.js';
import { installInPlaceFraming } from '../patches/grpc-in-place-framing.js';
import { TunnelClient } from '../tunnel-codec.js';
import { AgentState, canMove } from './agent-state.js';
import { Backoff, defaultBackoff, type BackoffOptions } from './backoff.js';
import { ControlStream } from './control-stream.js';
import { DataStream } from './data-stream.js';
import { LocalExchanges } from './local-exchanges.js';
import type { NetworkWatcherOptions } from './network-watcher.js';
import { channelCredentials, tokenMetadata, type AgentTls } from './server-connection.js';
import { TunnelRegistrations, type LiveTunnel, type TunnelSpec } from './tunnel-registrations.js';
import type { WakeDetectorOptions } from './wake-detector.js';
import { WakeWatch } from './wake-watch.js';
import { decideOnWake, type WakeDecision, type WakeSignal } from './wake-policy.js';

export { AgentState } from './agent-state.js';
export type { AgentTls } from './server-connection.js';
export type { LiveTunnel, TunnelProtocol, TunnelSpec } from './tunnel-registrations.js';
export type { WakeDecision, WakeSignal } from './wake-policy.js';

export interface TunnelAgentOptions {
  /** host:port of the server's control port. */
  server: string;
  /** Who this agent is to the edges (random by default); connections of one agent to several edges share it. */
  agentId?: string;
  token?: string;
  /** Connect over TLS; absent means cleartext. */
  tls?: AgentTls;
  tunnels: TunnelSpec[];
  backoff?: Partial<BackoffOptions>;
  /** Give up on an attempt that has no Welcome after this long. */
  connectTimeoutMs?: number;
  /** Notice a suspend by timer drift (on by default); false when only the app reports wakes. */
  wakeDetection?: WakeDetectorOptions | false;
  /** Notice network changes by the interfaces' addresses (on by default). */
  networkWatch?: NetworkWatcherOptions | false;
  /** Local exchanges shared with the agent's connections to other edges (see multi-edge-agent.ts); its own otherwise. */
  exchanges?: LocalExchanges;
}

export interface TunnelAgentEvents {
  state: [state: AgentState, detail: string];
  'tunnel-live': [tunnel: LiveTunnel];
  'tunnel-error': [name: string, code: string, message: string, id: string];
  traffic: [event: TrafficEvent];
  /** The agent cannot go on (e.g. the token was rejected); it is closed. */
  fatal: [error: BurrowError];
  /** A heartbeat round trip to the server, in milliseconds. */
  'round-trip': [ms: number];
  /** The data stream opened (attached to the session) or broke, the control stream staying up. */
  'data-stream': [event: 'open' | 'lost', detail: string];
  /** A wake, unlock or network change, and what the agent did about it. */
  wake: [signal: WakeSignal, decision: WakeDecision];
  /** Whether the server answered the heartbeat a wake asked for (if not, the agent reconnects). */
  probe: [alive: boolean];
  /** The edge is one of a cluster: the control addresses of its live edges (after Welcome, and as they change). */
  'cluster-edges': [edges: string[]];
}

/** How soon a registration the cluster could not answer is asked again (jittered up to twice this). */
const registrationRetryMs = 1_000;

export class TunnelAgent extends EventEmitter<TunnelAgentEvents> {
  readonly agentId: string;
  private stateValue = AgentState.Idle;
  private readonly backoff: Backoff;
  private readonly tunnels: TunnelRegistrations;
  private readonly exchanges: LocalExchanges;
  private readonly ownsExchanges: boolean;
  private readonly wakeWatch: WakeWatch;
  private client: TunnelServiceClient | undefined;
  /**
   * The same server through a connection of its own, for the data stream's
   * uplink; none once that connection reached a server that does not know our
   * session (then one call carries both directions until the next connection).
   */
  private uplinkClient: TunnelServiceClient | undefined;
  /** The sockets of this agent's clients, cut when the server falls silent (those of an older connection still closing too). */
  private readonly sockets = new ClientSockets();
  private control: ControlStream | undefined;
  private proxy: DataStream | undefined;
  private sessionId = '';
  private readonly timers = new Set<NodeJS.Timeout>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** withdraw() was called: no tunnel is registered from now on. */
  private withdrawn = false;
  /** Tunnels withdraw() unregistered, until the server says it has forgotten them. */
  private readonly unregistering = new Map<string, () => void>();
  /** Bumped by each teardown: callbacks of an older connection compare and stand down. */
  private attempt = 0;

  constructor(private readonly options: TunnelAgentOptions) {
    super();
    this.agentId = options.agentId ?? randomUUID();
    this.backoff = new Backoff({ ...defaultBackoff, ...options.backoff });
    this.tunnels = new TunnelRegistrations(options.tunnels);
    this.ownsExchanges = options.exchanges === undefined;
    this.exchanges =
      options.exchanges ??
      new LocalExchanges(
        (name) => this.tunnels.targetOf(name),
        (event) => this.emit('traffic', event),
      );
    installInPlaceFraming();
    installGatheredReceive();
    installReleasedSubchannelIdle();
    this.wakeWatch = new WakeWatch(options, (signal, sleptMs) => this.wake(signal, sleptMs));
  }

  get state(): AgentState {
    return this.stateValue;
  }

  get liveTunnels(): LiveTunnel[] {
    return this.tunnels.live;
  }

  /** Requests being forwarded right now. */
  get inflightRequests(): number {
    return this.exchanges.size;
  }

  start(): void {
    if (this.stateValue !== AgentState.Idle) return;
    this.wakeWatch.start();
    this.connect();
  }

  stop(): void {
    if (this.stateValue === AgentState.Closed) return;
    this.setState(AgentState.Closed, 'stopped');
    this.wakeWatch.stop();
    this.teardown('agent stopped');
    if (this.ownsExchanges) this.exchanges.close();
  }

  /**
   * The agent is stopping and lets requests under way finish: the server is
   * told to send no new ones (its tunnels are offline there from now on), and
   * none is registered again should the connection come back. Resolves once
   * the server says every request it sent is here, or after `waitMs`.
   */
  async withdraw(waitMs: number): Promise<void> {
    this.withdrawn = true;
    const { control } = this;
    if (control === undefined || this.proxy === undefined) return;
    // Each answered on the data stream behind the last request for it: past that, none is on its way here.
    const answered = this.tunnels.live.map(({ name }) => {
      control.write({ $case: 'unregisterTunnel', value: { name } });
      return new Promise<void>((resolve) => this.unregistering.set(name, resolve));
    });
    // An edge from before that answer is waited for a little, as one whose connection breaks meanwhile.
    await settledWithin(Promise.all(answered), waitMs);
    this.unregistering.clear();
  }

  /** Stops once what its data stream has queued has left (within `waitMs`). */
  async finish(waitMs: number): Promise<void> {
    await this.proxy?.finish(waitMs);
    this.stop();
  }

  hasTunnel(id: string): boolean {
    return this.tunnels.has(id);
  }

  /** Adds a tunnel; registered at once when connected. Returns its id. */
  addTunnel(spec: TunnelSpec): string {
    const id = this.tunnels.add(spec);
    if (this.proxy !== undefined) this.registerTunnels();
    return id;
  }

  /** Removes a tunnel: the server forgets it and its requests in flight end. */
  removeTunnel(id: string): boolean {
    const name = this.tunnels.remove(id);
    if (name === false) return false;
    if (name !== undefined) this.control?.write({ $case: 'unregisterTunnel', value: { name } });
    return true;
  }

  /**
   * The machine woke, the screen unlocked or the network changed: find out
   * at once whether the connection survived, rather than when heartbeats
   * time out. Returns what the agent does (see wake-policy.ts).
   */
  wake(signal: WakeSignal, sleptMs = 0): WakeDecision {
    const heartbeatTimeoutMs = (this.control?.config ?? { heartbeatTimeoutMs: 0 }).heartbeatTimeoutMs;
    const decision = decideOnWake({ state: this.stateValue, signal, sleptMs, heartbeatTimeoutMs });
    this.emit('wake', signal, decision);
    const { attempt, control } = this;
    if (decision === 'reconnect-now') {
      this.reconnectNow(attempt, `${describeWake(signal)}: the server has dropped this session by now`);
    } else if (decision === 'retry-now') {
      this.clearTimer(this.retryTimer);
      this.connect();
    } else if (decision === 'probe' && control !== undefined) {
      const waitMs = Math.min(3_000, heartbeatTimeoutMs);
      void control.probe(waitMs).then((alive) => {
        if (attempt !== this.attempt) return;
        this.emit('probe', alive);
        if (!alive) this.reconnectNow(attempt, `${describeWake(signal)}: no heartbeat answer in ${waitMs} ms`);
      });
    }
    return decision;
  }

  private setState(next: AgentState, detail: string): void {
    if (!canMove(this.stateValue, next)) return;
    this.stateValue = next;
    this.emit('state', next, detail);
  }

  private connect(): void {
    this.setState(AgentState.Connecting, `connecting to ${this.options.server}`);
    const attempt = ++this.attempt;
    const current = (): boolean => attempt === this.attempt;
    const credentials = this.sockets.watch(channelCredentials(this.options.tls));
    // The server's own heartbeat settings come only once connected: pings go by the defaults. Each
    // client has connections of its own (none shared with another agent's), so that they can be cut.
    const options = { ...grpcChannelOptions, ...keepaliveOptions(defaultConfigSync), ...ownConnectionOption };
    const client = new TunnelClient(this.options.server, credentials, options);
    this.client = client;
    this.uplinkClient = new TunnelClient(this.options.server, credentials, options);
    const { server, token, tls } = this.options;
    this.control = new ControlStream(client, { agentId: this.agentId, server, token, tls, connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000 }, {
      welcome: (sessionId) => {
        if (!current()) return;
        this.sessionId = sessionId;
        this.backoff.reset();
        this.openProxy(attempt);
      },
      registered: (key, answer) => {
        const live = current() ? this.tunnels.registered(key, answer) : undefined;
        if (live === undefined) return;
        this.emit('tunnel-live', live);
        this.readyIfAllLive();
      },
      refused: (key, error) => {
        if (!current()) return;
        const { id, name } = this.tunnels.refused(key, error.subject);
        this.emit('tunnel-error', name, error.code, error.message, id);
        // The edges cannot claim names for now (their shared state is out of reach): ask again soon.
        if (error.code === ErrorCode.ClusterUnavailable) this.timer(registrationRetryMs * (1 + Math.random()), () => current() && this.registerTunnels());
      },
      clusterEdges: (edges) => current() && this.emit('cluster-edges', edges),
      roundTrip: (ms) => current() && this.emit('round-trip', ms),
      lost: (why, silent) => this.connectionLost(attempt, why, silent),
      fatal: (error) => {
        if (!current()) return;
        this.stop();
        this.emit('fatal', error);
      },
    });
  }

  private openProxy(attempt: number): void {
    if (attempt !== this.attempt || this.client === undefined || this.control === undefined) return;
    const metadata = tokenMetadata(this.options.token);
    metadata.set('burrow-session', this.sessionId);
    let attached = false;
    const { config } = this.control;
    const proxy = new DataStream(this.client, config.takesUplink ? this.uplinkClient : undefined, metadata, config, this.exchanges, {
      // Only once attached can public requests reach us, so only then register.
      attached: () => {
        attached = true;
        this.emit('data-stream', 'open', 'attached to the session');
        this.registerTunnels();
        this.readyIfAllLive();
      },
      unregistered: (name) => this.unregistering.get(name)?.(),
      lost: (why, uplinkRefused) => {
        if (this.proxy !== proxy) return;
        this.proxy = undefined;
        this.exchanges.abortAll(ErrorCode.DataStreamLost, `data stream lost: ${why}`, proxy.link);
        if (attempt !== this.attempt || this.stateValue === AgentState.Closed) return;
        // A load balancer in front of several edges can send each connection to another: then the data stream takes only the first.
        if (uplinkRefused) {
          this.uplinkClient?.close();
          this.uplinkClient = undefined;
        }
        this.emit('data-stream', 'lost', uplinkRefused ? `${why} (the uplink's connection reached another server; both directions go on one connection now)` : why);
        // The control stream is still up: reopen only the data stream.
        this.timer(attached ? 100 : this.backoff.next(), () => this.openProxy(attempt));
      },
    });
    this.proxy = proxy;
  }

  /** Ready once connected with every tunnel registered (an agent with none is ready at once). */
  private readyIfAllLive(): void {
    if (this.stateValue === AgentState.Connecting && this.tunnels.allLive) {
      this.setState(AgentState.Ready, 'connected; all tunnels live');
    }
  }

  private registerTunnels(): void {
    if (this.withdrawn) return;
    for (const { key, request } of this.tunnels.takeUnregistered()) {
      this.control?.write({ $case: 'registerTunnel', value: request }, key);
    }
  }

  private connectionLost(attempt: number, why: string, silent: boolean): void {
    if (attempt !== this.attempt || this.stateValue === AgentState.Closed || this.stateValue === AgentState.Backoff) return;
    this.teardown(why, silent);
    const delay = this.backoff.next();
    this.setState(AgentState.Backoff, `${why}; retrying in ${(delay / 1000).toFixed(1)}s`);
    this.retryTimer = this.timer(delay, () => {
      if (this.stateValue === AgentState.Backoff) this.connect();
    });
  }

  /** Drops a connection that wake handling found dead, and connects again at once. */
  private reconnectNow(attempt: number, why: string): void {
    if (attempt !== this.attempt || this.stateValue !== AgentState.Ready) return;
    this.teardown(why, true);
    this.setState(AgentState.Backoff, `${why}; reconnecting now`);
    this.connect();
  }

  /** Drops both streams and everything riding on them; `cut`: their connections too, at once (a server gone silent). */
  private teardown(why: string, cut = false): void {
    this.attempt++;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const live of this.tunnels.reset()) this.emit('tunnel-error', live.name, ErrorCode.TunnelOffline, why, live.id);
    const { control, proxy, client, uplinkClient } = this;
    if (proxy !== undefined) this.exchanges.abortAll(ErrorCode.DataStreamLost, why, proxy.link);
    this.control = this.proxy = this.client = this.uplinkClient = undefined;
    proxy?.close();
    control?.close();
    client?.close();
    uplinkClient?.close();
    if (cut) this.sockets.cut();
  }

  private timer(ms: number, run: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      run();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimer(t: NodeJS.Timeout | undefined): void {
    if (t === undefined) return;
    clearTimeout(t);
    this.timers.delete(t);
  }
}

function describeWake(signal: WakeSignal): string {
  return { resume: 'woke from sleep', unlock: 'screen unlocked', 'network-change': 'network changed', 'clock-jump': 'was suspended' }[signal];
}
