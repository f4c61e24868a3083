// Sends requests to local HTTP/1.1 services. A request whose body length is
// known (most of them) goes through an undici pool: about a quarter less CPU
// per forwarded request than node:http (measured with wrk through the
// tunnel), and raw response headers. A streamed body goes through node:http,
// the only client here that can send trailers after a chunked body, and so
// does `OPTIONS *`, whose target undici refuses.
// undici's sockets are known (LocalSockets), so that the pieces of a gathered
// body chunk reach the service in one writev, not one write per piece.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex, Readable } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import type { Header } from '../../gen/burrow/v1/tunnel.js';
import { maxLocalConnections, maxResponseHeadBytes } from '../config.js';
import { rawHeaderValue } from '../headers.js';
import { reportPatch } from '../patches/patch-report.js';
import { unaskedContinueStatus } from '../patches/undici-unasked-continue.js';
import { LocalSockets, localSocketsTracked } from './local-sockets.js';
import { formatLocalTarget, type LocalTarget } from './local-target.js';

export interface LocalRequest {
  method: string;
  path: string;
  /** Node's flat [name, value, ...] list, Host included. */
  headers: string[];
  /** The whole body, or a stream of it. */
  body: Buffer | Readable | undefined;
  /** The body streams with no length declared: sent chunked, with `trailers()` after it. */
  chunked: boolean;
  trailers(): Header[];
  /** The client holds its body for the service's 100 (Continue): its Expect field goes on, so node:http sends it (undici refuses the field). */
  awaitsContinue?: boolean;
}

/** The life of one local request, as undici's dispatcher reports it (raw headers as strings). */
export interface LocalResponseHandler {
  /** `abort` ends the request from our side. */
  onConnect(abort: (error: Error) => void): void;
  /** An interim (1xx) response the service sent before its final one: 103 Early Hints, 102 Processing. */
  onInterim?(status: number, rawHeaders: string[], statusMessage: string): void;
  /** The final response head; `resume` goes on after onData returned false. */
  onHeaders(status: number, rawHeaders: string[], resume: () => void, statusMessage: string): void;
  /** False asks for a pause until resume. */
  onData(chunk: Buffer): boolean;
  onComplete(rawTrailers: string[]): void;
  onError(error: NodeJS.ErrnoException): void;
}

/** The error code both clients report when the service cut a response short. */
export const responseCutCode = 'UND_ERR_SOCKET';

// Loaded on the first forwarded request, and only the pool: all of undici
// (fetch, WebSocket, caches) would add ~20 MB to every process at rest,
// the server's too, which never forwards to a local service.
let poolClass: typeof Pool | undefined;
function loadPool(): typeof Pool {
  if (poolClass !== undefined) return poolClass;
  const require = createRequire(import.meta.url);
  let pool: unknown;
  try {
    pool = require('undici/lib/dispatcher/pool.js');
  } catch {
    pool = undefined;
  }
  poolClass = reportPatch('undici-pool', typeof pool === 'function', 'all of undici loads (about 20 MB more at rest)')
    ? (pool as typeof Pool)
    : (require('undici') as { Pool: typeof Pool }).Pool;
  return poolClass;
}

const dayMs = 24 * 60 * 60 * 1000;
/** How long a body that awaits the service's 100 (Continue) waits for it before it goes anyway (curl's wait). */
const expectPatienceMs = 1_000;

/** Methods a proxy may send again by itself (RFC 9110 section 9.2.2; RFC 9112 section 9.3.1 forbids it for others). */
const idempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Whether `request` may go to the service a second time: idempotent (or said to be), with its whole body in hand. */
function sentAgainSafely(request: LocalRequest): boolean {
  if (request.body !== undefined && !Buffer.isBuffer(request.body)) return false;
  if (idempotentMethods.has(request.method.toUpperCase())) return true;
  return rawHeaderValue(request.headers, 'idempotency-key') !== undefined || rawHeaderValue(request.headers, 'x-idempotency-key') !== undefined;
}

/**
 * The service closed a connection that had already served a response as
 * the request came (not refused, reset, timed out or answered badly). A
 * reset comes without undici's account of the socket, so whether the
 * connection was a new one is not known: not sent again.
 */
