// Routes each public request to its tunnel: applies the edge's request rules
// (RFC 9110/9112), admits it against the tunnel's limits, and starts the
// exchange that carries it. HTTP/1.1 and WebSocket upgrades, and HTTP/2
// streams: gRPC calls, or requests the agent sends on as HTTP/1.1.
import { randomFillSync, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { ProtocolType } from '../../gen/burrow/v1/tunnel.js';
import type { ServerLimits } from '../config.js';
import { ErrorCode } from '../errors.js';
import type { Exchange } from '../exchange.js';
import { parseGrpcTimeout } from '../grpc-timeout.js';
import { behindClosingAnswer, closeAfterAnswer } from './closing-connections.js';
import { Http1PublicStream } from './http1-public-stream.js';
import { grpcTrailersOnly, Http2PublicStream } from './http2-public-stream.js';
import { refusalInTurn } from './http1-head-guard.js';
import { inTurn } from './pipeline-turns.js';
import { grpcErrorStatus, rawErrorAnswer, respondWithError, unservedHttpVersion } from './public-errors.js';
import type { NameHolders } from './edge-cluster.js';
import type { EdgeForwarder, EdgeHop } from './edge-forwarder.js';
import { isForwardedField } from '../forwarded-field-names.js';
import { dropForwardedFields, type ForwardedFieldTrust } from './forwarded-fields.js';
import { PublicRequestExchange, type PublicRequestPolicy } from './public-request-exchange.js';
import { headerListBytes, http1HeadRefusal, parserHeaderBytes } from './request-head-size.js';
import { RequestOutcome, type PublicProtocol, type PublicRequestRecord } from './public-request-record.js';
import { PublicWebSocketExchange } from './public-websocket-exchange.js';
import type { PublicStream } from './public-stream.js';
import type { Admission, TunnelRegistry } from './tunnel-registry.js';
import { invalidWebSocketHandshake } from './websocket-handshake-check.js';

type Admitted = Extract<Admission, { ok: true }>;

export interface Forwarding {
  forwarder: EdgeForwarder;
  /** The other edges holding a tunnel name, undefined when none does, 'unknown' when the cluster cannot say. */
  holders(name: string): Promise<NameHolders | undefined | 'unknown'>;
}
type Refusal = { code: string; message: string; retryAfterSeconds?: number; name?: string };

/** What every request is known by in records, before an exchange exists. */
interface Arrival {
  protocol: PublicProtocol;
  method: string;
  path: string;
  traceId: string;
  /**
   * Sent on by another edge of the cluster, which has already applied the
   * edge's rules: the public client as that edge saw it, and whether it
   * applied the trust rule for X-Forwarded-* (forwarded-fields.ts).
   */
  hop?: EdgeHop;
}

/** A stream reset sooner than this after it was admitted counts as a rapid reset; later, as its client's cancel. */
const rapidResetAgeMs = 100;

export class PublicRouter {
  /** When each HTTP/2 stream was admitted: a reset well after it is a cancel, no rapid reset. */
  private readonly admittedAt = new WeakMap<ServerHttp2Stream, number>();
  /** HTTP/2 streams another edge sent on: their resets are its clients' cancels. */
  private readonly forwardedByEdges = new WeakSet<ServerHttp2Stream>();

  constructor(
    private readonly registry: TunnelRegistry,
    private readonly limits: ServerLimits,
    private readonly wss: WebSocketServer,
    /** Each public request once it has ended, refused ones included. */
    private readonly report: (record: PublicRequestRecord) => void,
    /** The peers whose X-Forwarded-* fields go on to the service. */
    private readonly forwardedTrust: ForwardedFieldTrust,
    /** In a cluster: requests for tunnels held only elsewhere go on to an edge holding them. */
    private readonly forwarding?: Forwarding,
  ) {}

  /**
   * The most a request head (or its trailers) may hold: the client's limit, or for a hop
   * the room Node's parser leaves it, since the fields it adds do not count (request-head-size.ts).
   */
  private headLimit(hop: EdgeHop | undefined): number {
    return hop === undefined ? this.limits.maxHeaderBytes : parserHeaderBytes(this.limits.maxHeaderBytes);
  }

  onHttp1Request(req: IncomingMessage, res: ServerResponse): void {
    inTurn(res, () => this.http1InTurn(req, res));
  }

  private http1InTurn(req: IncomingMessage, res: ServerResponse): void {
    // Checked in turn: the answer before it may have closed the connection meanwhile.
    if (behindClosingAnswer(req)) {
      req.resume();
      return;
    }
    const hop = this.hopFrom(req.rawHeaders, req.headers);
    const arrival: Arrival = { protocol: 'http', method: req.method ?? 'GET', path: req.url ?? '/', traceId: hop?.traceId || traceIdOf(req.headers.traceparent), hop };
    // Its body turned out malformed while it waited for the answers before it.
    const malformed = refusalInTurn(req);
    if (malformed !== undefined) {
      this.refuseUnread(req, res, arrival, malformed);
      return;
    }
    // Node let it through within the room it leaves a hop.
    const tooLarge = http1HeadRefusal(req, this.headLimit(hop));
    if (tooLarge !== undefined) {
      this.refuseUnread(req, res, arrival, tooLarge);
      return;
    }
    const target = resolveRequestTarget(req);
    if (!target.ok) {
      this.refuseUnread(req, res, arrival, target);
      return;
    }
    this.admit(target.host, arrival, () => req.socket.destroyed, (admission) => {
      if (!admission.ok) {
        respondWithError(res, admission.code, admission.message, admission.retryAfterSeconds);
        req.resume();
        this.refused(arrival, admission);
        return;
      }
      this.http1Admitted(req, res, target, arrival, admission);
    });
  }

  private http1Admitted(req: IncomingMessage, res: ServerResponse, target: Extract<RequestTarget, { ok: true }>, arrival: Arrival, admission: Admitted): void {
    const maxBodyBytes = tighterLimit(this.limits.maxBodyBytes, admission.session.identity.maxBodyBytes);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (maxBodyBytes > 0 && declared > maxBodyBytes) {
      admission.release();
      this.refuseUnread(req, res, arrival, { code: ErrorCode.BodyTooLarge, message: `request body of ${declared} bytes is over this tunnel's limit of ${maxBodyBytes}`, name: admission.name });
      return;
    }
    if (!this.vouchedFor(arrival, req.socket.remoteAddress)) dropForwardedFields(req.rawHeaders);
    // Node heeds the expectation from HTTP/1.1 clients only (checkContinue); from an agent that drops it, the edge answers as Node would have.
    const side = new Http1PublicStream(req, res, target, this.headLimit(arrival.hop));
    const expecting = req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && expectsContinue(req.headers.expect);
    // With no body there is nothing for the service to refuse before it comes, and the agent does not ask it: the edge
    // answers at once, as Node does directly. Node's server closes a connection whose expectation it left unanswered.
    const bodiless = side.bodyLength === 0;
    const servicesContinue = expecting && !bodiless;
    if (expecting && (bodiless || !admission.session.relaysContinue)) res.writeContinue();
    asSeenByForwarder(side, arrival);
    this.startRequest(admission, side, this.httpPolicy(admission, maxBodyBytes, servicesContinue && admission.session.relaysContinue), arrival.traceId);
  }

  onHttp1Upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const hop = this.hopFrom(req.rawHeaders, req.headers);
    const arrival: Arrival = { protocol: 'websocket', method: req.method ?? 'GET', path: req.url ?? '/', traceId: hop?.traceId || traceIdOf(req.headers.traceparent), hop };
    const target = resolveRequestTarget(req);
    const refuse = (refusal: Refusal): void => {
      socket.end(rawErrorAnswer(refusal.code, refusal.message, refusal.retryAfterSeconds));
      this.refused(arrival, refusal);
    };
    const tooLarge = http1HeadRefusal(req, this.headLimit(hop));
    if (tooLarge !== undefined) {
      refuse(tooLarge);
      return;
    }
    if (!target.ok) {
      refuse(target);
      return;
    }
    this.admit(target.host, arrival, () => socket.destroyed, (admission) => {
      if (admission.ok) this.upgradeAdmitted(req, socket, head, arrival, admission, target.path);
      else refuse(admission);
    });
  }

  /** A WebSocket upgrade: the listener serves any other as a plain request (ignored-upgrade.ts). */
  private upgradeAdmitted(req: IncomingMessage, socket: Duplex, head: Buffer, arrival: Arrival, admission: Admitted, path: string): void {
    const invalid = invalidWebSocketHandshake(req);
    if (invalid !== undefined) {
      admission.release();
      // ws answers it (405 or 400, as it would directly) and calls back only for a valid one, which this is not.
      this.wss.handleUpgrade(req, socket, head, (ws) => ws.terminate());
      this.refused(arrival, { code: ErrorCode.BadRequest, message: invalid, name: admission.name });
      return;
    }
    if (!this.vouchedFor(arrival, req.socket.remoteAddress)) dropForwardedFields(req.rawHeaders);
    const options = { wss: this.wss, maxMessageBytes: this.limits.maxWebSocketMessageBytes, handshakeTimeoutMs: admission.session.config.requestTimeoutMs, client: arrival.hop?.client, path };
    this.track(admission, arrival.traceId, (ended) => new PublicWebSocketExchange(randomUUID(), admission.name, admission.session, req, socket, head, options, ended)).start();
  }

  /** An HTTP/1.1 CONNECT: a tunnel within the tunnel is not offered, as over HTTP/2; answered, where Node would drop the connection without a word. */
  onHttp1Connect(socket: Duplex): void {
    const refusal = { code: ErrorCode.BadRequest, message: 'CONNECT is not served here' };
    socket.end(rawErrorAnswer(refusal.code, refusal.message));
    this.refused({ protocol: 'http', method: 'CONNECT', path: '', traceId: traceIdOf(undefined) }, refusal);
  }

  /**
   * Whether a stream reset before any answer counts against its session's
   * rapid-reset budget (rapid-reset-limit.ts): one reset before it was
   * admitted or soon after (a flood that waits a little before each reset),
   * not a request under way that its client cancelled, nor one another edge
   * forwarded (its hop carries many clients' cancels).
   */
  countsAsRapidReset(stream: ServerHttp2Stream): boolean {
    if (this.forwardedByEdges.has(stream)) return false;
    const admittedAt = this.admittedAt.get(stream);
    return admittedAt === undefined || performance.now() - admittedAt < rapidResetAgeMs;
  }

  onHttp2Stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]): void {
    stream.on('error', () => {});
    const hop = this.hopFrom(rawHeaders, headers);
    if (hop !== undefined) this.forwardedByEdges.add(stream);
    const isGrpc = String(headers['content-type'] ?? '').startsWith('application/grpc');
    const side = new Http2PublicStream(stream, headers, rawHeaders, (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0, isGrpc ? 'grpc' : 'http');
    const arrival: Arrival = { protocol: isGrpc ? 'grpc' : 'http', method: side.head.method, path: side.head.path, traceId: hop?.traceId || traceIdOf(headers.traceparent), hop };
    asSeenByForwarder(side, arrival);
    const headBytes = headerListBytes(rawHeaders);
    const maxHeaderBytes = this.headLimit(hop);
    if (headBytes > maxHeaderBytes) {
      // Node's HTTP/2 server lets heads past the limit it announces (SETTINGS_MAX_HEADER_LIST_SIZE) through; HTTP/1.1 answers 431, and so does this.
      const refusal = { code: ErrorCode.HeaderTooLarge, message: `the request head (${headBytes} bytes as HTTP/2 counts them) is over the ${maxHeaderBytes} bytes limit` };
      side.fail(refusal.code, refusal.message);
      this.refused(arrival, refusal);
      return;
    }
    if (headers[':method'] === 'CONNECT') {
      // A tunnel within the tunnel is not offered (HTTP/1.1's CONNECT is closed at once); answered before it waits for a body that never ends.
      const refusal = { code: ErrorCode.BadRequest, message: 'CONNECT is not served here' };
      side.fail(refusal.code, refusal.message);
      this.refused(arrival, refusal);
      return;
    }
    // Admitted once the rest of what the client sent with it has been read (the stream's listeners are on, above):
    // one it has reset by then (a rapid-reset flood sends each HEADERS with its RST_STREAM) costs nothing more.
    // Admitted at once, each was an exchange with the agent and a request at the local service, and one client's
    // flood starved the tunnel's other clients.
    setImmediate(() => {
      if (stream.destroyed) return;
      this.admittedAt.set(stream, performance.now());
      this.admit(side.authority, arrival, () => stream.destroyed, (admission) => {
        if (admission.ok) {
          this.http2Admitted(side, headers, isGrpc, arrival, admission);
          return;
        }
        if (isGrpc) stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...grpcErrorStatus(admission.code, admission.message) }, grpcTrailersOnly);
        else side.fail(admission.code, admission.message, admission.retryAfterSeconds);
        this.refused(arrival, admission);
      });
    });
  }

  private http2Admitted(side: Http2PublicStream, headers: IncomingHttpHeaders, isGrpc: boolean, arrival: Arrival, admission: Admitted): void {
    if (admission.protocol === ProtocolType.PROTOCOL_TYPE_GRPC) {
      // A gRPC tunnel's service speaks HTTP/2: every stream goes on as one.
      const deadlineMs = isGrpc ? (parseGrpcTimeout(headers['grpc-timeout']) ?? 0) : 0;
      const policy: PublicRequestPolicy = { protocol: ProtocolType.PROTOCOL_TYPE_GRPC, kind: isGrpc ? 'grpc' : 'http', inlineBody: false, maxBodyBytes: 0, responseTimeoutMs: 0, idleTimeoutMs: 0, deadlineMs };
      this.startRequest(admission, side, policy, arrival.traceId);
    } else if (isGrpc) {
      admission.release();
      const refusal = { code: ErrorCode.WrongProtocol, message: `tunnel ${admission.name} forwards HTTP/1.1; gRPC calls need a gRPC tunnel (burrow grpc)`, name: admission.name };
      side.fail(refusal.code, refusal.message);
      this.refused(arrival, refusal);
    } else if (headers.expect !== undefined && !expectsContinue(headers.expect)) {
      // The agent's HTTP client cannot pass an expectation on: the edge answers as the service's Node would have.
      admission.release();
      side.refuseExpectation();
    } else {
      // The client may hold its body until told to go on (RFC 9110 section 10.1.1): by the service, or by the edge for an agent that drops the expectation.
      const waitsForContinue = side.bodyLength !== 0 && expectsContinue(headers.expect);
      if (waitsForContinue && !admission.session.relaysContinue) side.body.additionalHeaders({ ':status': 100 });
      if (!this.vouchedFor(arrival, side.head.remoteAddress)) side.head.headers = side.head.headers.filter((h) => !isForwardedField(h.name));
      const maxBodyBytes = tighterLimit(this.limits.maxBodyBytes, admission.session.identity.maxBodyBytes);
      this.startRequest(admission, side, this.httpPolicy(admission, maxBodyBytes, waitsForContinue && admission.session.relaysContinue), arrival.traceId);
    }
  }

  /**
   * Runs `then` with the tunnel's admission: at once, unless the edges' shared
   * rate limit has to answer first. A client gone meanwhile gives its slot back.
   */
  private admit(host: string | undefined, arrival: Arrival, gone: () => boolean, then: (admission: Admission) => void): void {
    const local = this.registry.admit(host);
    const admission = arrival.hop !== undefined ? this.asHolder(host, local) : local instanceof Promise || local.ok ? local : this.elsewhere(host, local);
    if (!(admission instanceof Promise)) {
      then(admission);
      return;
    }
    void admission.then((decided) => {
      if (!decided.ok || !gone()) {
        then(decided);
        return;
      }
      decided.release();
      this.refused(arrival, { code: ErrorCode.ClientGone, message: 'the public client went away', name: decided.name }, false);
    });
  }

  /**
   * Whether the request's X-Forwarded-* fields go on (forwarded-fields.ts):
   * from a trusted peer, or another edge, which has decided for its client.
   * An edge from before that rule passed everything on: then this edge
   * decides, for the client as that edge saw it. Asked of requests the
   * agent adds its own to (HTTP and WebSocket).
   */
  private vouchedFor(arrival: Arrival, peerAddress: string | undefined): boolean {
    if (arrival.hop !== undefined) return arrival.hop.vouched || this.forwardedTrust.trusts(arrival.hop.client?.address);
    return this.forwardedTrust.trusts(peerAddress);
  }

  /** When another edge of the cluster sent this request, the trace it goes by there ('' if none); its mark is taken off either way. */
  private hopFrom(rawHeaders: string[], headers: Record<string, unknown>): EdgeHop | undefined {
    return this.forwarding?.forwarder.arrivedFromEdge(rawHeaders, headers);
  }

  /**
   * Another edge forwarded the request here as to an edge holding its
   * tunnel: one this edge does not know (restarted, its names not yet back,
   * or gone from it) is offline for that edge's client, not a name nobody
   * holds (a definite 404 a client or cache may keep).
   */
  private asHolder(host: string | undefined, local: Admission | Promise<Admission>): Admission | Promise<Admission> {
    if (local instanceof Promise || local.ok || local.code !== ErrorCode.NoTunnel) return local;
    const name = this.registry.nameOf(host);
    return { ok: false, code: ErrorCode.TunnelOffline, message: `tunnel ${name ?? host ?? '(none)'} is not held by the edge it was forwarded to`, ...(name !== undefined && { name }) };
  }

  /** A tunnel this edge cannot serve may be served by another edge of the cluster: admitted there, or refused as it was here. */
  private elsewhere(host: string | undefined, refusal: Exclude<Admission, { ok: true }>): Admission | Promise<Admission> {
    const name = this.registry.nameOf(host);
    const { forwarding } = this;
    if (forwarding === undefined || name === undefined || (refusal.code !== ErrorCode.NoTunnel && refusal.code !== ErrorCode.TunnelOffline)) return refusal;
    return forwarding.holders(name).then((holders): Admission => {
      if (holders === undefined) return refusal;
      // Not a definite 404 while nobody can tell (an edge just started, Redis out of reach): asked again, it may be served.
      if (holders === 'unknown') {
        return { ok: false, code: ErrorCode.ClusterUnavailable, message: `cannot tell now which edge holds tunnel ${name}: the cluster's shared state is out of reach`, retryAfterSeconds: 1, name };
      }
      this.registry.heldElsewhere(name);
      // Limits and rate are the holding edge's to apply: the request is one of its own there.
      return { ok: true, name, protocol: holders.protocol as ProtocolType, session: forwarding.forwarder.routeTo(holders.edges), release: () => {} };
    });
  }

  /** A request head the listener refused before it could be routed (too large, malformed, too slow). */
  headRefused(code: string, answered = true): void {
    this.refused({ protocol: 'http', method: '', path: '', traceId: traceIdOf(undefined) }, { code, message: '' }, true, answered);
  }

  /** An HTTP/1.1 request refused before its body is read: the connection closes after the answer, which keeps the body off the wire. */
  private refuseUnread(req: IncomingMessage, res: ServerResponse, arrival: Arrival, refusal: Refusal): void {
    closeAfterAnswer(req, res);
    respondWithError(res, refusal.code, refusal.message);
    this.refused(arrival, refusal);
  }

  /**
   * The record of a request ended by the edge itself, without the agent:
   * refused (or its client gone first). `answered`: its client got the
   * refusal's status (not a connection sent away).
   */
  private refused(arrival: Arrival, refusal: Refusal, byTheEdge = true, answered = byTheEdge): void {
    const outcome = new RequestOutcome(arrival.protocol);
    outcome.failed(refusal.code, answered);
    const { method, path, traceId } = arrival;
    const record = outcome.record({ requestId: randomUUID(), traceId, tunnel: refusal.name ?? '', method, path, bytesIn: 0, bytesOut: 0 });
    record.refused = byTheEdge;
    this.report(record);
  }

  /** `serviceContinues`: the client waits for the service's 100 (Continue) before it sends its body, so the head cannot wait for the body. */
  private httpPolicy(admission: Admitted, maxBodyBytes: number, serviceContinues: boolean): PublicRequestPolicy {
    return {
      protocol: ProtocolType.PROTOCOL_TYPE_HTTP,
      kind: 'http',
      inlineBody: !serviceContinues,
      maxBodyBytes,
      responseTimeoutMs: admission.session.config.requestTimeoutMs,
      idleTimeoutMs: this.limits.idleTimeoutMs,
      deadlineMs: 0,
    };
  }

  private startRequest(admission: Admitted, side: Http1PublicStream | Http2PublicStream, policy: PublicRequestPolicy, traceId: string): void {
    this.track(admission, traceId, (ended) => new PublicRequestExchange(randomUUID(), admission.name, admission.session, side, policy, ended)).start();
  }

  /** Makes an exchange that the agent's session tracks, that gives its slot back when it ends, and whose record is then reported. */
  private track<E extends Exchange & { record(): PublicRequestRecord }>(admission: Admitted, traceId: string, make: (ended: () => void) => E): E {
    const exchange: E = make(() => {
      admission.session.forget(exchange);
      admission.release();
      this.report(exchange.record());
    });
    exchange.traceId = traceId;
    admission.session.track(exchange);
    return exchange;
  }
}

