// The tunnel server (the public edge): agents connect to its control port over
// gRPC; public clients reach their tunnels on the public port by Host name.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import {
  ProtocolType,
  TunnelServiceService,
  type ConfigSync,
  type RegisterTunnel,
  type TunnelMessage,
} from '../../gen/burrow/v1/tunnel.js';
import { defaultConfigSync, defaultServerLimits, grpcChannelOptions, type ServerLimits } from '../config.js';
import { ErrorCode } from '../errors.js';
import { controlMessage } from '../messages.js';
import { isValidTunnelName, randomTunnelName, tunnelNameFromHost } from '../tunnel-names.js';
import { AgentSession } from './agent-session.js';
import { respondWithError } from './public-errors.js';
import { PublicHttpExchange } from './public-http-exchange.js';
import { TokenAuth } from './token-auth.js';

type Call = grpc.ServerDuplexStream<TunnelMessage, TunnelMessage>;

export interface TunnelServerOptions {
  /** host:port for agents; port 0 picks a free one. */
  controlAddress: string;
  /** host:port for public traffic; port 0 picks a free one. */
  publicAddress: string;
  /** Tunnel NAME is served as NAME.DOMAIN. */
  domain: string;
  /** Accepted agent tokens; none means any agent may connect. */
  tokens?: readonly string[];
  limits?: Partial<ServerLimits>;
  config?: Partial<ConfigSync>;
}

interface TunnelEntry {
  session: AgentSession;
  protocol: ProtocolType;
  target: string;
}

export interface TunnelServerEvents {
  'agent-connected': [agentId: string];
  'agent-disconnected': [agentId: string, reason: string];
  'tunnel-registered': [name: string, publicUrl: string];
}

/** How many names of departed tunnels to remember, to answer 502 rather than 404. */
const rememberedOfflineNames = 10_000;

export class TunnelServer extends EventEmitter<TunnelServerEvents> {
  private readonly grpcServer = new grpc.Server(grpcChannelOptions);
  private readonly publicServer: HttpServer;
  private readonly auth: TokenAuth;
  private readonly limits: ServerLimits;
  private readonly config: ConfigSync;
  private readonly sessions = new Map<string, AgentSession>();
  private readonly tunnels = new Map<string, TunnelEntry>();
  private readonly offlineNames = new Set<string>();
  private inflight = 0;
  private boundControlPort = 0;
  private boundPublicPort = 0;

  constructor(private readonly options: TunnelServerOptions) {
    super();
    this.auth = new TokenAuth(options.tokens ?? []);
    this.limits = { ...defaultServerLimits, ...options.limits };
    this.config = { ...defaultConfigSync, ...options.config };
    this.grpcServer.addService(TunnelServiceService, {
      controlStream: (call: Call) => this.onControlStream(call),
      proxy: (call: Call) => this.onProxyStream(call),
    });
    this.publicServer = createServer({ keepAlive: true }, (req, res) => this.onPublicRequest(req, res));
    // Uploads and downloads may stream for a long time; the tunnel's own
    // timeouts decide when a request has stalled.
    this.publicServer.requestTimeout = 0;
  }

  get controlPort(): number {
    return this.boundControlPort;
  }

  get publicPort(): number {
    return this.boundPublicPort;
  }

  /** Number of public requests in flight (for tests and stats). */
  get inflightRequests(): number {
    return this.inflight;
  }

  get agentCount(): number {
    return this.sessions.size;
  }

  async start(): Promise<void> {
    this.boundControlPort = await new Promise<number>((resolve, reject) => {
      this.grpcServer.bindAsync(this.options.controlAddress, grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      );
    });
    const { host, port } = splitHostPort(this.options.publicAddress);
    await new Promise<void>((resolve, reject) => {
      this.publicServer.once('error', reject);
      this.publicServer.listen(port, host, () => {
        this.publicServer.off('error', reject);
        resolve();
      });
    });
    this.boundPublicPort = (this.publicServer.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const session of [...this.sessions.values()]) session.close('server stopping');
    await new Promise<void>((resolve) => {
      this.publicServer.close(() => resolve());
      this.publicServer.closeAllConnections();
    });
    await new Promise<void>((resolve) => this.grpcServer.tryShutdown(() => resolve()));
    this.grpcServer.forceShutdown();
  }

  publicUrl(name: string): string {
    const port = this.boundPublicPort === 80 ? '' : `:${this.boundPublicPort}`;
    return `http://${name}.${this.options.domain}${port}`;
  }

  /** Breaks an agent's data stream, leaving its control stream up (fault injection for tests). */
  dropDataStream(tunnel: string): boolean {
    const session = this.tunnels.get(tunnel)?.session;
    if (session === undefined) return false;
    session.dropDataStream();
    return true;
  }

