// The tunnel agent: keeps a control stream and a data stream open to the
// server, registers tunnels and forwards each public request to its local
// service. Reconnects with jittered backoff; only a rejected token is final.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import {
  ProtocolType,
  type TunnelServiceClient,
  type ConfigSync,
  type RequestHead,
  type TunnelMessage,
} from '../../gen/burrow/v1/tunnel.js';
import type { TrafficEvent } from '../../../shared/traffic.js';
import { defaultConfigSync, grpcChannelOptions } from '../config.js';
import { ErrorCode, TunnelError } from '../errors.js';
import { installInPlaceFraming } from '../grpc-in-place-framing.js';
import { controlMessage, resetMessage } from '../messages.js';
import { TunnelClient } from '../tunnel-codec.js';
import { Backoff, defaultBackoff, type BackoffOptions } from './backoff.js';
import type { DataLink, LocalExchange } from './data-link.js';
import { Http2SessionPool } from './http2-session-pool.js';
import { LocalGrpcExchange } from './local-grpc-exchange.js';
import { LocalHttpExchange } from './local-http-exchange.js';
import { LocalHttpPools } from './local-http-pools.js';
import { LocalWebSocketExchange } from './local-websocket-exchange.js';
import { formatLocalTarget, parseLocalTarget, type LocalTarget } from './local-target.js';

type Stream = grpc.ClientDuplexStream<TunnelMessage, TunnelMessage>;

/** Connection lifecycle; transitions are guarded in setState. */
export enum AgentState {
  Idle = 'idle',
  Connecting = 'connecting',
  Ready = 'ready',
  Backoff = 'backoff',
  Closed = 'closed',
}

const allowedTransitions: Record<AgentState, AgentState[]> = {
  [AgentState.Idle]: [AgentState.Connecting, AgentState.Closed],
  [AgentState.Connecting]: [AgentState.Ready, AgentState.Backoff, AgentState.Closed],
  [AgentState.Ready]: [AgentState.Backoff, AgentState.Closed],
  [AgentState.Backoff]: [AgentState.Connecting, AgentState.Closed],
  [AgentState.Closed]: [],
};

export type TunnelProtocol = 'http' | 'grpc';

export interface TunnelSpec {
  /** Stable identity for events; generated when absent. */
  id?: string;
  /** Requested name; the server picks one when absent. */
  name?: string;
  protocol: TunnelProtocol;
  /** "PORT" or "HOST:PORT" of the local service. */
  target: string;
}

export interface LiveTunnel {
  id: string;
  name: string;
  publicUrl: string;
  protocol: TunnelProtocol;
  target: string;
}

export interface AgentTls {
  /** PEM certificate(s) to trust instead of the system's roots (e.g. a self-signed server's). */
  ca?: string;
  /** Skip verifying the server's certificate (encrypted, but anyone could be answering). */
  insecure?: boolean;
}

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
  fatal: [error: TunnelError];
}

interface TunnelRecord {
  /** Correlates RegisterTunnel with its answer. */
  key: string;
  spec: TunnelSpec;
  target: LocalTarget;
  /** Name the server assigned; reused on reconnect so the public URL stays. */
  assignedName?: string;
  live?: LiveTunnel;
  /** A RegisterTunnel is awaiting its answer on the current connection. */
  registering?: boolean;
}

