// The tunnel server (the public edge): agents connect to its control port over
// gRPC; public clients reach their tunnels on the public port by Host name.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { WebSocketServer } from 'ws';
import {
  ProtocolType,
  type ConfigSync,
  type RegisterTunnel,
  type TunnelMessage,
} from '../../gen/burrow/v1/tunnel.js';
import { defaultConfigSync, defaultServerLimits, grpcChannelOptions, http2WindowBytes, type ServerLimits } from '../config.js';
import { ErrorCode, grpcStatusFor, httpStatusFor } from '../errors.js';
import { installInPlaceFraming } from '../grpc-in-place-framing.js';
import { controlMessage } from '../messages.js';
import { malformedReason, tunnelService } from '../tunnel-codec.js';
import { isValidTunnelName, tunnelNameFromHost } from '../tunnel-names.js';
import { AgentSession } from './agent-session.js';
import { raiseSessionWindows } from './grpc-session-window.js';
import { respondWithError } from './public-errors.js';
import { PublicGrpcExchange } from './public-grpc-exchange.js';
import { PublicHttpExchange } from './public-http-exchange.js';
import { PublicWebSocketExchange, acceptedHandshakes } from './public-websocket-exchange.js';
import { TunnelRateLimiter } from './rate-limiter.js';
import { HeadDeadline } from './head-deadline.js';
import { sniffProtocol } from './protocol-sniffer.js';
import { TokenAuth, type AgentIdentity, type TokenSpec } from './token-auth.js';

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
}

export interface PemPair {
  cert: string | Buffer;
  key: string | Buffer;
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

type Admission =
  | { ok: true; name: string; session: AgentSession; release: () => void }
  | { ok: false; code: string; message: string; retryAfterSeconds?: number };

/** How many names of departed tunnels to remember, to answer 502 rather than 404. */
const rememberedOfflineNames = 10_000;

export class TunnelServer extends EventEmitter<TunnelServerEvents> {
  private readonly grpcServer = new grpc.Server(grpcChannelOptions);
  private readonly publicListener: NetServer;
  private readonly http1Server: HttpServer;
  private readonly http2Server: Http2Server;
  private readonly wss = new WebSocketServer({
    noServer: true,
    // The local service already chose; the public client gets the same.
    handleProtocols: (_protocols, req) => acceptedHandshakes.get(req)?.protocol ?? false,
    maxPayload: grpcChannelOptions['grpc.max_receive_message_length'] / 2,
    autoPong: false,
    perMessageDeflate: false,
  });
  private readonly publicSockets = new Set<Socket>();
  private readonly http2Sessions = new Set<Http2Session>();
  private readonly auth: TokenAuth;
  private readonly limits: ServerLimits;
  private readonly config: ConfigSync;
  private readonly sessions = new Map<string, AgentSession>();
  private readonly tunnels = new Map<string, TunnelEntry>();
  private readonly offlineNames = new Set<string>();
  private readonly rateLimiter: TunnelRateLimiter;
  private inflight = 0;
  private boundControlPort = 0;
  private boundPublicPort = 0;