  private onControlStream(call: Call): void {
    if (!this.auth.accepts(call.metadata)) {
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'the server rejected the token' });
      return;
    }
    let session: AgentSession | undefined;
    call.on('data', (message: TunnelMessage) => {
      const payload = message.payload;
      if (session === undefined) {
        if (payload?.$case !== 'hello') {
          call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: 'the first control message must be Hello' });
          return;
        }
        session = this.openSession(call, payload.value.agentId);
        return;
      }
      session.noteControlActivity();
      switch (payload?.$case) {
        case 'registerTunnel':
          this.register(session, payload.value, message.requestId);
          return;
        case 'unregisterTunnel':
          this.unregister(session, payload.value.name);
          return;
        case 'heartbeat':
          return;
        default:
          session.sendControl(
            controlMessage({
              $case: 'error',
              value: { code: ErrorCode.Protocol, message: `unexpected ${payload?.$case ?? 'empty'} control message`, subject: '' },
            }),
          );
      }
    });
    const ended = (): void => session?.close('control stream closed');
    call.on('end', ended);
    call.on('error', ended);
    call.on('cancelled', ended);
  }

  private openSession(call: Call, agentId: string): AgentSession {
    // A reconnecting agent replaces its own stale session (and keeps its names).
    for (const existing of this.sessions.values()) {
      if (existing.agentId === agentId) existing.close('agent reconnected');
    }
    const session = new AgentSession(randomUUID(), agentId, call, this.config, (closed, reason) => {
      this.sessions.delete(closed.id);
      for (const name of closed.tunnels) {
        if (this.tunnels.get(name)?.session === closed) {
          this.tunnels.delete(name);
          this.rememberOffline(name);
        }
      }
      this.emit('agent-disconnected', closed.agentId, reason);
    });
    this.sessions.set(session.id, session);
    session.sendControl(controlMessage({ $case: 'welcome', value: { sessionId: session.id, config: this.config } }));
    this.emit('agent-connected', agentId);
    return session;
  }

  private register(session: AgentSession, request: RegisterTunnel, correlationId: string): void {
    const name = request.name === '' ? randomTunnelName() : request.name.toLowerCase();
    const refuse = (code: string, message: string): void =>
      session.sendControl(controlMessage({ $case: 'error', value: { code, message, subject: request.name } }, correlationId));
    if (!isValidTunnelName(name)) {
      refuse(ErrorCode.BadName, `"${request.name}" is not a valid tunnel name (lowercase letters, digits and dashes, at most 63)`);
      return;
    }
    const owner = this.tunnels.get(name);
    if (owner !== undefined && owner.session !== session) {
      refuse(ErrorCode.NameTaken, `tunnel name "${name}" is already in use by another agent`);
      return;
    }
    this.tunnels.set(name, { session, protocol: request.protocol, target: request.target });
    this.offlineNames.delete(name);
    session.tunnels.add(name);
    const publicUrl = this.publicUrl(name);
    session.sendControl(controlMessage({ $case: 'tunnelRegistered', value: { name, publicUrl } }, correlationId));
    this.emit('tunnel-registered', name, publicUrl);
  }

  private unregister(session: AgentSession, name: string): void {
    if (this.tunnels.get(name)?.session !== session) return;
    this.tunnels.delete(name);
    session.tunnels.delete(name);
    this.rememberOffline(name);
  }

  private rememberOffline(name: string): void {
    this.offlineNames.add(name);
    if (this.offlineNames.size > rememberedOfflineNames) {
      const oldest = this.offlineNames.values().next().value;
      if (oldest !== undefined) this.offlineNames.delete(oldest);
    }
  }

  private onProxyStream(call: Call): void {
    const sessionId = call.metadata.get('burrow-session')[0];
    const session = typeof sessionId === 'string' ? this.sessions.get(sessionId) : undefined;
    if (!this.auth.accepts(call.metadata)) {
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'the server rejected the token' });
      return;
    }
    if (session === undefined || session.isClosed) {
      call.emit('error', { code: grpc.status.NOT_FOUND, details: 'unknown session; reconnect the control stream' });
      return;
    }
    session.attachProxy(call);
  }

  private onPublicRequest(req: IncomingMessage, res: ServerResponse): void {
    const name = tunnelNameFromHost(req.headers.host, this.options.domain);
    const entry = name === undefined ? undefined : this.tunnels.get(name);
    if (name === undefined || entry === undefined) {
      if (name !== undefined && this.offlineNames.has(name)) {
        respondWithError(res, ErrorCode.TunnelOffline, `tunnel ${name} is offline: its agent is not connected`);
      } else {
        respondWithError(res, ErrorCode.NoTunnel, `no tunnel for host ${req.headers.host ?? '(none)'}`);
      }
      req.resume();
      return;
    }
    const { session } = entry;
    if (!session.hasDataStream) {
      respondWithError(res, ErrorCode.TunnelOffline, `tunnel ${name} is offline: the agent's data stream is down`);
      req.resume();
      return;
    }
    if (this.inflight >= this.limits.maxInflight || session.exchanges.size >= this.limits.maxInflightPerAgent) {
      respondWithError(res, ErrorCode.OverCapacity, `tunnel ${name} is at its concurrency limit; retry shortly`);
      req.resume();
      return;
    }
    this.inflight++;
    new PublicHttpExchange(randomUUID(), name, session, req, res, () => this.inflight--).start();
  }
}

export function splitHostPort(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (match === null) throw new Error(`expected host:port, got "${address}"`);
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port: Number(match[3]) };
}
