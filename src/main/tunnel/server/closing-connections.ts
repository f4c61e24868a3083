// HTTP/1.1 connections the edge closes after an answer (a refusal, a body it
// did not read to its end). Node's parser goes on with whatever the client
// pipelined behind that request and emits it as a request all the same,
// though it will never write its answer: forwarded, it would run on the
// service with no one told (a POST behind a 501, seen with raw sockets).
//
// Such a close lingers while the client may still be sending its body (RFC
// 9112 section 9.6; nginx's lingering close): Node ends the connection and
// destroys it as soon as its end is out, and a close with input unread
// resets it, which can reach a client still writing before it has read the
// answer: it got EPIPE or a reset instead of its 502 or 413.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How long a closed connection reads on, dropping what comes, for its client to read the answer before the reset. */
const lingerMs = 5_000;

const closing = new WeakSet<Socket>();

/** The connection closes once `res` is answered; requests after it on the connection are not served. */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = false;
  closing.add(req.socket);
  if (!req.complete) lingerOnClose(req.socket);
}

/**
 * Node's HTTP server closes a connection with destroySoon(): its end, then
 * destroy. Here it sends its end and reads on (Node's parser drops the rest
 * of the body; a request after it is not served, behindClosingAnswer) until
 * the client ends too, or `lingerMs` pass.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function (this: Socket): void {
    this.end();
    const timer = setTimeout(() => this.destroy(), lingerMs);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  };
}

/** The request came behind one whose answer closes its connection: it is not to be served. */
export function behindClosingAnswer(req: IncomingMessage): boolean {
  return closing.has(req.socket);
}