function droppedWhenKept(error: Error & { code?: string; socket?: { bytesRead?: number } }): boolean {
  return error.code === 'UND_ERR_SOCKET' && error.message === 'other side closed' && (error.socket?.bytesRead ?? 0) > 0;
}

/** undici's complaint about a 204 or 304 response's Content-Length, which announces no body on them. */
const bodilessWithLength = (status: number, error: Error): boolean =>
  (status === 304 || status === 204) && (error as NodeJS.ErrnoException).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';

/** undici hands raw headers over as bytes; Node's parser would have read them as latin1 too. */
const rawStrings = (raw: readonly Buffer[] | null | undefined): string[] => (raw ?? []).map((b) => b.toString('latin1'));

/**
 * undici decodes the reason phrase as UTF-8; like the headers it goes on as
 * its bytes read as latin1, which the edge writes back as they came (a
 * UTF-8 reason reached the client re-encoded, "é" as one byte, or gave way
 * to the status's own). Bytes that were no UTF-8 are lost to undici's
 * decoding (U+FFFD): such a reason stays as decoded, which the edge does not
 * write.
 */
const reasonBytes = (statusMessage: string): string =>
  /^[\x00-\x7f]*$/.test(statusMessage) || statusMessage.includes('\ufffd') ? statusMessage : Buffer.from(statusMessage, 'utf8').toString('latin1');

/** A pool to one local service, with its sockets. */
interface LocalPool {
  pool: Pool;
  sockets: LocalSockets;
}

export class LocalHttpClient {
  private readonly pools = new Map<string, LocalPool>();
  private readonly streamingAgent: HttpAgent;

  /** `maxConnections` to each local service through each client (undici's pool, node:http's agent). */
  constructor(private readonly maxConnections = maxLocalConnections) {
    this.streamingAgent = new HttpAgent({ keepAlive: true, maxSockets: maxConnections });
  }

  dispatch(target: LocalTarget, request: LocalRequest, handler: LocalResponseHandler): void {
    if (request.chunked && request.body !== undefined && !Buffer.isBuffer(request.body)) this.dispatchWithNodeHttp(target, request, request.body, handler);
    // `OPTIONS *` (RFC 9112 section 3.2.4): undici takes only paths that start with a slash.
    else if (request.path === '*') this.dispatchWithNodeHttp(target, request, request.body, handler);
    else if (request.awaitsContinue === true) this.dispatchWithNodeHttp(target, request, request.body, handler);
    else this.dispatchKnownLength(target, request, handler);
  }

  /**
   * Whether a known-length body's pieces pushed within writeTogether reach
   * the service together; when not, they are better joined first.
   */
  get writesTogether(): boolean {
    return localSocketsTracked();
  }

  /**
   * Whether `bytes` in pieces bound for `target` are better sent together
   * than joined: holding writes together holds every socket of its pool.
   */
  writesTogetherCheaply(target: LocalTarget, bytes: number): boolean {
    return this.pool(target).sockets.corkCheaperThanCopying(bytes);
  }

  /** Runs `write`, which feeds request bodies bound for `target`, and sends what it fed at once. */
  writeTogether(target: LocalTarget, write: () => void): void {
    const uncork = this.pool(target).sockets.cork();
    try {
      write();
    } finally {
      uncork();
    }
  }

  close(): void {
    for (const { pool } of this.pools.values()) pool.destroy().catch(() => {});
    this.pools.clear();
    this.streamingAgent.destroy();
  }

  private pool(target: LocalTarget): LocalPool {
    const key = formatLocalTarget(target);
    let local = this.pools.get(key);
    if (local === undefined) {
      const sockets = new LocalSockets();
      local = { pool: this.newPool(target, this.maxConnections, sockets), sockets };
      this.pools.set(key, local);
    }
    return local;
  }

  /** Of at most `connections`, tracked by `sockets` when given. */
  private newPool(target: LocalTarget, connections: number, sockets?: LocalSockets): Pool {
    // The server's request and idle timeouts govern; undici's own (300 s by
    // default) would cut a long quiet stream, so they only backstop a day.
    // (Disabling them with 0 measured slower: a timer re-armed per request.)
    // Without undici's connector (connect undefined), undici connects on its own.
    return new (loadPool())(`http://${formatLocalTarget(target)}`, { connections, headersTimeout: dayMs, bodyTimeout: dayMs, maxHeaderSize: maxResponseHeadBytes, connect: sockets?.connect });
  }

