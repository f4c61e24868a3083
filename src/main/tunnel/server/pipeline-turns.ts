// HTTP/1.1 requests pipelined on one connection reach the service one at a
// time, in order. Node's server emits each request as soon as it has parsed
// it, so the edge sent them on all at once: a POST ran at the service before
// the one sent ahead of it (RFC 9112 section 9.3.2 lets a server work on
// pipelined requests at once only when all are safe), and a service that
// serves a connection one request at a time lost answers. Node holds the
// answer of a pipelined request back, without a socket, until the answer
// before it has finished, and then hands it the connection ('socket'): that
// is when the request goes on. Requests that are not pipelined cost nothing.
//
// An upgrade or CONNECT is no request to Node: it hands the socket over as
// soon as the head is parsed, answers still owed before it or not. Served
// then, its 101 or refusal went out ahead of those answers (the client took
// it for the first one's) and a WebSocket's frames landed among them; an
// upgrade served as a plain request (ignored-upgrade.ts) was never answered.
// It waits for them the same way.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Runs `serve` now, or once every answer before `res` on its connection has been written. */
export function inTurn(res: ServerResponse, serve: () => void): void {
  if (res.socket !== null) serve();
  else res.once('socket', serve);
}

/** The latest answer each HTTP/1.1 connection owes: answers finish in order, so once it has, all have. */
export class OwedAnswers {
  private readonly latest = new WeakMap<Socket, ServerResponse>();

  /** Watches every request `server` parses: each owes an answer on its connection. */
  constructor(server: Server) {
    const owe = (req: IncomingMessage, res: ServerResponse): void => void this.latest.set(req.socket, res);
    server.on('request', owe).on('checkContinue', owe).on('checkExpectation', owe);
  }

  /**
   * Runs `serve` with the connection once every answer owed on it has been
   * written: now when none is. When one of them closes the connection
   * (`Connection: close`, or the client went), nothing is served.
   */
  afterOwed(socket: Socket, serve: () => void): void {
    const owed = this.latest.get(socket);
    this.latest.delete(socket);
    if (owed === undefined || owed.writableFinished || owed.destroyed) {
      serve();
      return;
    }
    const done = (): void => {
      owed.off('finish', done).off('close', done);
      socket.off('close', done);
      if (socket.destroyed || socket.writableEnded) {
        socket.destroy();
        return;
      }
      // Node set its keep-alive timer on the socket when that answer ended, and no longer listens for it.
      socket.setTimeout(0);
      serve();
    };
    owed.once('finish', done).once('close', done);
    socket.once('close', done);
  }
}
