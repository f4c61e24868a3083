// How TunnelMessages become bytes for grpc-js and back, on both sides.
//
// The server's decoding never lets one bad message from an agent end a
// stream: grpc-js fails the whole call when a deserializer throws, which
// would take every request on the stream with it. An undecodable message
// becomes an empty one, remembered as malformed, for the server to answer.
// The agent decodes the server's messages strictly, as before.
//
// Encoding lays body chunks, the bulk of the bytes, out by hand: ts-proto's
// writer copies a nested bytes field three times (fork and join, finish, then
// Buffer.from), and grpc-js copies every message once more to frame it. With
// big bodies those copies, and the garbage collections their allocations
// trigger, cost more than the rest of the tunnel. A body read into a buffer
// from allocateBodyBuffer is not copied at all; any other body once, here.
// Everything else goes through ts-proto, returned as a view. Decoding, on
// both sides, takes such a body chunk's data as a view of the received
// message, for the same reason.
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { makeGenericClientConstructor, type ChannelCredentials, type ClientOptions } from '@grpc/grpc-js';
import { TunnelMessage, TunnelServiceService, type BodyChunk, type TunnelServiceClient } from '../gen/burrow/v1/tunnel.js';

const malformed = new WeakMap<TunnelMessage, string>();

/**
 * What the agent decodes from the server: body chunks in place, as the server
 * decodes the agent's, but strict: a message it cannot decode throws, which
 * fails the call as ts-proto's decoder did (the agent then reconnects).
 */
export function decodeFromServer(bytes: Buffer): TunnelMessage {
  const rest = gatheredRest.get(bytes.buffer);
  if (rest !== undefined) {
    gatheredRest.delete(bytes.buffer);
    return decodeGatheredBodyChunk(bytes, rest) ?? decodeWhole(Buffer.concat([bytes, ...rest]));
  }
  return decodeWhole(bytes);
}

function decodeWhole(bytes: Buffer): TunnelMessage {
  return decodeBodyChunkInPlace(bytes) ?? TunnelMessage.decode(bytes);
}

export function decodeTunnelMessage(bytes: Buffer): TunnelMessage {
  try {
    return decodeFromServer(bytes);
  } catch (error) {
    const message: TunnelMessage = { requestId: '', protocolType: 0, messageType: 0, payload: undefined, traceId: '' };
    malformed.set(message, `undecodable message of ${bytes.length} bytes: ${(error as Error).message}`);
    return message;
  }
}

const bodyChunkField = 12;
const lengthDelimited = 2;
const varint = 0;

/**
 * A body chunk laid out as encodeBodyChunk does (envelope first, body_chunk
 * last) decodes with its data as a view of the received message: ts-proto
 * would copy it, and on the receiving side that copy and its garbage are most
 * of what a bulk transfer costs. Undefined for any other message or layout,
 * which ts-proto then decodes.
 */
function decodeBodyChunkInPlace(bytes: Buffer): TunnelMessage | undefined {
  if (bytes.length < handEncodedMinBytes) return undefined;
  const reader = new BinaryReader(bytes);
  const fieldStart = seekBodyChunk(reader);
  if (fieldStart === undefined) return undefined;
  const chunk = reader.bytes();
  // Fields after it could override it (protobuf's last-wins): leave those to ts-proto.
  if (reader.pos !== reader.len) return undefined;
  // Set on the decoded message, not a `{ ...copy, more }` literal, which keeps young objects alive (test/unit/spread-copies.test.ts).
  const message = TunnelMessage.decode(bytes.subarray(0, fieldStart));
  message.payload = { $case: 'bodyChunk', value: bodyChunkView(chunk) };
  return message;
}

/** Reads up to the first body_chunk field, leaving the reader at its length; where the field starts, or undefined when there is none. */
function seekBodyChunk(reader: BinaryReader): number | undefined {
  while (reader.pos < reader.len) {
    const fieldStart = reader.pos;
    const [field, wireType] = reader.tag();
    if (field === bodyChunkField && wireType === lengthDelimited) return fieldStart;
    reader.skip(wireType);
  }
  return undefined;
}

function bodyChunkView(bytes: Uint8Array): BodyChunk {
  const reader = new BinaryReader(bytes);
  const chunk: BodyChunk = { data: emptyData, endStream: false };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === lengthDelimited) {
      const data = reader.bytes();
      chunk.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    } else if (field === 2 && wireType === varint) {
      chunk.endStream = reader.bool();
    } else {
      reader.skip(wireType);
    }
  }
  return chunk;
}