  /**
   * Through undici's pool. A request whose kept-alive connection the service
   * closed as the request came, before any answer (an idle timeout meeting
   * the request: curl, with a new connection, would not have met it), is
   * sent again, once, on a new connection when that is safe
   * (sentAgainSafely), as Go's client does: while the connection that
   * failed had served before, so a service that drops every request still
   * fails it. Not on another kept one of the pool, which may have been
   * closed as well: each went once more to a service that had read the
   * request and dropped it (three runs of one GET).
   */
  private dispatchKnownLength(target: LocalTarget, request: LocalRequest, handler: LocalResponseHandler): void {
    const { method, path, headers, body } = request;
    const { pool, sockets } = this.pool(target);
    if (body !== undefined && !Buffer.isBuffer(body) && sockets.connect !== undefined) {
      // Pieces pushed before undici took the body (or while it paused it)
      // flow out when it resumes it, one write each: hold them until they all have.
      body.on('resume', () => process.nextTick(sockets.cork()));
    }
    let aborted: Error | undefined;
    let abortCurrent: (error: Error) => void = () => {};
    handler.onConnect((error) => {
      aborted ??= error;
      abortCurrent(error);
    });
    let answered = false;
    /** The one resend goes on a connection of its own: RFC 9112 section 9.3.1 has no failed resend sent again. */
    const send = (via: Pool, resent: boolean): void => {
      let finalStatus = 0;
      const undiciHandler: Dispatcher.DispatchHandler = {
        onConnect: (abort) => {
          if (aborted !== undefined) abort(aborted);
          else abortCurrent = abort;
        },
        onHeaders: (status, rawHeaders, resume, statusMessage) => {
          answered = true;
          // No request here asks for a 100 (Continue): one that comes anyway is the service's to send and nobody's to hear, as node:http drops it.
          if (status === unaskedContinueStatus) return true;
          // A 101 is an upgrade: it does not reach here.
          if (status < 200) {
            handler.onInterim?.(status, rawStrings(rawHeaders), reasonBytes(statusMessage));
            return true;
          }
          finalStatus = status;
          handler.onHeaders(status, rawStrings(rawHeaders), resume, reasonBytes(statusMessage));
          return true;
        },
        onData: (chunk) => handler.onData(chunk),
        onComplete: (trailers) => {
          const raw = rawStrings(trailers as unknown as Buffer[] | null);
          if (framesConnection(raw)) this.retirePool(target, via);
          handler.onComplete(raw);
        },
        onError: (error) => {
          // A 304 may carry the Content-Length its 200 would have (RFC 9110
          // section 8.6) and has no body; undici holds that against it (7.x),
          // after handing over the head. The response is whole.
          if (bodilessWithLength(finalStatus, error)) {
            handler.onComplete([]);
          } else if (!answered && aborted === undefined && !resent && droppedWhenKept(error) && sentAgainSafely(request)) {
            const fresh = this.newPool(target, 1);
            send(fresh, true);
            // Closed once the request is done with it.
            fresh.close().catch(() => {});
          } else {
            handler.onError(error as NodeJS.ErrnoException);
          }
        },
      };
      via.dispatch({ path, method: method as Dispatcher.HttpMethod, headers, body }, undiciHandler);
    };
    send(pool, false);
  }

  /**
   * Trailers that speak of the connection (`Connection: close`, a transfer
   * coding) leave undici's parser closed to the next response on that
   * socket, which the pool hands to the next request anyway: it ran at the
   * service and got 502. The pool goes, its sockets once their requests
   * end; the next request opens a new one.
   */
  private retirePool(target: LocalTarget, pool: Pool): void {
    const key = formatLocalTarget(target);
    if (this.pools.get(key)?.pool !== pool) return;
    this.pools.delete(key);
    pool.close().catch(() => {});
  }

