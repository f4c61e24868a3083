// Lets grpc-js frame a message in the free bytes in front of it instead of
// copying the whole message into a new buffer (it does that for every message
// it sends, on the client in IdentityHandler.writeMessage and on the server in
// BaseServerInterceptingCall.serializeMessage). With 1 MiB body chunks that
// copy and its garbage are a large share of the tunnel's bulk cost.
//
// Both methods are private to grpc-js (the version is pinned). On the client
// a message without free front bytes goes through grpc-js's own method; on
// the server it is copied behind a header as that method does, which is
// replaced only while it frames uncompressed, as in the pinned version. If it
// ever compresses, or either method moves, nothing is patched and
// patch-report says so once.
import { frameByCopy, frameInPlace } from '../tunnel-codec.js';
import { grpcInternal } from './grpc-internal.js';
import { reportPatch } from './patch-report.js';

type WriteMessage = (this: unknown, message: Buffer, compress: boolean) => Promise<Buffer>;
interface ServerCall {
  handler: { serialize(value: unknown): Buffer };
}
type SerializeMessage = (this: ServerCall, value: unknown) => Buffer;

const slower = 'every tunnel message is copied once more to be framed';

let installed: { client: boolean; server: boolean } | undefined;

/** Idempotent; says which side it could install on. */
export function installInPlaceFraming(): { client: boolean; server: boolean } {
  installed ??= {
    client: reportPatch('grpc-client-framing', patchClient(), slower),
    server: reportPatch('grpc-server-framing', patchServer(), slower),
  };
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

function patchServer(): boolean {
  try {
    const Call = grpcInternal('server-interceptors.js')?.BaseServerInterceptingCall as { prototype: { serializeMessage?: SerializeMessage } } | undefined;
    const original = Call?.prototype?.serializeMessage;
    if (Call === undefined || typeof original !== 'function' || !framesUncompressed(original)) return false;
    Call.prototype.serializeMessage = function (value) {
      const message = this.handler.serialize(value);
      // Otherwise framed as the pinned method does (checked below): not compressed, length, a copy.
      return frameInPlace(message) ?? frameByCopy(message);
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