const emptyData = Buffer.alloc(0);

// Messages grpc-js handed over in pieces (patches/grpc-gathered-receive.ts):
// what it passes on holds the first bytes in a buffer of its own, and the
// rest waits here, found by that buffer, for the decoder.
const gatheredRest = new WeakMap<ArrayBufferLike, Buffer[]>();

/**
 * Marks `head` (a framed message's first bytes, in a buffer of its own) as
 * continued by `rest`: decoding takes them together, a body chunk's data as
 * the pieces themselves.
 */
export function gatheredMessage(head: Buffer, rest: Buffer[]): Buffer {
  gatheredRest.set(head.buffer, rest);
  return head;
}

/**
 * A body chunk whose data arrived in pieces (views of the HTTP/2 frames
 * grpc-js received) and stays that way: a sink that can write them gathered
 * takes bodyParts(); anything that reads `data` gets them joined, once.
 */
class GatheredBodyChunk implements BodyChunk {
  private joined: Buffer | undefined;

  constructor(
    readonly parts: readonly Buffer[],
    readonly length: number,
    public endStream: boolean,
  ) {}

  get data(): Buffer {
    return (this.joined ??= Buffer.concat(this.parts, this.length));
  }
}

// Body chunks made by gatheredBody, to be sent in their pieces (encodeGatheredBodyChunk).
const toSendGathered = new WeakSet<BodyChunk>();

/**
 * A body chunk to send as the pieces it was read in, not joined: only for a
 * side whose gRPC writes carry such a message's rest after its head
 * (grpc-in-place-framing.ts; TunnelPeer.sendsGathered).
 */
export function gatheredBody(parts: readonly Buffer[], length: number): BodyChunk {
  const chunk = new GatheredBodyChunk(parts, length, false);
  toSendGathered.add(chunk);
  return chunk;
}

/** The pieces of a body chunk's data when it arrived gathered, in order; undefined for any other. */
export function bodyParts(chunk: BodyChunk): { parts: readonly Buffer[]; length: number } | undefined {
  return chunk instanceof GatheredBodyChunk ? chunk : undefined;
}

/**
 * A gathered message that is a body chunk laid out as encodeBodyChunk lays it
 * (envelope, then body_chunk last, its data last), with everything before the
 * data in `head`: decoded with the data as the pieces. Undefined otherwise,
 * and the caller joins the message and decodes it whole.
 */
function decodeGatheredBodyChunk(head: Buffer, rest: Buffer[]): TunnelMessage | undefined {
  let total = head.length;
  for (const part of rest) total += part.length;
  try {
    const reader = new BinaryReader(head);
    const fieldStart = seekBodyChunk(reader);
    if (fieldStart === undefined) return undefined;
    // Fields after it could override it (protobuf's last-wins): leave those to ts-proto.
    const chunkLength = reader.uint32();
    if (reader.pos + chunkLength !== total) return undefined;
    let endStream = false;
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 2 && wireType === varint) {
        endStream = reader.bool();
      } else if (field === 1 && wireType === lengthDelimited) {
        const length = reader.uint32();
        if (reader.pos + length !== total) return undefined;
        const first = head.subarray(reader.pos);
        const message = TunnelMessage.decode(head.subarray(0, fieldStart));
        message.payload = { $case: 'bodyChunk', value: new GatheredBodyChunk(first.length > 0 ? [first, ...rest] : rest, length, endStream) };
        return message;
      } else {
        return undefined;
      }
    }
  } catch {
    // A field that runs past the head: the whole message decides.
  }
  return undefined;
}

/** Why a message could not be decoded, or undefined for a good one. */
export function malformedReason(message: TunnelMessage): string | undefined {
  return malformed.get(message);
}

/** Below this a body chunk's copies cost less than laying it out by hand. */
const handEncodedMinBytes = 1024;

/**
 * Bytes kept free in front of a body buffer from allocateBodyBuffer: room for
 * the envelope (a 36-character request id, a trace id), the body_chunk and
 * data tags with their lengths, and gRPC's 5-byte message header.
 */
const bodyHeadroomBytes = 192;

/** gRPC frames each message behind a compressed flag and a 4-byte length. */
const grpcFrameHeaderBytes = 5;

// Buffers with free bytes in front of them that nothing else uses, and how many.
const headroom = new WeakMap<Uint8Array, number>();

