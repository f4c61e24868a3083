// Lets grpc-js frame a message in the free bytes in front of it instead of
// copying the whole message into a new buffer (it does that for every message
// it sends, on the client in IdentityHandler.writeMessage and on the server in
// BaseServerInterceptingCall.serializeMessage). With 1 MiB body chunks that
// copy and its garbage are a large share of the tunnel's bulk cost.
//
// A message may also leave in pieces (tunnel-codec's gatheredBody: a body as
// it was read, not joined into one buffer first): its framed head goes
// through grpc-js, and the pieces are written right behind it on the same
// HTTP/2 stream, in the same writev.
//
// These methods are private to grpc-js (the version is pinned). On the client
// a message without free front bytes goes through grpc-js's own method; on
// the server it is copied behind a header as that method does, which is
// replaced only while it frames uncompressed, as in the pinned version. If it
// ever compresses, or a method moves, nothing is patched and patch-report
// says so once.
import type { Writable } from 'node:stream';
import { frameByCopy, frameInPlace, takeOutgoingRest } from '../tunnel-codec.js';
import { grpcInternal } from './grpc-internal.js';
import { reportPatch } from './patch-report.js';

type WriteMessage = (this: unknown, message: Buffer, compress: boolean) => Promise<Buffer>;
interface ServerCall {
  handler: { serialize(value: unknown): Buffer };
  stream: Writable;
}
type SerializeMessage = (this: ServerCall, value: unknown) => Buffer;
type SendMessage = (this: ServerCall, message: unknown, callback: () => void) => void;
interface ServerCallPrototype {
  serializeMessage?: SerializeMessage;
  sendMessage?: SendMessage;
}

const slower = 'every tunnel message is copied once more to be framed';

interface Installed {
  client: boolean;
  server: boolean;
  /** Each side sends gathered messages (gatheredBody). */
  clientGathered: boolean;
  serverGathered: boolean;
}

let installed: Installed | undefined;

/** Idempotent; says which side it could install on. */
export function installInPlaceFraming(): Installed {
  if (installed === undefined) {
    const client = reportPatch('grpc-client-framing', patchClient(), slower);
    const server = reportPatch('grpc-server-framing', patchServer(), slower);
    installed = {
      client,
      server,
      clientGathered: client && reportPatch('grpc-client-gathered-send', patchClientSend(), 'response bodies are joined once more before the agent sends them'),
      serverGathered: server && reportPatch('grpc-server-gathered-send', patchServerSend(), 'upload bodies are joined once more before the edge sends them'),
    };
  }
  return installed;
}

function patchClient(): boolean {
  try {
    const CompressionFilter = grpcInternal('compression-filter.js')?.CompressionFilter as
      | (new (options: object, shared: object) => { sendCompression?: object })
      | undefined;
    if (typeof CompressionFilter !== 'function') return false;
    // IdentityHandler is not exported; a filter made with no options holds one.
    const identity = Object.getPrototypeOf(new CompressionFilter({}, {}).sendCompression ?? {}) as { writeMessage?: WriteMessage; constructor: { name: string } };
    const original = identity.writeMessage;
    if (identity.constructor.name !== 'IdentityHandler' || typeof original !== 'function') return false;
    identity.writeMessage = function (message, compress) {
      const framed = frameInPlace(message);
      return framed !== undefined ? Promise.resolve(framed) : original.call(this, message, compress);
    };
    return true;
  } catch {
    return false;
  }
}

type SendMessageWithContext = (this: { http2Stream: Writable }, context: unknown, message: Buffer) => void;