export type RequestTarget = { ok: true; host: string; path: string } | { ok: false; code: string; message: string };

/**
 * Where an HTTP/1.1 request goes. One Host header (RFC 9112 section 3.2: a
 * request with none or several gets 400); an absolute-form target's
 * authority wins over Host, and the path goes on in origin form (section 3.2.2).
 */
export function resolveRequestTarget(req: IncomingMessage): RequestTarget {
  // Node's parser takes `HTTP/2.0` in a request line, which is no HTTP/2 (that starts with its preface): 505, as
  // `HTTP/3.0` gets from the parser; it went on as HTTP/1.1.
  if (req.httpVersionMajor !== 1) return { ok: false, code: ErrorCode.HttpVersion, message: unservedHttpVersion };
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') hosts++;
  if (hosts > 1) return { ok: false, code: ErrorCode.BadRequest, message: 'a request must carry exactly one Host header' };
  // Node's parser takes `gzip, chunked` and undoes only the chunked: the service would get gzip bytes it was not told of. RFC 9112 section 6.1: 501.
  const codings = req.headers['transfer-encoding'];
  if (codings !== undefined && codings.toLowerCase().split(',').some((coding) => coding.trim() !== 'chunked')) {
    return { ok: false, code: ErrorCode.UnsupportedTransferCoding, message: `the transfer coding "${codings.slice(0, 60)}" is not carried: only chunked is` };
  }
  const url = req.url ?? '/';
  const absolute = /^https?:\/\/([^/?#]*)([^#]*)/i.exec(url);
  if (absolute !== null) {
    const [, authority, rest] = absolute;
    if (authority === '' || authority!.includes('@')) return { ok: false, code: ErrorCode.BadRequest, message: `"${url.slice(0, 100)}" is not a usable request target` };
    return { ok: true, host: authority!, path: rest === '' ? '/' : rest!.startsWith('/') ? rest! : `/${rest}` };
  }
  // Origin-form, or `OPTIONS *` (RFC 9112 section 3.2): another scheme's absolute URI (ws://...) is nothing the service could be asked for.
  if (!url.startsWith('/') && !(url === '*' && req.method === 'OPTIONS')) return { ok: false, code: ErrorCode.BadRequest, message: `"${url.slice(0, 100)}" is not a usable request target` };
  if (hosts === 0 && req.httpVersion !== '1.0') return { ok: false, code: ErrorCode.BadRequest, message: 'an HTTP/1.1 request must carry a Host header' };
  return { ok: true, host: req.headers.host ?? '', path: url };
}

/** The trace id of a W3C traceparent header (so the caller's trace continues), else a new one. */
export function traceIdOf(traceparent: string | string[] | undefined): string {
  const match = typeof traceparent === 'string' ? /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent.trim()) : null;
  return match?.[1] ?? newTraceId();
}

/** Random bytes drawn 256 ids at a time (as randomUUID does): one system call per request showed in profiles. */
const traceIdPool = Buffer.alloc(16 * 256);
let traceIdOffset = traceIdPool.length;

function newTraceId(): string {
  if (traceIdOffset === traceIdPool.length) {
    randomFillSync(traceIdPool);
    traceIdOffset = 0;
  }
  traceIdOffset += 16;
  return traceIdPool.toString('hex', traceIdOffset - 16, traceIdOffset);
}

/** The stricter of two byte limits where 0 or undefined means none. */
function tighterLimit(a: number, b: number | undefined): number {
  if (!b) return a;
  return a === 0 ? b : Math.min(a, b);
}

/** A request another edge forwarded goes on as from the client that edge saw, not from that edge. */
function asSeenByForwarder(side: PublicStream, arrival: Arrival): void {
  if (arrival.hop?.httpVersion !== undefined) side.head.httpVersion = arrival.hop.httpVersion;
  const client = arrival.hop?.client;
  if (client === undefined) return;
  side.head.remoteAddress = client.address;
  side.head.scheme = client.scheme;
}

/** Expect: 100-continue, the only expectation HTTP defines (RFC 9110 section 10.1.1), as Node's server recognises it. */
function expectsContinue(expect: string | string[] | undefined): boolean {
  return typeof expect === 'string' && /(?:^|\W)100-continue(?:$|\W)/i.test(expect);
}
