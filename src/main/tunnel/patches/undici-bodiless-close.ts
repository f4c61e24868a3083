// Closes the agent's connection to a local service after a 204 or 304
// answer. The agent's kept connections serve every public client in turn,
// and undici sends the next request on one as soon as an answer is read:
// a body the service writes after such an answer anyway (Python's
// http.server handler that writes one on a 204), in a later read, was taken
// for the next request's answer, which went to another client, and every
// answer after it on the connection shifted by one (raw-socket audit:
// hundreds of answers to the wrong clients in 8 s). Directly, such bytes
// reach only the client that asked, on its own connection. A HEAD's
// connection undici closes itself, for the same reason.
import type { Socket } from 'node:net';
import { undiciSymbol, wrapHeadCallback } from './undici-parser.js';

/** Installs the patch on the first socket undici reads a response on: called on a pool socket as it connects, once for all pools. */
export function closeAfterBodilessAnswers(socket: Socket): void {
  wrapHeadCallback(socket, 'undici-bodiless-close', 'a body a local service sends after a 204 or 304 may reach another client', (original) => {
    // undici's mark for a socket to close once its requests are answered (as `Connection: close` sets it).
    const kReset = undiciSymbol('kReset');
    if (kReset === undefined) return undefined;
    return function (statusCode, upgrade, shouldKeepAlive) {
      if ((statusCode === 204 || statusCode === 304) && this.socket !== undefined) (this.socket as unknown as Record<symbol, unknown>)[kReset] = true;
      return original.call(this, statusCode, upgrade, shouldKeepAlive);
    };
  });
}