/** Where the client's framed messages are written to the call's HTTP/2 stream: a gathered one's pieces follow its head (see writeGathered). */
function patchClientSend(): boolean {
  try {
    const Call = grpcInternal('subchannel-call.js')?.Http2SubchannelCall as { prototype: object } | undefined;
    const owner = Call === undefined ? undefined : prototypeOwning(Call.prototype, 'sendMessageWithContext');
    const original = owner?.sendMessageWithContext as SendMessageWithContext | undefined;
    if (owner === undefined || typeof original !== 'function' || !/this\.http2Stream\.write\(message/.test(original.toString())) return false;
    owner.sendMessageWithContext = function (this: { http2Stream: Writable }, context: unknown, message: Buffer) {
      const rest = takeOutgoingRest(message);
      if (rest === undefined) return original.call(this, context, message);
      writeGathered(
        this.http2Stream,
        () => original.call(this, context, message),
        () => rest,
      );
    } satisfies SendMessageWithContext;
    return true;
  } catch {
    return false;
  }
}

/** The prototype in `prototype`'s chain that holds `method` itself (grpc-gathered-receive.ts may have put a subclass in front). */
function prototypeOwning(prototype: object, method: string): Record<string, unknown> | undefined {
  for (let at: object | null = prototype; at !== null; at = Object.getPrototypeOf(at) as object | null) {
    if (Object.hasOwn(at, method)) return at as Record<string, unknown>;
  }
  return undefined;
}

/**
 * Runs `writeHead` (grpc-js writing a framed message once to `stream`) with
 * the stream corked, and writes the `rest` right behind the head when it was
 * written: one writev, whose callback, the head's, comes once all has gone.
 * A cancelled call or a refused message writes nothing, and no pieces.
 */
function writeGathered(stream: Writable, writeHead: () => void, rest: () => readonly Buffer[] | undefined): void {
  stream.cork();
  try {
    const queuedBefore = stream.writableLength;
    writeHead();
    const pieces = rest();
    if (pieces !== undefined && stream.writableLength > queuedBefore) for (const piece of pieces) stream.write(piece);
  } finally {
    stream.uncork();
  }
}

// Pieces a call's serializeMessage framed the head of, for its sendMessage to write behind it.
const restToWrite = new WeakMap<ServerCall, readonly Buffer[]>();

function serverCallPrototype(): ServerCallPrototype | undefined {
  return (grpcInternal('server-interceptors.js')?.BaseServerInterceptingCall as { prototype?: ServerCallPrototype } | undefined)?.prototype;
}

function patchServer(): boolean {
  try {
    const prototype = serverCallPrototype();
    const original = prototype?.serializeMessage;
    if (prototype === undefined || typeof original !== 'function' || !framesUncompressed(original)) return false;
    prototype.serializeMessage = function (value) {
      const message = this.handler.serialize(value);
      // Otherwise framed as the pinned method does (checked below): not compressed, length, a copy.
      const framed = frameInPlace(message) ?? frameByCopy(message);
      const rest = takeOutgoingRest(framed);
      if (rest !== undefined) restToWrite.set(this, rest);
      return framed;
    };
    return true;
  } catch {
    return false;
  }
}

/** sendMessage serializes (above), then writes the framed message once to the call's HTTP/2 stream: a gathered one's pieces follow its head (see writeGathered). */
function patchServerSend(): boolean {
  try {
    const prototype = serverCallPrototype();
    const original = prototype?.sendMessage;
    if (prototype === undefined || typeof original !== 'function' || !/serializeMessage\(/.test(original.toString()) || !/this\.stream\.write\(/.test(original.toString())) return false;
    prototype.sendMessage = function (message, callback) {
      writeGathered(
        this.stream,
        () => original.call(this, message, callback),
        () => {
          const rest = restToWrite.get(this);
          restToWrite.delete(this);
          return rest;
        },
      );
    };
    return true;
  } catch {
    return false;
  }
}

/** The pinned serializeMessage serializes and frames with the compressed flag 0; a version that compresses must not be bypassed. */
function framesUncompressed(method: SerializeMessage): boolean {
  const source = method.toString();
  return source.includes('handler.serialize') && !/compressMessage|sendCompression|createGzip|createDeflate/.test(source);
}