/**
 * A buffer for body bytes that encodeTunnelMessage can send without copying
 * them: it writes the envelope into the free bytes in front, and grpc-js its
 * frame header (see grpc-in-place-framing.ts).
 */
export function allocateBodyBuffer(size: number): Buffer {
  const body = Buffer.allocUnsafe(bodyHeadroomBytes + size).subarray(bodyHeadroomBytes);
  headroom.set(body, bodyHeadroomBytes);
  return body;
}

/**
 * Writes gRPC's frame header into the free bytes in front of an encoded
 * message and returns the framed view, or undefined when the message has no
 * such room (then the caller copies, as grpc-js always does). Room is used once.
 */
export function frameInPlace(message: Buffer): Buffer | undefined {
  if (framedAlready.delete(message)) return message;
  const room = headroom.get(message);
  if (room === undefined || room < grpcFrameHeaderBytes) return undefined;
  headroom.delete(message);
  return writeFrameHeader(Buffer.from(message.buffer, message.byteOffset - grpcFrameHeaderBytes, message.length + grpcFrameHeaderBytes));
}

/** Frames a message as grpc-js does: a new buffer, header and a copy of the message. */
export function frameByCopy(message: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(message.length + grpcFrameHeaderBytes);
  message.copy(framed, grpcFrameHeaderBytes);
  return writeFrameHeader(framed);
}

// Buffers that hold messages already framed, several back to back: grpc-js's framing passes them as they are.
const framedAlready = new WeakSet<Uint8Array>();

/**
 * Encoded messages for one gRPC write, taken by the codec as they are: grpc-js
 * frames them in place when they have the room, and passes a buffer of
 * messages framed together (see frameTogether) untouched. Only for a call
 * whose side has in-place framing installed (grpc-in-place-framing.ts); any
 * other framing would wrap the frames in one more header.
 */
export class EncodedMessages {
  constructor(readonly bytes: Buffer) {}
}

/** Frames encoded messages back to back in one new buffer: the bytes of one write carrying them all. */
export function frameTogether(messages: readonly Buffer[], length: number): EncodedMessages {
  const framed = Buffer.allocUnsafe(length + messages.length * grpcFrameHeaderBytes);
  let at = 0;
  for (const message of messages) {
    framed[at] = 0;
    framed.writeUInt32BE(message.length, at + 1);
    framed.set(message, at + grpcFrameHeaderBytes);
    at += grpcFrameHeaderBytes + message.length;
  }
  framedAlready.add(framed);
  return new EncodedMessages(framed);
}

/** Fills the header of a frame whose message already follows it: not compressed, then the length. */
function writeFrameHeader(framed: Buffer): Buffer {
  framed[0] = 0;
  framed.writeUInt32BE(framed.length - grpcFrameHeaderBytes, 1);
  return framed;
}

