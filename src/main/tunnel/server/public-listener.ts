// The public port: one listener for HTTP/1.1 (with WebSocket upgrades) and
// HTTP/2, cleartext (the HTTP/2 preface is sniffed) or TLS (ALPN picks).
// It owns the sockets and sessions, the guards on request heads and idle
// connections, and hands every request to the router.
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type Http2Session, type ServerHttp2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import { headerPairsWithin, http2SessionMemoryMegabytes, maxResponseHeadBytes, type ServerLimits } from '../config.js';
import { ErrorCode } from '../errors.js';
import { parseHostPort } from '../host-port.js';
import { IdMap } from '../id-map.js';
import { probeForResetAtEnd } from './client-reset-probe.js';
import { Http1HeadGuard } from './http1-head-guard.js';
import { parserHeaderBytes } from './request-head-size.js';
import { headWithoutUpgrade, isWebSocketUpgrade } from './ignored-upgrade.js';
import { afterOwed } from './pipeline-turns.js';
import { sniffProtocol } from './protocol-sniffer.js';
import { closeWhenStalled } from './public-session-stall-watch.js';
import type { PublicRouter } from './public-router.js';
import { pollUntil } from '../bounded-waits.js';
import { limitRapidResets } from './rapid-reset-limit.js';

/** How long a stopping edge lets HTTP/2 sessions write the answers it has just given before it cuts them. */
const answersFlushMs = 500;

export interface PemPair {
  cert: string | Buffer;
  key: string | Buffer;
  /** A certificate per name the client asks for (--dev-tls), on the public port. */
  SNICallback?: TlsOptions['SNICallback'];
}

export class PublicListener {
  private readonly listener: NetServer;
  private readonly http1Server: HttpServer;
  private readonly http2Server: Http2Server;
  // By a number of their own, in IdMaps: connections can come and go with every request (see id-map.ts).
  private readonly sockets = new IdMap<Socket>();
  private readonly http2Sessions = new IdMap<Http2Session>();
  /** Connections handed to the HTTP/1.1 server (TLS ones as their TLS socket). */
  private readonly http1Sockets = new IdMap<Socket>();
  private readonly headGuard: Http1HeadGuard;
  private draining = false;
  private listenerClosed: Promise<void> | undefined;
  private connections = 0;
  private boundPort = 0;