  constructor(private readonly options: TunnelServerOptions) {
    super();
    this.auth = new TokenAuth(options.tokens ?? []);
    this.limits = { ...defaultServerLimits, ...options.limits };
    this.config = { ...defaultConfigSync, ...options.config };
    this.rateLimiter = new TunnelRateLimiter(this.limits.ratePerTunnel);
    const { maxHeaderBytes, headerTimeoutMs, idleTimeoutMs } = this.limits;
    this.grpcServer.addService(tunnelService, {
      controlStream: (call: Call) => this.onControlStream(call),
      proxy: (call: Call) => this.onProxyStream(call),
    });
    this.http1Server = createServer(
      { keepAlive: true, maxHeaderSize: maxHeaderBytes },
      (req, res) => this.onPublicRequest(req, res),
    );
    // Uploads and downloads may stream for a long time; the tunnel's own
    // timeouts decide when a request has stalled. Heads must arrive promptly (HeadDeadline).
    this.http1Server.requestTimeout = 0;
    this.http1Server.keepAliveTimeout = idleTimeoutMs;
    this.http1Server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onPublicUpgrade(req, socket, head));
    this.wss.on('headers', (headers, req) => headers.push(...(acceptedHandshakes.get(req)?.headers ?? [])));
    this.http2Server = createHttp2Server({ settings: { maxHeaderListSize: maxHeaderBytes }, maxHeaderListPairs: 256 });
    this.http2Server.on('session', (session: Http2Session) => {
      this.http2Sessions.add(session);
      session.once('close', () => this.http2Sessions.delete(session));
      // A client that half-closes will send nothing more: finish what is open, then close.
      session.socket.once('end', () => session.close());
      closeWhenIdle(session, idleTimeoutMs);
    });
    this.http2Server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) =>
      this.onPublicHttp2Stream(stream, headers, rawHeaders),
    );
    const track = (socket: Socket): void => {
      this.publicSockets.add(socket);
      socket.once('close', () => this.publicSockets.delete(socket));
      socket.on('error', () => {});
    };
    const headDeadline = new HeadDeadline(this.http1Server, headerTimeoutMs, idleTimeoutMs);
    const toHttp1 = (socket: Socket): boolean => {
      headDeadline.arm(socket);
      return this.http1Server.emit('connection', socket);
    };
    const toHttp2 = (socket: Socket): boolean => this.http2Server.emit('connection', socket);
    // noDelay as http.Server would set: responses go out in several small writes.
    this.publicListener = options.publicTls
      ? createTlsServer({ ...options.publicTls, noDelay: true, ALPNProtocols: ['h2', 'http/1.1'], handshakeTimeout: headerTimeoutMs }, (socket: TLSSocket) => {
          track(socket);
          (socket.alpnProtocol === 'h2' ? toHttp2 : toHttp1)(socket);
        })
      : createNetServer({ noDelay: true }, (socket) => {
          track(socket);
          sniffProtocol(socket, toHttp1, toHttp2, headerTimeoutMs);
        });
    // A failed TLS handshake is the client's problem, not the server's.
    this.publicListener.on('tlsClientError', () => {});
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

  /** Requests the agents' sessions still track (for leak checks: zero when idle). */
  get pendingExchanges(): number {
    let pending = 0;
    for (const session of this.sessions.values()) pending += session.exchanges.size;
    return pending;
  }

  get agentCount(): number {
    return this.sessions.size;
  }

  async start(): Promise<void> {
    this.boundControlPort = await new Promise<number>((resolve, reject) => {
      const tls = this.options.controlTls;
      const credentials = tls
        ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], false)
        : grpc.ServerCredentials.createInsecure();
      this.grpcServer.bindAsync(this.options.controlAddress, credentials, (error, port) =>
        error ? reject(error) : resolve(port),
      );
    });
    raiseSessionWindows(this.grpcServer, http2WindowBytes);
    installInPlaceFraming();
    const { host, port } = splitHostPort(this.options.publicAddress);
    await new Promise<void>((resolve, reject) => {
      this.publicListener.once('error', reject);
      this.publicListener.listen(port, host, () => {
        this.publicListener.off('error', reject);
        resolve();
      });
    });
    this.boundPublicPort = (this.publicListener.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const session of [...this.sessions.values()]) session.close('server stopping');
    await new Promise<void>((resolve) => {
      this.publicListener.close(() => resolve());
      for (const session of this.http2Sessions) session.destroy();
      for (const socket of this.publicSockets) socket.destroy();
    });
    this.wss.close();
    await new Promise<void>((resolve) => this.grpcServer.tryShutdown(() => resolve()));
    this.grpcServer.forceShutdown();
  }

  publicUrl(name: string): string {
    const scheme = this.options.publicTls ? 'https' : 'http';
    const port = this.boundPublicPort === (this.options.publicTls ? 443 : 80) ? '' : `:${this.boundPublicPort}`;
    return `${scheme}://${name}.${this.options.domain}${port}`;
  }

  /** Breaks an agent's data stream, leaving its control stream up (fault injection for tests). */
  dropDataStream(tunnel: string): boolean {
    const session = this.tunnels.get(tunnel)?.session;
    if (session === undefined) return false;
    session.dropDataStream();
    return true;
  }

  private onControlStream(call: Call): void {
    const identity = this.auth.identify(call.metadata);
    if (identity === undefined) {
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'the server rejected the token' });
      return;
    }
    let session: AgentSession | undefined;
    call.on('data', (message: TunnelMessage) => {
      const payload = message.payload;
      const broken = malformedReason(message);
      if (session === undefined) {
        if (payload?.$case !== 'hello') {
          call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: 'the first control message must be Hello' });
          return;
        }
        session = this.openSession(call, payload.value.agentId, identity);
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
          session.reportProtocolError(message.requestId, broken ?? `unexpected ${payload?.$case ?? 'empty'} control message`);
      }
    });
    const ended = (): void => session?.close('control stream closed');
    call.on('end', ended);
    call.on('error', ended);
    call.on('cancelled', ended);
  }

  private openSession(call: Call, agentId: string, identity: AgentIdentity): AgentSession {
    // A reconnecting agent replaces its own stale session (and keeps its names);
    // the same agent id under another token is someone else.
    for (const existing of this.sessions.values()) {
      if (existing.agentId === agentId && existing.identity.label === identity.label) existing.close('agent reconnected');
    }
    const session = new AgentSession(randomUUID(), agentId, identity, call, this.config, (closed, reason) => {
      this.sessions.delete(closed.id);
      for (const name of closed.tunnels) {
        if (this.tunnels.get(name)?.session === closed) {
          this.tunnels.delete(name);
          this.rateLimiter.forget(name);
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
    const refuse = (code: string, message: string): void =>
      session.sendControl(controlMessage({ $case: 'error', value: { code, message, subject: request.name } }, correlationId));
    const name = request.name === '' ? session.identity.randomName() : request.name.toLowerCase();
    if (name === undefined) {
      refuse(ErrorCode.NameNotAllowed, `token ${session.identity.label} may claim only ${session.identity.claims?.join(', ')}; ask for one of those names`);
      return;
    }
    if (!isValidTunnelName(name)) {
      refuse(ErrorCode.BadName, `"${request.name}" is not a valid tunnel name (lowercase letters, digits and dashes, at most 63)`);
      return;
    }
    if (!session.identity.mayClaim(name)) {
      refuse(ErrorCode.NameNotAllowed, `token ${session.identity.label} may not claim "${name}" (allowed: ${session.identity.claims?.join(', ')})`);
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
    this.rateLimiter.forget(name);
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
    const identity = this.auth.identify(call.metadata);
    if (identity === undefined) {
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'the server rejected the token' });
      return;
    }
    // A session id is not a secret to rely on: its data stream needs the same token.
    if (session === undefined || session.isClosed || session.identity.label !== identity.label) {
      call.emit('error', { code: grpc.status.NOT_FOUND, details: 'unknown session; reconnect the control stream' });
      return;
    }
    session.attachProxy(call);
  }

  /** Finds the tunnel for a Host and takes an in-flight slot, or says why not. */
  private admit(host: string | undefined): Admission {
    const name = tunnelNameFromHost(host, this.options.domain);
    const entry = name === undefined ? undefined : this.tunnels.get(name);
    if (name === undefined || entry === undefined) {
      if (name !== undefined && this.offlineNames.has(name)) {
        return { ok: false, code: ErrorCode.TunnelOffline, message: `tunnel ${name} is offline: its agent is not connected` };
      }
      return { ok: false, code: ErrorCode.NoTunnel, message: `no tunnel for host ${host ?? '(none)'}` };
    }
    const { session } = entry;
    if (!session.hasDataStream) {
      return { ok: false, code: ErrorCode.TunnelOffline, message: `tunnel ${name} is offline: the agent's data stream is down` };
    }
    if (this.inflight >= this.limits.maxInflight || session.exchanges.size >= this.limits.maxInflightPerAgent) {
      return { ok: false, code: ErrorCode.OverCapacity, message: `tunnel ${name} is at its concurrency limit; retry shortly`, retryAfterSeconds: 1 };
    }
    const rate = this.rateLimiter.take(name);
    if (!rate.allowed) {
      return {
        ok: false,
        code: ErrorCode.RateLimited,
        message: `tunnel ${name} is over its rate limit of ${this.limits.ratePerTunnel} requests per second`,
        retryAfterSeconds: rate.retryAfterSeconds,
      };
    }
    this.inflight++;
    return { ok: true, name, session, release: () => this.inflight-- };
  }

  private onPublicRequest(req: IncomingMessage, res: ServerResponse): void {
    const admission = this.admit(req.headers.host);
    if (!admission.ok) {
      respondWithError(res, admission.code, admission.message, admission.retryAfterSeconds);
      req.resume();
      return;
    }
    const maxBodyBytes = tighterLimit(this.limits.maxBodyBytes, admission.session.identity.maxBodyBytes);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (maxBodyBytes > 0 && declared > maxBodyBytes) {
      admission.release();
      // The body is not read; closing after the answer keeps it off the wire.
      res.shouldKeepAlive = false;
      respondWithError(res, ErrorCode.BodyTooLarge, `request body of ${declared} bytes is over this tunnel's limit of ${maxBodyBytes}`);
      return;
    }
    new PublicHttpExchange(randomUUID(), admission.name, admission.session, req, res, admission.release, { ...this.limits, maxBodyBytes }).start();
  }

  private onPublicUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const admission = this.admit(req.headers.host);
    if (!admission.ok) {
      const body = `${admission.message}\n`;
      const retry = admission.retryAfterSeconds === undefined ? '' : `retry-after: ${admission.retryAfterSeconds}\r\n`;
      socket.end(
        `HTTP/1.1 ${httpStatusFor(admission.code)} ${admission.code}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nx-burrow-error: ${admission.code}\r\n${retry}connection: close\r\n\r\n${body}`,
      );
      return;
    }
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      admission.release();
      socket.end('HTTP/1.1 501 Not Implemented\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    new PublicWebSocketExchange(randomUUID(), admission.name, admission.session, req, socket, head, this.wss, admission.release).start();
  }

  private onPublicHttp2Stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]): void {
    stream.on('error', () => {});
    const contentType = String(headers['content-type'] ?? '');
    if (!contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 505, 'content-type': 'text/plain; charset=utf-8' });
      stream.end('cleartext HTTP/2 here is for gRPC; use HTTP/1.1 for other requests\n');
      return;
    }
    const admission = this.admit(headers[':authority'] ?? headers.host);
    if (!admission.ok) {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(grpcStatusFor(admission.code)),
          'grpc-message': encodeURIComponent(admission.message),
          'x-burrow-error': admission.code,
        },
        { endStream: true },
      );
      return;
    }
    new PublicGrpcExchange(randomUUID(), admission.name, admission.session, stream, headers, rawHeaders, admission.release).start();
  }
}

/** The stricter of two byte limits where 0 or undefined means none. */
function tighterLimit(a: number, b: number | undefined): number {
  if (!b) return a;
  return a === 0 ? b : Math.min(a, b);
}

/** Closes an HTTP/2 session with no open streams after `ms` of silence; a quiet stream (a gRPC watch) keeps it. */
function closeWhenIdle(session: Http2Session, ms: number): void {
  let open = 0;
  session.on('stream', (stream: ServerHttp2Stream) => {
    open++;
    stream.once('close', () => open--);
  });
  session.setTimeout(ms, () => {
    if (open === 0) session.close();
  });
}

export function splitHostPort(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (match === null) throw new Error(`expected host:port, got "${address}"`);
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port: Number(match[3]) };
}
