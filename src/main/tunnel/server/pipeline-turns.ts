// HTTP/1.1 requests pipelined on one connection reach the service one at a
// time, in order. Node's server emits each request as soon as it has parsed
// it, so the edge sent them on all at once: a POST ran at the service before
// the one sent ahead of it (RFC 9112 section 9.3.2 lets a server work on
// pipelined requests at once only when all are safe), and a service that
// serves a connection one request at a time lost answers. Node holds the
// answer of a pipelined request back, without a socket, until the answer
// before it has finished, and then hands it the connection ('socket'): that
// is when the request goes on. Requests that are not pipelined cost nothing.
import type { ServerResponse } from 'node:http';

/** Runs `serve` now, or once every answer before `res` on its connection has been written. */
export function inTurn(res: ServerResponse, serve: () => void): void {
  if (res.socket !== null) serve();
  else res.once('socket', serve);
}