  constructor(router: PublicRouter, limits: ServerLimits, windowBytes: number, tls: PemPair | undefined, headRefused: (code: string, answered?: boolean) => void) {
    const { maxHeaderBytes, headerTimeoutMs, idleTimeoutMs, maxStreamsPerConnection } = limits;
    // The router holds clients to maxHeaderBytes; Node's own limit leaves room for what a hop adds (request-head-size.ts).
    this.http1Server = createServer({ keepAlive: true, maxHeaderSize: parserHeaderBytes(maxHeaderBytes) }, (req, res) => router.onHttp1Request(req, res));
    // Expect: 100-continue is the service's to answer (the router says when it is not): Node would send 100 at once.
    this.http1Server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => router.onHttp1Request(req, res));
    // Uploads and downloads may stream for a long time; the tunnel's own
    // timeouts decide when a request has stalled. Heads must arrive promptly (Http1HeadGuard).
    this.http1Server.requestTimeout = 0;
    // Every field kept, so the router counts the whole head (past 2,000, Node drops fields from rawHeaders but counts their bytes).
    this.http1Server.maxHeadersCount = 0;
    this.http1Server.keepAliveTimeout = idleTimeoutMs;
    // A client that half-closes after its requests (`printf ... | nc -N`)
    // still gets their answers, then the connection ends; by default Node
    // would abort them, since the tunnel answers later than a local handler.
    (this.http1Server as HttpServer & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    const headGuard = (this.headGuard = new Http1HeadGuard(this.http1Server, headerTimeoutMs, idleTimeoutMs, maxHeaderBytes, headRefused));
    // Served once the answers owed before them on their connection are out (pipeline-turns.ts).
    this.http1Server.on('connect', (_req: IncomingMessage, socket: Duplex) => afterOwed(headGuard.handOver(socket as Socket), socket as Socket, () => router.onHttp1Connect(socket)));
    this.http1Server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      afterOwed(headGuard.handOver(socket as Socket), socket as Socket, () => {
        if (isWebSocketUpgrade(req)) {
          router.onHttp1Upgrade(req, socket, head);
          return;
        }
        // Served as a plain request (ignored-upgrade.ts): the same socket, read again from this head.
        (socket as Socket).unshift(headWithoutUpgrade(req, head));
        toHttp1(socket as Socket);
      }),
    );
    this.http2Server = createHttp2Server({
      // Node refuses a head over the size it announces (ENHANCE_YOUR_CALM): it announces the room a hop needs, as above.
      settings: { maxHeaderListSize: parserHeaderBytes(maxHeaderBytes), maxConcurrentStreams: maxStreamsPerConnection },
      maxHeaderListPairs: headerPairsWithin(parserHeaderBytes(maxHeaderBytes)),
      // Any head the agent takes from a service (HPACK never makes it larger, but for a few bytes per field).
      maxSendHeaderBlockLength: 2 * maxResponseHeadBytes,
      // Room for a credit window of response bytes queued on every stream (see config.ts).
      maxSessionMemory: http2SessionMemoryMegabytes(maxStreamsPerConnection, windowBytes),
    });
    this.http2Server.on('session', (session: ServerHttp2Session) => {
      const id = String(this.connections++);
      this.http2Sessions.set(id, session);
      session.once('close', () => this.http2Sessions.delete(id));
      // Opened as the edge stops: GOAWAY at once, its first streams served.
      if (this.draining) setImmediate(() => session.close());
      closeWhenIdle(session, idleTimeoutMs);
      awaitPreface(session, headerTimeoutMs);
      closeWhenStalled(session);
      limitRapidResets(session, (stream) => router.countsAsRapidReset(stream), () => headRefused(ErrorCode.RapidReset, false));
    });
    this.http2Server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) =>
      router.onHttp2Stream(stream, headers, flags, rawHeaders),
    );
    const toHttp1 = (socket: Socket): void => {
      if (!headGuard.watches(socket)) {
        const id = String(this.connections++);
        this.http1Sockets.set(id, socket);
        socket.once('close', () => this.http1Sockets.delete(id));
        probeForResetAtEnd(socket);
      }
      headGuard.arm(socket);
      this.http1Server.emit('connection', socket);
    };
    const toHttp2 = (socket: Socket): void => {
      // Not half-open, unlike HTTP/1.1: an HTTP/2 client whose input has
      // ended can no longer grant credit nor be told anything, and a client
      // gone (curl killed, a tab closed) sends just that. Its streams close
      // at once, so services hear of it (as directly, where Node's HTTP/2
      // server does the same) instead of answering nobody until a timeout.
      socket.allowHalfOpen = false;
      this.http2Server.emit('connection', socket);
    };
    // noDelay as http.Server would set: responses go out in several small
    // writes. allowHalfOpen as it would too: a client's end of input is not
    // the end of its answers (each server above closes when they are done).
    this.listener = tls
      ? createTlsServer(Object.assign({}, tls, { noDelay: true, allowHalfOpen: true, ALPNProtocols: ['h2', 'http/1.1'], handshakeTimeout: headerTimeoutMs }), (socket: TLSSocket) => {
          socket.on('error', () => {});
          (socket.alpnProtocol === 'h2' ? toHttp2 : toHttp1)(socket);
        })
      : createNetServer({ noDelay: true, allowHalfOpen: true }, (socket) => sniffProtocol(socket, toHttp1, toHttp2, headerTimeoutMs));
    // Every connection from its first byte, TLS handshakes under way too, so that close() ends them all.
    this.listener.on('connection', (socket: Socket) => this.track(socket));
    // A failed TLS handshake is the client's problem, not the server's; but
    // Node leaves its socket open (a client that closed mid-handshake, as a
    // port check does, stayed half-open for good; one that stalled outlived
    // handshakeTimeout): it goes.
    this.listener.on('tlsClientError', (_error: Error, socket: TLSSocket) => socket.destroy());
  }

  get port(): number {
    return this.boundPort;
  }

  async listen(address: string): Promise<void> {
    const { host, port } = parseHostPort(address);
    await new Promise<void>((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(port, host, () => {
        this.listener.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.listener.address() as AddressInfo).port;
  }

  /** Public connections open now, served or not yet. */
  get openConnections(): number {
    return this.sockets.size;
  }

  /**
   * Takes no more connections and lets the open ones finish: an HTTP/2
   * session gets GOAWAY and ends with its streams; an HTTP/1.1 connection
   * closes now if idle, else after its answers (Connection: close); one
   * still being told apart or in its TLS handshake is served one request,
   * unless nothing has come on it yet (closed, as an idle one).
   */
  drain(): void {
    this.draining = true;
    void this.closeListener();
    for (const session of this.http2Sessions.values()) session.close();
    this.headGuard.drain(this.http1Sockets.values());
    for (const socket of this.sockets.values()) if (socket.bytesRead === 0) socket.destroy();
  }

  async close(): Promise<void> {
    const closed = this.closeListener();
    // The answers the stop has just written (a gRPC status in trailers) leave first: a session destroyed at once
    // dropped them, and a gRPC caller read the bare reset as INTERNAL, not UNAVAILABLE. Not longer than this.
    for (const session of this.http2Sessions.values()) session.close();
    await pollUntil(() => this.http2Sessions.size === 0, answersFlushMs);
    for (const session of this.http2Sessions.values()) session.destroy();
    for (const socket of this.sockets.values()) socket.destroy();
    await closed;
  }

  /** Stops listening, once; settles when every connection has closed too (net.Server's 'close'). */
  private closeListener(): Promise<void> {
    this.listenerClosed ??= new Promise<void>((resolve) => this.listener.close(() => resolve()));
    return this.listenerClosed;
  }

  private track(socket: Socket): void {
    const id = String(this.connections++);
    this.sockets.set(id, socket);
    socket.once('close', () => this.sockets.delete(id));
    socket.on('error', () => {});
  }
}

/**
 * Closes an HTTP/2 session whose client has not opened it (its SETTINGS)
 * within `ms`, as an HTTP/1.1 client must send its head in time: over TLS,
 * ALPN h2 says nothing of whether the client will (such a session was held
 * for the idle timeout).
 */
function awaitPreface(session: Http2Session, ms: number): void {
  const timer = setTimeout(() => session.destroy(), ms);
  timer.unref();
  session.once('remoteSettings', () => clearTimeout(timer));
  session.once('close', () => clearTimeout(timer));
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
