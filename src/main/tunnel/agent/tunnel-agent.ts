// The tunnel agent: keeps a control stream and a data stream open to the
// server, registers tunnels and forwards each public request to its local
// service. Reconnects with jittered backoff; only a rejected token is final.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { ConfigSync, TunnelMessage, TunnelServiceClient } from '../../gen/burrow/v1/tunnel.js';
import type { TrafficEvent } from '../../../shared/traffic.js';
import { defaultConfigSync, grpcChannelOptions } from '../config.js';
import { ErrorCode, BurrowError } from '../errors.js';
import { installInPlaceFraming } from '../patches/grpc-in-place-framing.js';
import { controlMessage } from '../messages.js';
import { TunnelClient } from '../tunnel-codec.js';
import { Backoff, defaultBackoff, type BackoffOptions } from './backoff.js';
import { LocalExchanges, type DataLink } from './local-exchanges.js';
import { AgentState, canMove } from './agent-state.js';
import { channelCredentials, describeGrpcError, isCertificateProblem, tokenMetadata, type AgentTls } from './server-connection.js';
import { TunnelRegistrations, type LiveTunnel, type TunnelSpec } from './tunnel-registrations.js';

export { AgentState } from './agent-state.js';
export type { AgentTls } from './server-connection.js';
export type { LiveTunnel, TunnelProtocol, TunnelSpec } from './tunnel-registrations.js';

type Stream = grpc.ClientDuplexStream<TunnelMessage, TunnelMessage>;

export interface TunnelAgentOptions {
  /** host:port of the server's control port. */
  server: string;
  token?: string;
  /** Connect over TLS; absent means cleartext. */
  tls?: AgentTls;
  tunnels: TunnelSpec[];
  backoff?: Partial<BackoffOptions>;
  /** Give up on an attempt that has no Welcome after this long. */
  connectTimeoutMs?: number;
}

export interface TunnelAgentEvents {
  state: [state: AgentState, detail: string];
  'tunnel-live': [tunnel: LiveTunnel];
  'tunnel-error': [name: string, code: string, message: string, id: string];
  traffic: [event: TrafficEvent];
  /** The agent cannot go on (e.g. the token was rejected); it is closed. */
  fatal: [error: BurrowError];
}

export class TunnelAgent extends EventEmitter<TunnelAgentEvents> {
  readonly agentId = randomUUID();
  private stateValue = AgentState.Idle;
  private readonly backoff: Backoff;
  private readonly tunnels: TunnelRegistrations;
  private readonly exchanges: LocalExchanges;
  private client: TunnelServiceClient | undefined;
  private control: Stream | undefined;
  private proxy: Stream | undefined;
  private config: ConfigSync = defaultConfigSync;
  private sessionId = '';
  private timers = new Set<NodeJS.Timeout>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private attempt = 0;

  constructor(private readonly options: TunnelAgentOptions) {
    super();
    this.backoff = new Backoff({ ...defaultBackoff, ...options.backoff });
    this.tunnels = new TunnelRegistrations(options.tunnels);
    this.exchanges = new LocalExchanges(
      (name) => this.tunnels.targetOf(name),
      (event) => this.emit('traffic', event),
    );
    installInPlaceFraming();
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
    this.connect();
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
    if (name !== undefined) this.control?.write(controlMessage({ $case: 'unregisterTunnel', value: { name } }));
    return true;
  }

  stop(): void {
    if (this.stateValue === AgentState.Closed) return;
    this.setState(AgentState.Closed, 'stopped');
    this.teardown('agent stopped');
    this.exchanges.close();
  }

  private setState(next: AgentState, detail: string): void {
    if (!canMove(this.stateValue, next)) return;
    this.stateValue = next;
    this.emit('state', next, detail);
  }

  private connect(): void {
    this.setState(AgentState.Connecting, `connecting to ${this.options.server}`);
    const attempt = ++this.attempt;
    const client = new TunnelClient(this.options.server, channelCredentials(this.options.tls), grpcChannelOptions);
    this.client = client;
    const control = client.controlStream(tokenMetadata(this.options.token));
    this.control = control;
    const welcomeTimer = this.timer(this.options.connectTimeoutMs ?? 10_000, () =>
      this.connectionLost(attempt, `no answer from ${this.options.server} in time`),
    );
    control.on('data', (message: TunnelMessage) => {
      this.noteControlActivity(attempt);
      this.onControlMessage(attempt, message, welcomeTimer);
    });
    control.on('error', (error: grpc.ServiceError) => {
      if (error.code === grpc.status.UNAUTHENTICATED) {
        this.stop();
        this.emit('fatal', new BurrowError(ErrorCode.Unauthenticated, `authentication failed: ${error.details}`));
        return;
      }
      if (this.options.tls !== undefined && !this.options.tls.insecure && isCertificateProblem(error)) {
        // Retrying cannot fix a certificate we do not trust.
        this.stop();
        this.emit(
          'fatal',
          new BurrowError(
            ErrorCode.TlsVerification,
            `TLS verification of ${this.options.server} failed: ${error.details} (trust its certificate with --ca FILE, or skip the check with --insecure)`,
          ),
        );
        return;
      }
      this.connectionLost(attempt, describeGrpcError(error, this.options.server));
    });
    control.on('end', () => this.connectionLost(attempt, 'the server closed the control stream'));
    control.write(controlMessage({ $case: 'hello', value: { agentId: this.agentId, version: '1' } }));
  }

