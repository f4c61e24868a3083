// Lets the tunnel's data stream receive a big message without grpc-js joining
// it. grpc-js's StreamDecoder copies the HTTP/2 frames of every message into
// one new buffer (64 frames for a 1 MiB body chunk); on the receiving side of
// a bulk transfer that copy, and the forced young-generation collections its
// 1 MiB allocations bring, are a large share of the cost. Patched, a decoder
// marked for the Proxy method hands on a big uncompressed message as a small
// buffer with its first bytes, the rest kept as views of the frames
// (tunnel-codec's gatheredMessage), which the codec decodes into a body chunk
// whose data is those views, written on gathered (one writev) by sinks that
// can.
//
// StreamDecoder, Http2SubchannelCall and BaseServerInterceptingCall are private
// to grpc-js (the version is pinned). Where one of them has moved, that side
// marks no decoder and patch-report says so once; its messages are then
// joined, as before.
import type { ClientHttp2Stream } from 'node:http2';
import { gatheredMessage, tunnelService } from '../tunnel-codec.js';
import { grpcInternal } from './grpc-internal.js';
import { reportPatch } from './patch-report.js';

/** Smaller messages are joined as grpc-js does: the copy costs less than the pieces. */
export const gatherMinBytes = 32 * 1024;
/** Copied into the head: more than a body chunk's envelope and tags take (tunnel-codec's headroom is 192). */
const headBytes = 256;
const frameHeaderBytes = 5;

/** Where a marked decoder is between messages. */
interface Gathering {
  readonly header: Buffer;
  headerFilled: number;
  size: number;
  remaining: number;
  parts: Buffer[];
}

export interface Decoder {
  maxReadMessageLength: number;
  gathering?: Gathering;
  write(data: Buffer): Buffer[];
}

const slower = 'big tunnel messages are joined from their HTTP/2 frames, one copy more';
let installed: { client: boolean; server: boolean } | undefined;

/** Idempotent; says which side it could install on. Only the tunnel's Proxy calls gather. */
export function installGatheredReceive(): { client: boolean; server: boolean } {
  if (installed !== undefined) return installed;
  const path = tunnelService.proxy.path;
  const decoder = patchDecoder();
  installed = {
    client: reportPatch('grpc-client-gathering', decoder && patchClient(path), slower),
    server: reportPatch('grpc-server-gathering', decoder && patchServer(path), slower),
  };
  return installed;
}

/** Makes a StreamDecoder hand big messages on in pieces (what the patch does for the tunnel's Proxy calls). */
export function markGathering(decoder: Decoder): void {
  decoder.gathering = { header: Buffer.alloc(frameHeaderBytes), headerFilled: 0, size: 0, remaining: 0, parts: [] };
}

function patchDecoder(): boolean {
  const StreamDecoder = grpcInternal('stream-decoder.js')?.StreamDecoder as { prototype: Decoder } | undefined;
  const original = StreamDecoder?.prototype?.write;
  if (typeof original !== 'function' || !('maxReadMessageLength' in new (StreamDecoder as unknown as new (max: number) => Decoder)(-1))) return false;
  StreamDecoder!.prototype.write = function (this: Decoder, data: Buffer): Buffer[] {
    return this.gathering === undefined ? original.call(this, data) : gather(this.gathering, this.maxReadMessageLength, data);
  };
  return true;
}

/** The client side (the agent): calls are made in transport.js through this module's export, read at each call. */
function patchClient(path: string): boolean {
  const module = grpcInternal('subchannel-call.js');
  const Call = module?.Http2SubchannelCall as (new (stream: ClientHttp2Stream, ...rest: unknown[]) => { decoder?: Decoder }) | undefined;
  if (module === undefined || typeof Call !== 'function') return false;
  class GatheringCall extends Call {
    constructor(stream: ClientHttp2Stream, ...rest: unknown[]) {
      super(stream, ...rest);
      if (stream.sentHeaders?.[':path'] === path && this.decoder !== undefined) markGathering(this.decoder);
    }
  }
  module.Http2SubchannelCall = GatheringCall;
  return true;
}

/** The server side: marked on a call's first DATA frame, when its method is known. */
function patchServer(path: string): boolean {
  interface ServerCall {
    decoder?: Decoder;
    handler?: { path?: string };
    gatheringChecked?: boolean;
  }
  const Call = grpcInternal('server-interceptors.js')?.BaseServerInterceptingCall as { prototype: ServerCall & { handleDataFrame?: (this: ServerCall, data: Buffer) => void } } | undefined;
  const original = Call?.prototype?.handleDataFrame;
  if (Call === undefined || typeof original !== 'function') return false;
  Call.prototype.handleDataFrame = function (data) {
    if (this.gatheringChecked !== true) {
      this.gatheringChecked = true;
      if (this.handler?.path === path && this.decoder !== undefined) markGathering(this.decoder);
    }
    original.call(this, data);
  };
  return true;
}

/**
 * StreamDecoder.write for a marked decoder: the same framing (a compressed
 * flag, a 4-byte length, the message) and the same size limit and error.
 */
function gather(state: Gathering, maxLength: number, data: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    if (state.headerFilled < frameHeaderBytes) {
      const n = Math.min(frameHeaderBytes - state.headerFilled, data.length - at);
      data.copy(state.header, state.headerFilled, at, at + n);
      state.headerFilled += n;
      at += n;
      if (state.headerFilled < frameHeaderBytes) break;
      state.size = state.remaining = state.header.readUInt32BE(1);
      if (maxLength !== -1 && state.size > maxLength) throw new Error(`Received message larger than max (${state.size} vs ${maxLength})`);
      if (state.remaining === 0) messages.push(finish(state));
      continue;
    }
    const n = Math.min(state.remaining, data.length - at);
    state.parts.push(data.subarray(at, at + n));
    state.remaining -= n;
    at += n;
    if (state.remaining === 0) messages.push(finish(state));
  }
  return messages;
}

function finish(state: Gathering): Buffer {
  const { header, size, parts } = state;
  state.headerFilled = 0;
  state.parts = [];
  // A compressed message is decompressed whole by grpc-js: joined, as it expects.
  if (size < gatherMinBytes || parts.length === 1 || header[0] !== 0) return Buffer.concat([header, ...parts], frameHeaderBytes + size);
  // A buffer of its own: the codec finds the rest by it.
  const head = Buffer.allocUnsafeSlow(frameHeaderBytes + Math.min(headBytes, size));
  header.copy(head, 0);
  let filled = frameHeaderBytes;
  let next = 0;
  while (filled < head.length) {
    const part = parts[next]!;
    const n = Math.min(part.length, head.length - filled);
    part.copy(head, filled, 0, n);
    filled += n;
    if (n === part.length) next++;
    else parts[next] = part.subarray(n);
  }
  return gatheredMessage(head, parts.slice(next));
}
