// Guards the HTTP/1.1 request head on every public connection:
// - a deadline (slowloris): the head must arrive within it, counted from the
//   connection, or on a kept-alive connection from the end of the previous
//   response plus the idle time. Node's own headersTimeout only runs for
//   servers that listen themselves; ours are fed sockets by the listener.
// - heads Node cannot parse (too large, malformed, an unknown version) get a
//   definite answer with a stable code: 414 when the request line alone is
//   too long, 431 for the headers, 505 for the version, 400 otherwise; then
//   the connection closes after the client has had time to read it (closing
//   with unread input would reset it and lose the answer). Bytes after a
//   request marked `Connection: close` are no such head: they are ignored.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '../errors.js';
import { headTooLarge } from './request-head-size.js';
import { rawErrorAnswer, unservedHttpVersion } from './public-errors.js';
import { longestTimerMs } from '../config.js';
import { afterOwed } from './pipeline-turns.js';

/** How long a refused connection may keep sending before it is cut. */
const lingerMs = 2_000;

/**
 * Pipelined requests whose body turned out malformed while they waited
 * their turn: not yet gone on (pipeline-turns.ts), each is refused in its
 * turn, after the answers before it (public-router.ts).
 */
const refusedInTurn = new WeakMap<IncomingMessage, { code: string; message: string }>();

/** The refusal `req` is to get in its turn instead of being served, if its body turned out malformed while it waited. */
export function refusalInTurn(req: IncomingMessage): { code: string; message: string } | undefined {
  return refusedInTurn.get(req);
}

interface HeadState {
  timer?: NodeJS.Timeout;
  /** The request line of the current head has ended (a newline arrived). */
  lineEnded: boolean;
  /** The request line's bytes so far (all of it once it has ended). */
  lineBytes: number;
  /** The response of a request parsed and not yet answered in full: an error now is in its body. */
  response?: ServerResponse;
  refused: boolean;
}

export class Http1HeadGuard {
  private readonly states = new WeakMap<Socket, HeadState>();
  /** The edge is stopping: every answer closes its connection (drain()). */
  private draining = false;