export class TunnelAgent extends EventEmitter<TunnelAgentEvents> {
  readonly agentId = randomUUID();
  private stateValue = AgentState.Idle;
  private readonly backoff: Backoff;
  private readonly records: TunnelRecord[];
  private readonly exchanges = new Map<string, LocalExchange>();
  private readonly httpPools = new LocalHttpPools();
  private readonly http2Sessions = new Http2SessionPool();
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
    this.records = options.tunnels.map((spec) => this.recordFor(spec));
  }

  get state(): AgentState {
    return this.stateValue;
  }

  get liveTunnels(): LiveTunnel[] {
    return this.records.flatMap((r) => (r.live === undefined ? [] : [r.live]));
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
    const record = this.recordFor(spec);
    if (this.records.some((r) => r.key === record.key)) throw new Error(`a tunnel with id ${record.key} exists`);
    this.records.push(record);
    if (this.proxy !== undefined) this.registerTunnels();
    return record.key;
  }

  /** Removes a tunnel: the server forgets it and its requests in flight end. */
  removeTunnel(id: string): boolean {
    const index = this.records.findIndex((r) => r.key === id);
    if (index < 0) return false;
    const [record] = this.records.splice(index, 1);
    const name = record.live?.name ?? record.assignedName;
    if (name !== undefined) this.control?.write(controlMessage({ $case: 'unregisterTunnel', value: { name } }));
    return true;
  }

  private recordFor(spec: TunnelSpec): TunnelRecord {
    return { key: spec.id ?? randomUUID(), spec, target: parseLocalTarget(spec.target) };
  }

  stop(): void {
    if (this.stateValue === AgentState.Closed) return;
    this.setState(AgentState.Closed, 'stopped');
    this.teardown('agent stopped');
    this.httpPools.close();
    this.http2Sessions.close();
  }

  private setState(next: AgentState, detail: string): void {
    if (!allowedTransitions[this.stateValue].includes(next)) return;
    this.stateValue = next;
    this.emit('state', next, detail);
  }

  private connect(): void {
    this.setState(AgentState.Connecting, `connecting to ${this.options.server}`);
    const attempt = ++this.attempt;
    installInPlaceFraming();
    const client = new TunnelClient(this.options.server, this.credentials(), grpcChannelOptions);
    this.client = client;
    const control = client.controlStream(this.metadata());
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
        this.emit('fatal', new TunnelError(ErrorCode.Unauthenticated, `authentication failed: ${error.details}`));
        return;
      }
      if (this.options.tls !== undefined && !this.options.tls.insecure && certificateProblem.test(error.details)) {
        // Retrying cannot fix a certificate we do not trust.
        this.stop();
        this.emit(
          'fatal',
          new TunnelError(
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
        const record = this.records.find((r) => r.key === message.requestId);
        if (record === undefined) return;
        record.registering = false;
        record.assignedName = payload.value.name;
        record.live = {
          id: record.key,
          name: payload.value.name,
          publicUrl: payload.value.publicUrl,
          protocol: record.spec.protocol,
          target: formatLocalTarget(record.target),
        };
        this.emit('tunnel-live', record.live);
        this.readyIfAllLive();
        return;
      }
      case 'error': {
        const record = this.records.find((r) => r.key === message.requestId);
        if (record !== undefined) record.registering = false;
        const name = record?.spec.name ?? record?.assignedName ?? payload.value.subject;
        this.emit('tunnel-error', name, payload.value.code, payload.value.message, record?.key ?? '');
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
    const metadata = this.metadata();
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
    proxy.on('data', (message: TunnelMessage) => this.onProxyMessage(message));
    const lost = (why: string): void => {
      if (this.proxy !== proxy) return;
      this.proxy = undefined;
      this.abortExchanges(ErrorCode.DataStreamLost, `data stream lost: ${why}`);
      if (attempt !== this.attempt || this.stateValue === AgentState.Closed) return;
      // The control stream is still up: reopen only the data stream.
      this.timer(registered ? 100 : this.backoff.next(), () => this.openProxy(attempt));
    };
    proxy.on('error', (error: grpc.ServiceError) => lost(error.details || error.message));
    proxy.on('end', () => lost('closed by the server'));
  }

  /** Ready once connected with every tunnel registered (an agent with none is ready at once). */
  private readyIfAllLive(): void {
    if (this.stateValue === AgentState.Connecting && this.records.every((r) => r.live !== undefined)) {
      this.setState(AgentState.Ready, 'connected; all tunnels live');
    }
  }

  private registerTunnels(): void {
    for (const record of this.records) {
      if (record.live !== undefined || record.registering) continue;
      record.registering = true;
      this.control?.write(
        controlMessage(
          {
            $case: 'registerTunnel',
            value: {
              name: record.spec.name ?? record.assignedName ?? '',
              protocol: record.spec.protocol === 'grpc' ? ProtocolType.PROTOCOL_TYPE_GRPC : ProtocolType.PROTOCOL_TYPE_HTTP,
              target: formatLocalTarget(record.target),
            },
          },
          record.key,
        ),
      );
    }
  }

  private onProxyMessage(message: TunnelMessage): void {
    const existing = this.exchanges.get(message.requestId);
    if (existing !== undefined) {
      existing.onServerMessage(message);
      return;
    }
    const payload = message.payload;
    if (payload?.$case === 'requestHead') {
      this.startExchange(message.requestId, message.protocolType, payload.value);
    }
    // Anything else is a late message for a request that already ended.
  }

  private startExchange(requestId: string, protocol: ProtocolType, head: RequestHead): void {
    const record = this.records.find((r) => r.live?.name === head.tunnel);
    if (record === undefined) {
      this.proxy?.write(resetMessage(requestId, protocol, ErrorCode.NoTunnel, `this agent has no tunnel ${head.tunnel}`));
      return;
    }
    const link: DataLink = {
      send: (message) => this.proxy?.write(message),
      traffic: (event) => this.emit('traffic', event),
      windowBytes: this.config.initialWindowBytes,
    };
    const done = (): boolean => this.exchanges.delete(requestId);
    let exchange: LocalHttpExchange | LocalWebSocketExchange | LocalGrpcExchange;
    switch (protocol) {
      case ProtocolType.PROTOCOL_TYPE_WEBSOCKET:
        exchange = new LocalWebSocketExchange(requestId, head, record.target, link, done);
        break;
      case ProtocolType.PROTOCOL_TYPE_GRPC:
        exchange = new LocalGrpcExchange(requestId, head, record.target, link, this.http2Sessions, done);
        break;
      case ProtocolType.PROTOCOL_TYPE_HTTP:
        exchange = new LocalHttpExchange(requestId, head, record.target, link, this.httpPools, done);
        break;
      default:
        this.proxy?.write(resetMessage(requestId, protocol, ErrorCode.Protocol, `unsupported protocol ${protocol}`));
        return;
    }
    this.exchanges.set(requestId, exchange);
    try {
      exchange.start();
    } catch (error) {
      // A head the local client refuses (say, a method Node cannot send) fails this request only.
      exchange.abort(ErrorCode.LocalFailed, `could not forward the request: ${(error as Error).message}`);
      this.proxy?.write(resetMessage(requestId, protocol, ErrorCode.LocalFailed, `could not forward the request: ${(error as Error).message}`));
    }
  }

  private abortExchanges(code: string, message: string): void {
    for (const exchange of [...this.exchanges.values()]) exchange.abort(code, message);
    this.exchanges.clear();
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
    for (const record of this.records) {
      if (record.live !== undefined) this.emit('tunnel-error', record.live.name, ErrorCode.TunnelOffline, why, record.key);
      record.live = undefined;
      record.registering = false;
    }
    this.abortExchanges(ErrorCode.DataStreamLost, why);
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

  private credentials(): grpc.ChannelCredentials {
    const tls = this.options.tls;
    if (tls === undefined) return grpc.credentials.createInsecure();
    return grpc.credentials.createSsl(tls.ca ? Buffer.from(tls.ca) : null, null, null, tls.insecure ? { rejectUnauthorized: false } : {});
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.options.token) metadata.set('authorization', `Bearer ${this.options.token}`);
    return metadata;
  }
}

/** What grpc-js reports when the server's certificate is not trusted or does not match. */
const certificateProblem = /certificate|self[- ]signed|altname|CERT_|unable to verify/i;

function describeGrpcError(error: grpc.ServiceError, server: string): string {
  if (error.code === grpc.status.UNAVAILABLE) return `cannot reach the server at ${server} (${error.details})`;
  return `control stream failed: ${error.details || error.message}`;
}
