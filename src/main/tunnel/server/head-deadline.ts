// Slowloris guard for HTTP/1.1: a request head must arrive within the
// deadline, counted from the connection to the parsed head; on a kept-alive
// connection the next head gets the idle time plus the deadline. Node's own
// headersTimeout only runs for servers that listen themselves; ours are fed
// sockets by the listener.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const timeoutBody = 'the request head did not arrive in time\n';
const timeoutResponse =
  'HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n' +
  `content-length: ${timeoutBody.length}\r\nx-burrow-error: BURROW_E_CLIENT_TIMEOUT\r\nconnection: close\r\n\r\n${timeoutBody}`;

export class HeadDeadline {
  private readonly timers = new WeakMap<Socket, NodeJS.Timeout>();
  private readonly watched = new WeakSet<Socket>();

  constructor(
    server: Server,
    private readonly ms: number,
    idleMs: number,
  ) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.disarm(req.socket);
      res.once('finish', () => req.socket.destroyed || this.arm(req.socket, idleMs + ms));
    });
    server.on('upgrade', (req: IncomingMessage) => this.disarm(req.socket));
  }

  /** Starts the clock for a socket about to be handed to the HTTP/1.1 server. */
  arm(socket: Socket, ms = this.ms): void {
    this.disarm(socket);
    const timer = setTimeout(() => {
      this.timers.delete(socket);
      if (!socket.destroyed) socket.end(timeoutResponse, () => socket.destroy());
    }, ms);
    timer.unref();
    this.timers.set(socket, timer);
    if (!this.watched.has(socket)) {
      this.watched.add(socket);
      socket.once('close', () => this.disarm(socket));
    }
  }

  private disarm(socket: Socket): void {
    clearTimeout(this.timers.get(socket));
    this.timers.delete(socket);
  }
}