  constructor(
    server: Server,
    private readonly deadlineMs: number,
    idleMs: number,
    private readonly maxHeaderBytes: number,
    /** Each head refused, by its code (for the access log and metrics). */
    private readonly refused: (code: string) => void = () => {},
  ) {
    const headIn = (req: IncomingMessage, res: ServerResponse): void => {
      this.disarm(req.socket, res);
      if (this.draining) res.shouldKeepAlive = false;
      // The wait for another head starts once the latest request parsed is answered: not while one pipelined
      // behind this answer (or an upgrade or CONNECT, which owe none) is still under way, which got 408 mid-answer.
      // Within Node's longest timer: past it, a timer fires after 1 ms (both may be set up to it).
      res.once('finish', () => {
        if (req.socket.destroyed || this.states.get(req.socket)?.response !== res) return;
        // Answered with keep-alive before the drain began: no other request comes on it now.
        if (this.draining) req.socket.end();
        else this.arm(req.socket, Math.min(idleMs + deadlineMs, longestTimerMs));
      });
    };
    server.on('request', headIn);
    // A request with Expect: 100-continue comes as this instead, where the server listens for it (public-listener.ts).
    server.on('checkContinue', headIn);
    // Any other expectation: 417, as Node answers when nobody listens (RFC 9110 section 10.1.1), but with the deadline stopped.
    server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
      headIn(req, res);
      res.writeHead(417).end();
    });
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => this.refuse(socket, error));
  }

  /** Whether `socket` has been handed to the HTTP/1.1 server before. */
  watches(socket: Socket): boolean {
    return this.states.has(socket);
  }

  /** Starts watching a socket about to be handed to the HTTP/1.1 server (again, after an upgrade it ignored). */
  arm(socket: Socket, ms = this.deadlineMs): void {
    let state = this.states.get(socket);
    if (state === undefined) {
      state = { lineEnded: false, lineBytes: 0, refused: false };
      this.states.set(socket, state);
      const watched = state;
      socket.once('close', () => clearTimeout(watched.timer));
      // Only until the request line ends: one search of the head's first bytes.
      socket.prependListener('data', (chunk: Buffer) => {
        if (watched.lineEnded) return;
        const end = chunk.indexOf(10);
        watched.lineBytes += end < 0 ? chunk.length : end;
        watched.lineEnded = end >= 0;
      });
    }
    clearTimeout(state.timer);
    state.lineEnded = false;
    state.lineBytes = 0;
    state.response = undefined;
    const timer = setTimeout(() => {
      if (socket.destroyed) return;
      socket.end(rawErrorAnswer(ErrorCode.ClientTimeout, 'the request head did not arrive in time'), () => socket.destroy());
      this.refused(ErrorCode.ClientTimeout);
    }, ms);
    timer.unref();
    state.timer = timer;
  }

  /**
   * The edge is stopping: every answer from now on closes its connection,
   * and of `sockets`, one that waits for a head closes now (a client's
   * request the edge has not read is one it may send again elsewhere, RFC
   * 9112 section 9.3.1), each other after the answers it owes.
   */
  drain(sockets: Iterable<Socket>): void {
    this.draining = true;
    for (const socket of sockets) {
      const state = this.states.get(socket);
      if (state === undefined) continue;
      const awaitingHead = state.response === undefined && !state.lineEnded && state.lineBytes === 0 && !state.refused;
      if (awaitingHead) socket.destroy();
      else if (state.response !== undefined && !state.response.headersSent) state.response.shouldKeepAlive = false;
    }
  }

  /**
   * A socket handed over by an upgrade or CONNECT: no head is awaited on it
   * now. The answer still owed before it on the connection, if any, which it
   * waits for (pipeline-turns.ts).
   */
  handOver(socket: Socket): ServerResponse | undefined {
    const owed = this.states.get(socket)?.response;
    this.disarm(socket);
    return owed;
  }

  /** Stops the deadline: the head is in; with the response it now owes, or none (an upgrade). */
  private disarm(socket: Socket, response?: ServerResponse): void {
    const state = this.states.get(socket);
    if (state === undefined) return;
    clearTimeout(state.timer);
    state.lineEnded = true;
    state.response = response;
  }

  private refuse(socket: Socket, error: NodeJS.ErrnoException): void {
    // Bytes after a request marked `Connection: close`: RFC 9112 section 9.6
    // has the server answer that request and those before it, process
    // nothing after it and close, which Node does once they are answered.
    if (error.code === 'HPE_CLOSED_CONNECTION') {
      socket.removeAllListeners('data');
      socket.on('data', () => {});
      // One marked in its trailers, which Node's keep-alive (decided from the head) misses, closes at its end (http1-public-stream.ts).
      return;
    }
    const state = this.states.get(socket);
    if (state?.refused) return;
    if (state !== undefined) {
      state.refused = true;
      clearTimeout(state.timer);
    }
    // Node would feed the rest to its failed parser (and say clientError again): the rest is discarded.
    socket.removeAllListeners('data');
    socket.on('data', () => {});
    socket.resume();
    // Malformed mid-body (a bad chunk) with its answer under way: only a cut
    // is definite. With nothing of it sent yet, 400, as Node's own server
    // answers; the exchange then ends as its client went away. A request
    // still waiting its turn has gone nowhere yet: the answers owed before
    // it go out whole, then its 400 (Node directly answers 400 at once and
    // loses them; RFC 9112 section 9.3.2 has them answered in order).
    const owed = state?.response;
    const inOwedBody = owed !== undefined && !owed.req.complete;
    if (socket.writable && inOwedBody && awaitingTurn(owed) && error.code !== 'HPE_INVALID_EOF_STATE') {
      // Counted by the router in its turn, with the request's method and path.
      refusedInTurn.set(owed.req, this.describe(error, false));
      return;
    }
    if (!socket.writable || (inOwedBody && (owed.socket !== socket || owed.headersSent))) {
      socket.destroy();
      return;
    }
    // The line alone past the limit, whether the head's end came in the same write or not (a 40 KB URL in one write).
    // The guard reads heads through 'data' events, which stop once Node's parser reads the socket itself (every head
    // after the first on a connection): of a head it saw nothing of, it says 431, the likelier (cookies, not URLs).
    const sawHead = state !== undefined && (state.lineEnded || state.lineBytes > 0);
    const lineTooLong = sawHead && (!state.lineEnded || state.lineBytes > this.maxHeaderBytes);
    const { code, message } = this.describe(error, lineTooLong);
    // A body its client stopped sending (its input ended: an upload abandoned) is no malformed request: its
    // exchange records the client gone; counted here as well, it was one request told twice in the metrics.
    const bodyAbandoned = inOwedBody && error.code === 'HPE_INVALID_EOF_STATE';
    if (!bodyAbandoned) this.refused(code);
    // A malformed head pipelined behind requests still being answered: its
    // 400 follows their answers (RFC 9112 section 9.3.2), where it had none.
    afterOwed(inOwedBody ? undefined : owed, socket, () => {
      socket.end(rawErrorAnswer(code, message));
      const cut = setTimeout(() => socket.destroy(), lingerMs);
      cut.unref();
      socket.once('close', () => clearTimeout(cut));
    });
  }

  private describe(error: NodeJS.ErrnoException, lineTooLong: boolean): { code: string; message: string } {
    switch (error.code) {
      case 'HPE_HEADER_OVERFLOW':
        return headTooLarge(lineTooLong, this.maxHeaderBytes);
      case 'HPE_INVALID_VERSION':
        // llhttp says so too of a good version ended by a bare LF ("Expected CRLF after version"): a malformed line, not another version.
        if (/CRLF/.test((error as { reason?: string }).reason ?? '')) return { code: ErrorCode.BadRequest, message: 'malformed request: lines must end with CRLF' };
        return { code: ErrorCode.HttpVersion, message: unservedHttpVersion };
      case 'ERR_HTTP_REQUEST_TIMEOUT':
        return { code: ErrorCode.ClientTimeout, message: 'the request head did not arrive in time' };
      default:
        return { code: ErrorCode.BadRequest, message: `malformed request: ${error.message.replace(/^Parse Error: /, '')}` };
    }
  }
}

/** Node holds a pipelined request's answer, with no connection, until the answers before it are written. */
function awaitingTurn(res: ServerResponse): boolean {
  return res.socket === null && !res.writableFinished && !res.destroyed;
}
