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
// It waits for the latest answer owed before it, which the head guard, watching
// every request on the connection, hands over with it (http1-head-guard.ts).
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Runs `serve` now, or once every answer before `res` on its connection has been written. */
export function inTurn(res: ServerResponse, serve: () => void): void {
  if (res.socket !== null) serve();
  else res.once('socket', serve);
}

/**
 * Runs `serve` with the connection once `owed`, the latest answer owed on
 * it (answers finish in order, so then all have), has been written: now
 * when there is none. When it closes the connection (`Connection: close`,
 * or the client went), nothing is served.
 */
export function afterOwed(owed: ServerResponse | undefined, socket: Socket, serve: () => void): void {
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
