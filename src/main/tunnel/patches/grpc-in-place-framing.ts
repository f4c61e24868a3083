// Lets grpc-js frame a message in the free bytes in front of it instead of
// copying the whole message into a new buffer (it does that for every message
// it sends, on the client in IdentityHandler.writeMessage and on the server in
// BaseServerInterceptingCall.serializeMessage). With 1 MiB body chunks that
// copy and its garbage are a large share of the tunnel's bulk cost.
//
// On the server a message may also leave in pieces (tunnel-codec's
// gatheredBody: an upload's body as the edge read it, not joined into one
// buffer first): its framed head goes through grpc-js, and the pieces are
// written right behind it on the same stream, in the same writev.
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

let installed: { client: boolean; server: boolean; serverGathered: boolean } | undefined;

/** Idempotent; says which side it could install on, and whether the server sends gathered messages (gatheredBody). */
export function installInPlaceFraming(): { client: boolean; server: boolean; serverGathered: boolean } {
  if (installed === undefined) {
    const server = reportPatch('grpc-server-framing', patchServer(), slower);
    installed = {
      client: reportPatch('grpc-client-framing', patchClient(), slower),
      server,
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

/**
 * sendMessage serializes (above), then writes the framed message once to the
 * call's HTTP/2 stream; with the stream corked around it, a gathered
 * message's pieces follow in the same writev, and its callback, as the
 * writev's, comes once they have all gone. Pieces go only behind a head that
 * was written: a cancelled call or a refused message writes nothing.
 */
function patchServerSend(): boolean {
  try {
    const prototype = serverCallPrototype();
    const original = prototype?.sendMessage;
    if (prototype === undefined || typeof original !== 'function' || !/serializeMessage\(/.test(original.toString()) || !/this\.stream\.write\(/.test(original.toString())) return false;
    prototype.sendMessage = function (message, callback) {
      const stream = this.stream;
      stream.cork();
      try {
        const queuedBefore = stream.writableLength;
        original.call(this, message, callback);
        const rest = restToWrite.get(this);
        if (rest !== undefined) {
          restToWrite.delete(this);
          if (stream.writableLength > queuedBefore) for (const part of rest) stream.write(part);
        }
      } finally {
        stream.uncork();
      }
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
