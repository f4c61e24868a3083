// Lets grpc-js frame a message in the free bytes in front of it instead of
// copying the whole message into a new buffer (it does that for every message
// it sends, on the client in IdentityHandler.writeMessage and on the server in
// BaseServerInterceptingCall.serializeMessage). With 1 MiB body chunks that
// copy and its garbage are a large share of the tunnel's bulk cost.
//
// Both are private to grpc-js (the version is pinned). If either is not
// where it is expected this changes nothing, and only speed suffers; a
// message without free front bytes is framed exactly as grpc-js would.
import { createRequire } from 'node:module';
import { frameByCopy, frameInPlace } from './tunnel-codec.js';

type WriteMessage = (this: unknown, message: Buffer, compress: boolean) => Promise<Buffer>;
type SerializeMessage = (this: { handler: { serialize(value: unknown): Buffer } }, value: unknown) => Buffer;

let installed: { client: boolean; server: boolean } | undefined;

/** Idempotent; says which side it could install on. */
export function installInPlaceFraming(): { client: boolean; server: boolean } {
  installed ??= { client: patchClient(), server: patchServer() };
  return installed;
}

function grpcInternal(path: string): Record<string, unknown> | undefined {
  try {
    return createRequire(import.meta.url)(`@grpc/grpc-js/build/src/${path}`) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function patchClient(): boolean {
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
}

function patchServer(): boolean {
  const Call = grpcInternal('server-interceptors.js')?.BaseServerInterceptingCall as { prototype: { serializeMessage?: SerializeMessage } } | undefined;
  if (typeof Call?.prototype?.serializeMessage !== 'function') return false;
  Call.prototype.serializeMessage = function (value) {
    const message = this.handler.serialize(value);
    return frameInPlace(message) ?? frameByCopy(message);
  };
  return true;
}