  /** Through node:http: a streamed body (chunked, then trailers), or a request undici will not send. */
  private dispatchWithNodeHttp(target: LocalTarget, request: LocalRequest, body: Buffer | Readable | undefined, handler: LocalResponseHandler): void {
    let settled = false;
    const settle = (run: () => void): void => {
      if (settled) return;
      settled = true;
      run();
    };
    const req = httpRequest({
      host: target.host,
      port: target.port,
      method: request.method,
      path: request.path,
      // A streamed body goes chunked whatever the method: trailers need it.
      headers: request.chunked ? [...request.headers, 'Transfer-Encoding', 'chunked'] : request.headers,
      agent: this.streamingAgent,
      maxHeaderSize: maxResponseHeadBytes,
    });
    handler.onConnect((error) => req.destroy(error));
    req.on('error', (error: NodeJS.ErrnoException) => settle(() => handler.onError(error)));
    // A 101 nobody asked for: with no listener, Node drops the connection and says nothing, and the request waited for the edge's timeout.
    req.on('upgrade', (_res: IncomingMessage, socket: Duplex) => {
      socket.destroy();
      settle(() => handler.onError(new Error('it switched protocols (101) though the request asked for no upgrade')));
    });
    let answered = false;
    // Closed with neither an answer nor an error: said at once, as undici does.
    req.on('close', () => answered || settle(() => handler.onError(Object.assign(new Error('the connection closed without an answer'), { code: 'ECONNRESET' }))));
    const expecting = request.awaitsContinue === true;
    // Node reports 1xx responses but 101 here; a 100 (Continue) only when asked for, as a client takes it.
    req.on('information', (info: { statusCode: number; statusMessage: string; rawHeaders: string[] }) => {
      if (info.statusCode !== 100 || expecting) handler.onInterim?.(info.statusCode, info.rawHeaders, info.statusMessage);
    });
    // The head goes at once: the client sends the body only once the service has answered it.
    if (expecting) req.flushHeaders();
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      handler.onHeaders(res.statusCode ?? 502, res.rawHeaders, () => res.resume(), res.statusMessage ?? '');
      res.on('data', (chunk: Buffer) => handler.onData(chunk) || res.pause());
      res.on('end', () => settle(() => handler.onComplete(res.rawTrailers)));
      res.on('error', () => {});
      res.on('close', () => {
        if (!res.complete) settle(() => handler.onError(Object.assign(new Error('response cut short'), { code: responseCutCode })));
      });
    });
    if (body === undefined || Buffer.isBuffer(body)) {
      req.end(body);
      return;
    }
    const sendBody = (): void => {
      body.on('data', (chunk: Buffer) => req.write(chunk) || body.pause());
      req.on('drain', () => body.resume());
      body.once('end', () => {
        const trailers = request.trailers();
        if (trailers.length > 0) req.addTrailers(trailers.map((h): [string, string] => [h.name, h.value]));
        req.end();
      });
    };
    if (!expecting) {
      sendBody();
      return;
    }
    // The body waits for the service's 100, as a client that asked for one does, even where the public client sent it
    // without waiting: a service that refuses (413) closes the connection, and a body written meanwhile made it reset
    // (EPIPE) before its answer was read, a 502. As curl does, it goes after a second without an answer.
    let started = false;
    const start = (): void => {
      clearTimeout(patience);
      if (started) return;
      started = true;
      sendBody();
    };
    const patience = setTimeout(start, expectPatienceMs);
    req.once('continue', start);
    req.once('response', (res: IncomingMessage) => {
      if (started) return;
      // A final answer before any 100: a refusal (300 and up) takes no body, and the connection is the service's to
      // close; any other reads the body as it answers (a stream, an echo), so it goes on, as curl sends it.
      if ((res.statusCode ?? 0) < 300) start();
      else {
        clearTimeout(patience);
        res.once('end', () => req.destroy());
      }
    });
    req.once('close', () => clearTimeout(patience));
  }
}

/** A trailer field that frames the connection, which no trailer may (RFC 9110 section 6.5.1). */
function framesConnection(rawTrailers: string[]): boolean {
  for (let i = 0; i < rawTrailers.length; i += 2) {
    const name = rawTrailers[i]!.toLowerCase();
    if (name === 'connection' || name === 'transfer-encoding' || name === 'content-length') return true;
  }
  return false;
}
