// Lets the agent's undici pool read a 100 (Continue) it did not ask for.
// undici never sends Expect, so it takes any 100 for a broken answer: it
// destroys the socket ('bad response') and the request got 502, where curl,
// node:http and browsers read on to the final answer, as RFC 9110 section
// 15.2 asks of every client (some servers send 100 to each request with a
// body, or to every request). Around the HTTP/1.1 parser's head callback
// (undici is pinned), such a 100 goes through undici's path for other
// interim answers under a stand-in status, which the pool's handler drops.
import type { Socket } from 'node:net';
import { wrapHeadCallback } from './undici-parser.js';

/** The status an unasked 100 reaches undici's handler with: an unassigned 1xx, since undici treats every other 1xx as interim. */
export const unaskedContinueStatus = 199;

/** Installs the patch on the first socket undici reads a response on: called on a pool socket as it connects, once for all pools. */
export function readUnaskedContinue(socket: Socket): void {
  wrapHeadCallback(socket, 'undici-unasked-continue', 'a local service that sends 100 (Continue) unasked gets 502', (original) =>
    function (statusCode, upgrade, shouldKeepAlive) {
      return original.call(this, statusCode === 100 ? unaskedContinueStatus : statusCode, upgrade, shouldKeepAlive);
    },
  );
}
