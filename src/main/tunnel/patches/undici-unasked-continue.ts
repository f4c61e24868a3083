// Lets the agent's undici pool read a 100 (Continue) it did not ask for.
// undici never sends Expect, so it takes any 100 for a broken answer: it
// destroys the socket ('bad response') and the request got 502, where curl,
// node:http and browsers read on to the final answer, as RFC 9110 section
// 15.2 asks of every client (some servers send 100 to each request with a
// body, or to every request). Around the HTTP/1.1 parser's head callback
// (undici is pinned), such a 100 goes through undici's path for other
// interim answers under a stand-in status, which the pool's handler drops.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { reportPatch } from './patch-report.js';

/** The status an unasked 100 reaches undici's handler with: an unassigned 1xx, since undici treats every other 1xx as interim. */
export const unaskedContinueStatus = 199;

type HeadCallback = (this: unknown, statusCode: number, upgrade: boolean, shouldKeepAlive: boolean) => number;

let installed: boolean | undefined;

/**
 * Installs the patch from the first socket undici reads a response on (its
 * parser's class is not exported): called on a pool socket as it connects,
 * once for all pools.
 */
export function readUnaskedContinue(socket: Socket): void {
  if (installed !== undefined) return;
  socket.prependOnceListener('readable', () => {
    if (installed !== undefined) return;
    let kParser: unknown;
    try {
      kParser = (createRequire(import.meta.url)('undici/lib/core/symbols.js') as { kParser?: unknown }).kParser;
    } catch {
      kParser = undefined;
    }
    const parser = typeof kParser === 'symbol' ? (socket as unknown as Record<symbol, unknown>)[kParser] : undefined;
    // Bytes before undici took the socket: the next socket tells.
    if (typeof kParser === 'symbol' && parser == null) return;
    const prototype = typeof parser === 'object' && parser !== null ? (Object.getPrototypeOf(parser) as { onHeadersComplete?: HeadCallback }) : undefined;
    const original = prototype?.onHeadersComplete;
    installed = reportPatch('undici-unasked-continue', typeof original === 'function', 'a local service that sends 100 (Continue) unasked gets 502');
    if (!installed || prototype === undefined || original === undefined) return;
    prototype.onHeadersComplete = function (statusCode, upgrade, shouldKeepAlive) {
      return original.call(this, statusCode === 100 ? unaskedContinueStatus : statusCode, upgrade, shouldKeepAlive);
    };
  });
}
