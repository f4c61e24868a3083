// HTTP/1.1 connections the edge closes after an answer (a refusal, a body it
// did not read to its end). Node's parser goes on with whatever the client
// pipelined behind that request and emits it as a request all the same,
// though it will never write its answer: forwarded, it would run on the
// service with no one told (a POST behind a 501, seen with raw sockets).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const closing = new WeakSet<Socket>();

/** The connection closes once `res` is answered; requests after it on the connection are not served. */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = false;
  closing.add(req.socket);
}

/** The request came behind one whose answer closes its connection: it is not to be served. */
export function behindClosingAnswer(req: IncomingMessage): boolean {
  return closing.has(req.socket);
}
