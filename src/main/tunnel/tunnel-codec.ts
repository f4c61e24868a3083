// How TunnelMessages become bytes for grpc-js and back, on both sides.
//
// Decoding never lets one bad message end a stream: grpc-js fails the whole
// call when a deserializer throws, which would take every request on the
// stream with it. An undecodable message becomes an empty one, remembered as
// malformed, for the receiver to answer.
//
// Encoding lays body chunks, the bulk of the bytes, out by hand in a single
// buffer: ts-proto's writer copies a nested bytes field three times (fork and
// join, finish, then Buffer.from), and with big bodies those copies and the
// garbage collections their allocations trigger cost more than the rest of
// the tunnel. Everything else goes through ts-proto, returned as a view.
import { makeGenericClientConstructor, type ChannelCredentials, type ClientOptions } from '@grpc/grpc-js';
import { TunnelMessage, TunnelServiceService, type BodyChunk, type TunnelServiceClient } from '../gen/burrow/v1/tunnel.js';

const malformed = new WeakMap<TunnelMessage, string>();

export function decodeTunnelMessage(bytes: Buffer): TunnelMessage {
  try {
    return TunnelMessage.decode(bytes);
  } catch (error) {
    const message: TunnelMessage = { requestId: '', protocolType: 0, messageType: 0, payload: undefined, traceId: '' };
    malformed.set(message, `undecodable message of ${bytes.length} bytes: ${(error as Error).message}`);
    return message;
  }
}

/** Why a message could not be decoded, or undefined for a good one. */
export function malformedReason(message: TunnelMessage): string | undefined {
  return malformed.get(message);
}

/** Below this a body chunk's copies cost less than laying it out by hand. */
const handEncodedMinBytes = 1024;

export function encodeTunnelMessage(message: TunnelMessage): Buffer {
  const payload = message.payload;
  if (payload?.$case === 'bodyChunk' && payload.value.data.length >= handEncodedMinBytes) return encodeBodyChunk(message, payload.value);
  const bytes = TunnelMessage.encode(message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// Wire tags: (field number << 3) | wire type; 2 is length-delimited, 0 varint.
const bodyChunkTag = (12 << 3) | 2;
const dataTag = (1 << 3) | 2;
const endStreamTag = (2 << 3) | 0;

/**
 * The envelope fields first (through ts-proto), then the body_chunk field:
 * protobuf lets fields come in any order, so the bytes decode exactly as
 * ts-proto's own encoding of the whole message would.
 */
function encodeBodyChunk(message: TunnelMessage, chunk: BodyChunk): Buffer {
  const envelope = TunnelMessage.encode({ ...message, payload: undefined }).finish();
  const { data, endStream } = chunk;
  const chunkLength = 1 + varintLength(data.length) + data.length + (endStream ? 2 : 0);
  const out = Buffer.allocUnsafe(envelope.length + 1 + varintLength(chunkLength) + chunkLength);
  out.set(envelope, 0);
  let at = envelope.length;
  out[at++] = bodyChunkTag;
  at = writeVarint(out, at, chunkLength);
  out[at++] = dataTag;
  at = writeVarint(out, at, data.length);
  out.set(data, at);
  at += data.length;
  if (endStream) {
    out[at++] = endStreamTag;
    out[at++] = 1;
  }
  return out;
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}

/** The service definition both sides use: the codec above, and the tolerant decoder on what agents send. */
export const tunnelService = {
  controlStream: {
    ...TunnelServiceService.controlStream,
    requestSerialize: encodeTunnelMessage,
    responseSerialize: encodeTunnelMessage,
    requestDeserialize: decodeTunnelMessage,
  },
  proxy: {
    ...TunnelServiceService.proxy,
    requestSerialize: encodeTunnelMessage,
    responseSerialize: encodeTunnelMessage,
    requestDeserialize: decodeTunnelMessage,
  },
} as const;

export const TunnelClient = makeGenericClientConstructor(tunnelService, 'burrow.v1.TunnelService') as unknown as new (
  address: string,
  credentials: ChannelCredentials,
  options?: Partial<ClientOptions>,
) => TunnelServiceClient;