export function encodeTunnelMessage(message: TunnelMessage | EncodedMessages): Buffer {
  if (message instanceof EncodedMessages) return message.bytes;
  const payload = message.payload;
  if (payload?.$case === 'bodyChunk' && toSendGathered.has(payload.value)) return encodeGatheredBodyChunk(message, payload.value as GatheredBodyChunk);
  if (payload?.$case === 'bodyChunk' && payload.value.data.length >= handEncodedMinBytes) return encodeBodyChunk(message, payload.value);
  const bytes = TunnelMessage.encode(message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// Wire tags: (field number << 3) | wire type; 2 is length-delimited, 0 varint.
const bodyChunkTag = (12 << 3) | 2;
const dataTag = (1 << 3) | 2;
const endStreamTag = (2 << 3) | 0;

/**
 * The envelope fields first (through ts-proto), then the body_chunk field
 * with end_stream before data: protobuf lets fields come in any order, so the
 * bytes decode exactly as ts-proto's own encoding would, and everything but
 * the data is a prefix. That prefix goes into the data's free front bytes
 * when it has them (no copy at all), else into a new buffer with the data
 * that keeps room for gRPC's header (one copy).
 */
function encodeBodyChunk(message: TunnelMessage, chunk: BodyChunk): Buffer {
  const envelope = encodeEnvelope(message);
  const { data, endStream } = chunk;
  const prefixLength = bodyChunkPrefixLength(envelope, endStream, data.length);
  const room = headroom.get(data);
  let out: Buffer;
  if (room !== undefined && room >= prefixLength) {
    headroom.delete(data);
    out = Buffer.from(data.buffer, data.byteOffset - prefixLength, prefixLength + data.length);
    headroom.set(out, room - prefixLength);
  } else {
    // Room for gRPC's header in front, so grpc-js need not copy it again.
    out = Buffer.allocUnsafe(grpcFrameHeaderBytes + prefixLength + data.length).subarray(grpcFrameHeaderBytes);
    headroom.set(out, grpcFrameHeaderBytes);
    out.set(data, prefixLength);
  }
  writeBodyChunkPrefix(out, envelope, endStream, data.length);
  return out;
}

// Framed heads of gathered messages, found by their own buffer: the pieces that follow them on the wire.
const outgoingRest = new WeakMap<ArrayBufferLike, readonly Buffer[]>();

/**
 * A body chunk laid out as encodeBodyChunk lays it, its data left in the
 * pieces it was read in: what comes before the data goes, framed for gRPC
 * with the whole message's length, into a buffer of its own, which grpc-js's
 * framing passes as it is; the sender writes the pieces right behind it
 * (takeOutgoingRest).
 */
function encodeGatheredBodyChunk(message: TunnelMessage, chunk: GatheredBodyChunk): Buffer {
  const envelope = encodeEnvelope(message);
  const { parts, length, endStream } = chunk;
  const prefixLength = bodyChunkPrefixLength(envelope, endStream, length);
  // Not from Node's shared pool: the head is found again by its ArrayBuffer.
  const head = Buffer.allocUnsafeSlow(grpcFrameHeaderBytes + prefixLength);
  head[0] = 0;
  head.writeUInt32BE(prefixLength + length, 1);
  writeBodyChunkPrefix(head.subarray(grpcFrameHeaderBytes), envelope, endStream, length);
  framedAlready.add(head);
  outgoingRest.set(head.buffer, parts);
  return head;
}

/** Whether an encoded message is the head of a gathered one: small itself, it stands for its pieces too. */
export function isGatheredHead(encoded: Buffer): boolean {
  return outgoingRest.has(encoded.buffer);
}

/** The pieces to write right behind a framed message (a view of what encodeTunnelMessage returned), once; undefined for a message that is whole. */
export function takeOutgoingRest(framed: Buffer): readonly Buffer[] | undefined {
  const rest = outgoingRest.get(framed.buffer);
  if (rest !== undefined) outgoingRest.delete(framed.buffer);
  return rest;
}

/** The envelope's fields by name: a `{ ...copy, more }` literal keeps young objects alive (test/unit/spread-copies.test.ts). */
function encodeEnvelope({ requestId, protocolType, messageType, traceId }: TunnelMessage): Uint8Array {
  return TunnelMessage.encode({ requestId, protocolType, messageType, payload: undefined, traceId }).finish();
}

/** The body_chunk field's bytes before its data: end_stream when set, the data's tag and length. */
function chunkHeadLength(endStream: boolean, dataLength: number): number {
  return (endStream ? 2 : 0) + 1 + varintLength(dataLength);
}

function bodyChunkPrefixLength(envelope: Uint8Array, endStream: boolean, dataLength: number): number {
  const headLength = chunkHeadLength(endStream, dataLength);
  return envelope.length + 1 + varintLength(headLength + dataLength) + headLength;
}

/** The envelope, the body_chunk tag and length, end_stream, the data's tag and length: everything before the data. */
function writeBodyChunkPrefix(out: Buffer, envelope: Uint8Array, endStream: boolean, dataLength: number): void {
  const chunkLength = chunkHeadLength(endStream, dataLength) + dataLength;
  out.set(envelope, 0);
  let at = envelope.length;
  out[at++] = bodyChunkTag;
  at = writeVarint(out, at, chunkLength);
  if (endStream) {
    out[at++] = endStreamTag;
    out[at++] = 1;
  }
  out[at++] = dataTag;
  writeVarint(out, at, dataLength);
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

const codec = {
  requestSerialize: encodeTunnelMessage,
  responseSerialize: encodeTunnelMessage,
  requestDeserialize: decodeTunnelMessage,
  responseDeserialize: decodeFromServer,
};

/** The service definition both sides use: the codec above, the tolerant decoder on what agents send, the strict one on what the server sends. */
export const tunnelService = {
  controlStream: Object.assign({}, TunnelServiceService.controlStream, codec),
  proxy: Object.assign({}, TunnelServiceService.proxy, codec),
} as const;

export const TunnelClient = makeGenericClientConstructor(tunnelService, 'burrow.v1.TunnelService') as unknown as new (
  address: string,
  credentials: ChannelCredentials,
  options?: Partial<ClientOptions>,
) => TunnelServiceClient;
