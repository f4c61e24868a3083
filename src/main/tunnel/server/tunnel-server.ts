// The tunnel server (the public edge): agents connect to its control port over
// gRPC (control and data streams, one AgentSession each); public clients reach
// their tunnels on the public port by Host name (PublicListener, PublicRouter),
// through the TunnelRegistry that knows which agent serves which name.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { WebSocketServer } from 'ws';
import type { ConfigSync, Hello, TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import { defaultConfigSync, defaultServerLimits, grpcChannelOptions, http2WindowBytes, keepaliveOptions, type ServerLimits } from '../config.js';
import { ErrorCode } from '../errors.js';
import { controlMessage } from '../messages.js';
import { installGatheredReceive } from '../patches/grpc-gathered-receive.js';
import { installInPlaceFraming } from '../patches/grpc-in-place-framing.js';
import { dataDirectionKey, dataLinkKey, parseDataDirection } from '../data-direction.js';
import { ServerSockets } from '../patches/grpc-server-sockets.js';
import { raiseSessionWindows } from '../patches/grpc-session-window.js';
import type { Exchange } from '../exchange.js';
import { pollUntil } from '../bounded-waits.js';
import { malformedReason, tunnelService } from '../tunnel-codec.js';
import { AgentSession, type DataStreamEvent } from './agent-session.js';
import type { ClaimOwner, EdgeCluster } from './edge-cluster.js';
import { TunnelNaming } from './tunnel-naming.js';
import { EdgeForwarder } from './edge-forwarder.js';
import { PublicListener, type PemPair } from './public-listener.js';
import type { PublicRequestRecord } from './public-request-record.js';
import { ForwardedFieldTrust } from './forwarded-fields.js';
import { PublicRouter } from './public-router.js';
import { acceptedHandshakes } from './public-websocket-exchange.js';
import { TokenAuth, type AgentIdentity, type TokenSpec } from './token-auth.js';
import { TunnelRegistry, type RegisteredTunnel } from './tunnel-registry.js';

/** HTTP/1.1 connections to each other edge at most: long polls of many clients, within the file descriptors an edge has. */
const maxConnectionsPerEdge = 4_096;

export type { DataStreamEvent } from './agent-session.js';
export type { PemPair } from './public-listener.js';
export type { PublicRequestRecord } from './public-request-record.js';
export type { RegisteredTunnel } from './tunnel-registry.js';

type Call = grpc.ServerDuplexStream<TunnelMessage, TunnelMessage>;

export interface TunnelServerOptions {
  /** host:port for agents; port 0 picks a free one. */
  controlAddress: string;
  /** host:port for public traffic; port 0 picks a free one. */
  publicAddress: string;
  /** Tunnel NAME is served as NAME.DOMAIN. */
  domain: string;
  /** Accepted agent tokens, bare (any name) or named with the names they may claim; none means any agent may connect. */
  tokens?: readonly (string | TokenSpec)[];
  limits?: Partial<ServerLimits>;
  config?: Partial<ConfigSync>;
  /** Serve the public port over TLS (PEM); ALPN picks h2 or http/1.1. */
  publicTls?: PemPair;
  /** Serve the control port (agents) over TLS. */
  controlTls?: PemPair;
  /** Milliseconds for rate limits (a monotonic clock by default); tests drive it by hand. */
  clock?: () => number;
  /** Other edges serving the same domain: names and rate limits are shared with them. */
  cluster?: EdgeCluster;
  /** Peers whose X-Forwarded-* fields reach the service (forwarded-fields.ts): addresses, CIDR ranges, loopback, private or none; loopback if not given. */
  trustForwardedFrom?: readonly string[];
  /** For this long after it starts, the edge takes a name no agent holds for one whose agent has yet to come back (tunnel-registry.ts); none by default. */
  reconnectGraceMs?: number;
}

export interface TunnelServerEvents {
  'agent-connected': [agentId: string];
  'agent-disconnected': [agentId: string, reason: string];
  'tunnel-registered': [name: string, publicUrl: string];
  /** A public request ended (answered by the edge itself, or carried through a tunnel). */
  'request-end': [record: PublicRequestRecord];
  /** An agent refused for its token (the code says why; the token is never given). */
  'agent-refused': [code: string];
  /** A tunnel name an agent asked for and did not get. */
  'tunnel-refused': [name: string, code: string, message: string];
  /** A heartbeat round trip to an agent, in milliseconds. */
  'round-trip': [agentId: string, ms: number];
  /** An agent's data stream attached to its session (the first time, or again after a loss) or was lost. */
  'data-stream': [agentId: string, event: DataStreamEvent];
}

export class TunnelServer extends EventEmitter<TunnelServerEvents> {
  private readonly grpcServer: grpc.Server;
  private readonly sockets = new ServerSockets();
  private readonly wss: WebSocketServer;
  private readonly publicListener: PublicListener;
  private readonly auth: TokenAuth;
  private readonly config: ConfigSync;
  private readonly sessions = new Map<string, AgentSession>();
  private readonly registry: TunnelRegistry;
  private readonly forwarder: EdgeForwarder | undefined;
  private readonly naming: TunnelNaming;
  private boundControlPort = 0;
  private started = false;
  private draining = false;
  private stopping = false;

  constructor(private readonly options: TunnelServerOptions) {
    super();
    this.auth = new TokenAuth(options.tokens ?? []);
    const limits = { ...defaultServerLimits, ...options.limits };
    this.config = { ...defaultConfigSync, maxWebsocketMessageBytes: limits.maxWebSocketMessageBytes, ...options.config };
    this.grpcServer = new grpc.Server({ ...grpcChannelOptions, ...keepaliveOptions(this.config) });
    this.registry = new TunnelRegistry(options.domain, limits, options.clock, options.cluster, options.reconnectGraceMs);
    this.naming = new TunnelNaming(this.registry, options.cluster, {
      registered: (session, name, correlationId) => this.tunnelRegistered(session, name, correlationId),
      refused: (session, asked, refusal, correlationId) => this.refuseTunnel(session, asked, refusal, correlationId),
    });
    options.cluster?.on('claim-lost', (name, owner) => this.claimLost(name, owner));
    // Agents on this edge hear of every edge that comes or goes, to hold sessions with several.
    options.cluster?.on('edges', (edges) => {
      const message = controlMessage({ $case: 'clusterEdges', value: { edges: edges.map((edge) => edge.advertise) } });
      for (const session of this.sessions.values()) session.sendControl(message);
    });
    this.grpcServer.addService(tunnelService, {
      controlStream: (call: Call) => this.onControlStream(call),
      proxy: (call: Call) => this.onProxyStream(call),
    });
    this.wss = new WebSocketServer({
      noServer: true,
      // The local service already chose; the public client gets the same.
      handleProtocols: (_protocols, req) => acceptedHandshakes.get(req)?.protocol ?? false,
      maxPayload: limits.maxWebSocketMessageBytes,
      autoPong: false,
      // Offered to clients only when their local service accepted it (see public-websocket-exchange.ts).
      perMessageDeflate: true,
    });
    this.wss.on('headers', (headers, req) => headers.push(...(acceptedHandshakes.get(req)?.headers ?? [])));
    const { cluster } = options;
    this.forwarder =
      cluster === undefined
        ? undefined
        : new EdgeForwarder({ self: () => cluster.self, secret: () => cluster.edgeSecret, config: this.config, maxWebSocketMessageBytes: limits.maxWebSocketMessageBytes, maxConnectionsPerEdge: Math.min(limits.maxInflight, maxConnectionsPerEdge) });
    const forwarding = this.forwarder && cluster && { forwarder: this.forwarder, holders: (name: string) => cluster.holders(name) };
    const trust = new ForwardedFieldTrust(options.trustForwardedFrom);
    const router = new PublicRouter(this.registry, limits, this.wss, (record) => this.emit('request-end', record), trust, forwarding);
    this.publicListener = new PublicListener(router, limits, this.config.initialWindowBytes, options.publicTls, (code, answered) => router.headRefused(code, answered));
  }

  get controlPort(): number {
    return this.boundControlPort;
  }

  get publicPort(): number {
    return this.publicListener.port;
  }

  /** Number of public requests in flight (for tests and stats). */
  get inflightRequests(): number {
    return this.registry.inflightRequests;
  }

  /** Requests the agents' sessions still track (for leak checks: zero when idle). */
  get pendingExchanges(): number {
    let pending = 0;
    for (const session of this.sessions.values()) pending += session.exchanges.size;
    return pending;
  }

  get agentCount(): number {
    return this.sessions.size;
  }

  /** The tunnels registered here now. */
  tunnels(): RegisteredTunnel[] {
    return this.registry.list();
  }

  /** Listening, and not stopping: agents can connect. */
  get accepting(): boolean {
    return this.started && !this.stopping;
  }

  /** Ready for agents and, in a cluster, able to claim names; else why not. */
  readiness(): { ready: boolean; reason?: string } {
    if (!this.accepting) return { ready: false, reason: 'the server is not accepting agents (starting or stopping)' };
    if (this.draining) return { ready: false, reason: 'the server is stopping: it takes no new public connections and finishes the requests under way' };
    const { cluster } = this.options;
    if (cluster !== undefined && !cluster.reachable) return { ready: false, reason: `the cluster's shared state is unreachable: new tunnel names cannot be claimed` };
    return { ready: true };
  }

  async start(): Promise<void> {
    this.boundControlPort = await new Promise<number>((resolve, reject) => {
      const tls = this.options.controlTls;
      const credentials = tls
        ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], false)
        : grpc.ServerCredentials.createInsecure();
      this.grpcServer.bindAsync(this.options.controlAddress, credentials, (error, port) => (error ? reject(asListenError(error, this.options.controlAddress)) : resolve(port)));
    });
    raiseSessionWindows(this.grpcServer, http2WindowBytes);
    this.sockets.watch(this.grpcServer);
    installInPlaceFraming();
    installGatheredReceive();
    await this.publicListener.listen(this.options.publicAddress);
    try {
      await this.options.cluster?.join({ control: `${this.options.controlAddress.replace(/:\d+$/, '')}:${this.controlPort}`, publicPort: this.publicPort });
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.started = true;
  }

  /**
   * Stops as stop() does, once what is under way has finished or `timeoutMs`
   * has passed: no new public connection is taken, idle ones close, each
   * other closes after its answers (HTTP/2: GOAWAY), and WebSockets close as
   * going away. Agents stay connected meanwhile, so answers still come.
   * `started` hears how many requests are under way as it begins. Resolves
   * with how many were still under way, and cut, when it stopped.
   */
  async drain(timeoutMs: number, started?: (underWay: number) => void): Promise<number> {
    if (!this.draining && !this.stopping && timeoutMs > 0) {
      this.draining = true;
      this.publicListener.drain();
      const underWay = this.exchangesUnderWay();
      for (const exchange of underWay) exchange.goAway();
      started?.(underWay.length);
      await pollUntil(() => this.exchangesUnderWay().length === 0 && this.publicListener.openConnections === 0, timeoutMs);
    }
    const cut = this.requestsUnderWay;
    await this.stop();
    return cut;
  }

  /** Public requests under way, forwarded to other edges too. */
  get requestsUnderWay(): number {
    return this.exchangesUnderWay().length;
  }

  private exchangesUnderWay(): Exchange[] {
    const exchanges = this.forwarder?.inFlight() ?? [];
    for (const session of this.sessions.values()) for (const exchange of session.exchanges.values()) exchanges.push(exchange);
    return exchanges;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const session of [...this.sessions.values()]) session.close('server stopping', true);
    await this.options.cluster?.leave();
    this.forwarder?.close();
    await this.publicListener.close();
    this.wss.close();
    await new Promise<void>((resolve) => this.grpcServer.tryShutdown(() => resolve()));
    this.grpcServer.forceShutdown();
  }

  publicUrl(name: string): string {
    const scheme = this.options.publicTls ? 'https' : 'http';
    const port = this.publicPort === (this.options.publicTls ? 443 : 80) ? '' : `:${this.publicPort}`;
    return `${scheme}://${name}.${this.options.domain}${port}`;
  }

  /** Breaks an agent's data stream, leaving its control stream up (fault injection for tests). */
  dropDataStream(tunnel: string): boolean {
    const session = this.registry.sessionOf(tunnel);
    if (session === undefined) return false;
    session.dropDataStream();
    return true;
  }

  private onControlStream(call: Call): void {
    const identity = this.auth.identify(call.metadata);
    if (identity === undefined) {
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'the server rejected the token' });
      this.emit('agent-refused', ErrorCode.Unauthenticated);
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
        session = this.openSession(call, payload.value, identity);
        return;
      }
      session.noteControlActivity();
      switch (payload?.$case) {
        case 'registerTunnel':
          this.naming.register(session, payload.value, message.requestId);
          return;
        case 'unregisterTunnel':
          if (this.registry.unregister(session, payload.value.name)) this.naming.release(payload.value.name, session);
          // On the data stream, behind every request sent for it: the agent then knows none is on its way.
          session.send(controlMessage({ $case: 'tunnelUnregistered', value: { name: payload.value.name } }));
          return;
        case 'heartbeat':
          session.heartbeatReceived(payload.value);
          return;
        default:
          session.protocolError(message.requestId, malformedReason(message) ?? `unexpected ${payload?.$case ?? 'empty'} control message`);
      }
    });
    const ended = (): void => session?.close('control stream closed');
    call.on('end', ended);
    call.on('error', ended);
    call.on('cancelled', ended);
  }

  private openSession(call: Call, { agentId, relaysContinue }: Hello, identity: AgentIdentity): AgentSession {
    // A reconnecting agent replaces its own stale session (and keeps its names);
    // the same agent id under another token is someone else.
    for (const existing of this.sessions.values()) {
      if (existing.agentId === agentId && existing.identity.label === identity.label) existing.close('agent reconnected');
    }
    const session = new AgentSession(randomUUID(), agentId, relaysContinue, identity, call, this.config, {
      closed: (closed, reason) => {
        this.sessions.delete(closed.id);
        for (const name of this.registry.sessionClosed(closed)) this.naming.release(name, closed);
        this.emit('agent-disconnected', closed.agentId, reason);
      },
      silent: (peers) => this.sockets.cut(peers),
      roundTrip: (ms) => this.emit('round-trip', agentId, ms),
      dataStream: (event) => this.emit('data-stream', agentId, event),
    });
    this.sessions.set(session.id, session);
    session.sendControl(controlMessage({ $case: 'welcome', value: { sessionId: session.id, config: this.config } }));
    const edges = this.options.cluster?.lastSeenEdges;
    if (edges !== undefined && edges.length > 0) session.sendControl(controlMessage({ $case: 'clusterEdges', value: { edges: edges.map((edge) => edge.advertise) } }));
    session.startHeartbeats();
    this.emit('agent-connected', agentId);
    return session;
  }

  private tunnelRegistered(session: AgentSession, name: string, correlationId: string): void {
    const publicUrl = this.publicUrl(name);
    session.sendControl(controlMessage({ $case: 'tunnelRegistered', value: { name, publicUrl } }, correlationId));
    this.emit('tunnel-registered', name, publicUrl);
  }

  private refuseTunnel(session: AgentSession, asked: string, refusal: { code: string; message: string }, correlationId: string): void {
    session.sendControl(controlMessage({ $case: 'error', value: { code: refusal.code, message: refusal.message, subject: asked } }, correlationId));
    this.emit('tunnel-refused', asked, refusal.code, refusal.message);
  }

  /** Another agent holds a name this edge served (the shared state was lost and came back): the agent here hears it is gone. */
  private claimLost(name: string, owner: ClaimOwner): void {
    const session = this.registry.sessionOf(name);
    if (session === undefined || session.agentId !== owner.agentId) return;
    this.registry.unregister(session, name);
    this.emit('tunnel-refused', name, ErrorCode.NameTaken, `tunnel name "${name}" was claimed by another agent while the edges' shared state was out of reach`);
    // Its agent reconnects and registers again, learning whether the name is still its own.
    session.close(`tunnel name "${name}" is held by another agent on another edge`);
  }

  private onProxyStream(call: Call): void {
    const sessionId = call.metadata.get('burrow-session')[0];
    const session = typeof sessionId === 'string' ? this.sessions.get(sessionId) : undefined;
    const identity = this.auth.identify(call.metadata);
    if (identity === undefined) {
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'the server rejected the token' });
      this.emit('agent-refused', ErrorCode.Unauthenticated);
      return;
    }
    const direction = parseDataDirection(call.metadata.get(dataDirectionKey)[0]);
    if (direction === undefined) {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: `${dataDirectionKey} must be "downlink" or "uplink"` });
      return;
    }
    // A session id is not a secret to rely on: its data stream needs the same token.
    if (session === undefined || session.isClosed || session.identity.label !== identity.label) {
      call.emit('error', { code: grpc.status.NOT_FOUND, details: 'unknown session; reconnect the control stream' });
      return;
    }
    session.attachProxy(call, direction, String(call.metadata.get(dataLinkKey)[0] ?? ''));
  }
}

/**
 * grpc-js words a port in use as "No address added out of total 1 resolved
 * errors: [listen EADDRINUSE: ...]": as Node words it for the public port,
 * with its code, which the CLI tells as one line.
 */
function asListenError(error: Error, address: string): Error {
  const code = /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(error.message)?.[1];
  if (code === undefined) return error;
  const words = code === 'EADDRINUSE' ? 'address already in use' : code === 'EACCES' ? 'permission denied' : 'address not available';
  return Object.assign(new Error(`listen ${code}: ${words} ${address}`), { code });
}