  private onControlMessage(attempt: number, message: TunnelMessage, welcomeTimer: NodeJS.Timeout): void {
    if (attempt !== this.attempt) return;
    const payload = message.payload;
    switch (payload?.$case) {
      case 'welcome': {
        this.clearTimer(welcomeTimer);
        this.sessionId = payload.value.sessionId;
        this.applyConfig(payload.value.config ?? defaultConfigSync);
        this.backoff.reset();
        this.openProxy(attempt);
        return;
      }
      case 'configSync':
        this.applyConfig(payload.value);
        return;
      case 'tunnelRegistered': {
        // The server echoes the registration's request_id.
        const live = this.tunnels.registered(message.requestId, payload.value);
        if (live === undefined) return;
        this.emit('tunnel-live', live);
        this.readyIfAllLive();
        return;
      }
      case 'error': {
        const { id, name } = this.tunnels.refused(message.requestId, payload.value.subject);
        this.emit('tunnel-error', name, payload.value.code, payload.value.message, id);
        return;
      }
      case 'heartbeat':
        return;
      default:
        return;
    }
  }

  private applyConfig(config: ConfigSync): void {
    this.config = config;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      this.control?.write(controlMessage({ $case: 'heartbeat', value: { sentAtUnixMs: BigInt(Date.now()) } }));
    }, config.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  private noteControlActivity(attempt: number): void {
    if (attempt !== this.attempt) return;
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(
      () => this.connectionLost(attempt, `no heartbeat from the server in ${this.config.heartbeatTimeoutMs} ms`),
      this.config.heartbeatTimeoutMs,
    );
    this.watchdog.unref();
  }

  private openProxy(attempt: number): void {
    if (attempt !== this.attempt || this.client === undefined) return;
    const metadata = tokenMetadata(this.options.token);
    metadata.set('burrow-session', this.sessionId);
    const proxy = this.client.proxy(metadata);
    this.proxy = proxy;
    let registered = false;
    // The server sends headers once the stream is attached to our session:
    // only then can public requests reach us, so only then register.
    proxy.once('metadata', () => {
      registered = true;
      this.registerTunnels();
      this.readyIfAllLive();
    });
    const config = this.config;
    const link: DataLink = {
      send: (message) => {
        if (this.proxy !== proxy) return false;
        proxy.write(message);
        return true;
      },
      windowBytes: config.initialWindowBytes,
      maxWebSocketMessageBytes: config.maxWebsocketMessageBytes || defaultConfigSync.maxWebsocketMessageBytes,
    };
    proxy.on('data', (message: TunnelMessage) => this.exchanges.receive(message, link));
    const lost = (why: string): void => {
      if (this.proxy !== proxy) return;
      this.proxy = undefined;
      this.exchanges.abortAll(ErrorCode.DataStreamLost, `data stream lost: ${why}`);
      if (attempt !== this.attempt || this.stateValue === AgentState.Closed) return;
      // The control stream is still up: reopen only the data stream.
      this.timer(registered ? 100 : this.backoff.next(), () => this.openProxy(attempt));
    };
    proxy.on('error', (error: grpc.ServiceError) => lost(error.details || error.message));
    proxy.on('end', () => lost('closed by the server'));
  }

  /** Ready once connected with every tunnel registered (an agent with none is ready at once). */
  private readyIfAllLive(): void {
    if (this.stateValue === AgentState.Connecting && this.tunnels.allLive) {
      this.setState(AgentState.Ready, 'connected; all tunnels live');
    }
  }

  private registerTunnels(): void {
    for (const { key, request } of this.tunnels.takeUnregistered()) {
      this.control?.write(controlMessage({ $case: 'registerTunnel', value: request }, key));
    }
  }

  private connectionLost(attempt: number, why: string): void {
    if (attempt !== this.attempt || this.stateValue === AgentState.Closed || this.stateValue === AgentState.Backoff) return;
    this.teardown(why);
    const delay = this.backoff.next();
    this.setState(AgentState.Backoff, `${why}; retrying in ${(delay / 1000).toFixed(1)}s`);
    this.timer(delay, () => {
      if (this.stateValue === AgentState.Backoff) this.connect();
    });
  }

  /** Drops both streams and everything riding on them. */
  private teardown(why: string): void {
    this.attempt++;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.watchdog);
    for (const live of this.tunnels.reset()) this.emit('tunnel-error', live.name, ErrorCode.TunnelOffline, why, live.id);
    this.exchanges.abortAll(ErrorCode.DataStreamLost, why);
    const { control, proxy, client } = this;
    this.control = this.proxy = this.client = undefined;
    proxy?.cancel();
    control?.cancel();
    client?.close();
  }

  private timer(ms: number, run: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      run();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimer(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }
}
