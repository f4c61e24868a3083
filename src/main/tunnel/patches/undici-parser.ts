// undici's HTTP/1.1 response parser, which it does not export (undici is
// pinned): its prototype is found on the first socket undici reads a
// response from, and the patches wrap its head callback there.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { reportPatch, type PatchName } from './patch-report.js';

/** A parser: the socket it reads. */
export interface UndiciParser {
  socket?: Socket;
}

/** The parser's callback for a response head, the status as the wire has it. */
export type HeadCallback = (this: UndiciParser, statusCode: number, upgrade: boolean, shouldKeepAlive: boolean) => number;

/** Per patch: installed, not installable, or not yet known (no socket read so far). */
const installed = new Map<PatchName, boolean>();

/** undici's own symbols (kParser, kReset...), or undefined when they could not be loaded. */
export function undiciSymbol(name: string): symbol | undefined {
  try {
    const symbol = (createRequire(import.meta.url)('undici/lib/core/symbols.js') as Record<string, unknown>)[name];
    return typeof symbol === 'symbol' ? symbol : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Wraps the parser's head callback with `wrap` (which returns undefined when
 * it cannot), once for all pools, as `socket` (a pool socket as it
 * connects) is first read by undici: before undici reads it, so its first
 * answer is read patched. A socket read before undici took it leaves the
 * patch to the next one.
 */
export function wrapHeadCallback(socket: Socket, patch: PatchName, withoutIt: string, wrap: (original: HeadCallback) => HeadCallback | undefined): void {
  if (installed.has(patch)) return;
  socket.prependOnceListener('readable', () => {
    if (installed.has(patch)) return;
    const kParser = undiciSymbol('kParser');
    const parser = kParser === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[kParser];
    if (kParser !== undefined && parser == null) return;
    const prototype = typeof parser === 'object' && parser !== null ? (Object.getPrototypeOf(parser) as { onHeadersComplete?: HeadCallback }) : undefined;
    const original = prototype?.onHeadersComplete;
    const wrapped = typeof original === 'function' ? wrap(original) : undefined;
    installed.set(patch, reportPatch(patch, wrapped !== undefined, withoutIt));
    if (prototype !== undefined && wrapped !== undefined) prototype.onHeadersComplete = wrapped;
  });
}
