// The wire codec: hand-laid body chunks must decode exactly as ts-proto's own
// encoding does, for every size (varint boundaries included) and envelope.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageType, ProtocolType, TunnelMessage } from '../../src/main/gen/burrow/v1/tunnel.js';
import {
  allocateBodyBuffer,
  decodeFromServer,
  decodeTunnelMessage,
  encodeTunnelMessage,
  frameInPlace,
  gatheredBody,
  gatheredMessage,
  malformedReason,
  takeOutgoingRest,
  tunnelService,
} from '../../src/main/tunnel/tunnel-codec.js';

const envelope = {
  requestId: fc.string({ maxLength: 40 }),
  protocolType: fc.constantFrom(...Object.values(ProtocolType).filter((v): v is ProtocolType => typeof v === 'number' && v >= 0)),
  messageType: fc.constantFrom(...Object.values(MessageType).filter((v): v is MessageType => typeof v === 'number' && v >= 0)),
  traceId: fc.string({ maxLength: 20 }),
};
// Lengths around where the hand encoder takes over and where varints grow a byte.
const dataLength = fc.oneof(fc.constantFrom(0, 1, 1023, 1024, 1025, 16_383, 16_384, 16_385, 2_097_151, 2_097_152), fc.nat({ max: 70_000 }));
const bodyChunkMessage = fc.record({
  ...envelope,
  payload: fc.record({
    $case: fc.constant('bodyChunk' as const),
    value: fc.record({ data: dataLength.map((n) => Buffer.alloc(n, n % 251)), endStream: fc.boolean() }),
  }),
});

describe('encodeTunnelMessage', () => {
  it('lays out body chunks of any size so that ts-proto decodes the same message', () => {
    fc.assert(
      fc.property(bodyChunkMessage, (message) => {
        const bytes = encodeTunnelMessage(message);
        expect(Buffer.isBuffer(bytes)).toBe(true);
        const decoded = TunnelMessage.decode(bytes);
        expect(decoded.requestId).toBe(message.requestId);
        expect(decoded.protocolType).toBe(message.protocolType);
        expect(decoded.messageType).toBe(message.messageType);
        expect(decoded.traceId).toBe(message.traceId);
        expect(decoded.payload?.$case).toBe('bodyChunk');
        const chunk = decoded.payload!.$case === 'bodyChunk' ? decoded.payload!.value : undefined;
        expect(chunk?.endStream).toBe(message.payload.value.endStream);
        expect(Buffer.compare(Buffer.from(chunk!.data), message.payload.value.data)).toBe(0);
        // Same size as ts-proto's encoding: nothing extra on the wire.
        expect(bytes.length).toBe(TunnelMessage.encode(message).finish().length);
      }),
      { numRuns: 300 },
    );
  });

  it('gives every other message as ts-proto encodes it, as a Buffer over the same bytes', () => {
    const message: TunnelMessage = {
      requestId: 'r-1',
      protocolType: ProtocolType.PROTOCOL_TYPE_HTTP,
      messageType: MessageType.MESSAGE_TYPE_RESPONSE,
      payload: { $case: 'responseHead', value: { status: 201, statusMessage: 'Created', headers: [{ name: 'a', value: 'b' }], endStream: true, body: Buffer.from('hi') } },
      traceId: 't',
    };
    const bytes = encodeTunnelMessage(message);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(Buffer.compare(bytes, Buffer.from(TunnelMessage.encode(message).finish()))).toBe(0);
  });

  it('round-trips a 1 MiB chunk through the tolerant decoder with its bytes intact', () => {
    const data = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const message: TunnelMessage = {
      requestId: 'big',
      protocolType: ProtocolType.PROTOCOL_TYPE_HTTP,
      messageType: MessageType.MESSAGE_TYPE_STREAM_CHUNK,
      payload: { $case: 'bodyChunk', value: { data, endStream: false } },
      traceId: '',
    };
    const decoded = decodeTunnelMessage(encodeTunnelMessage(message));
    expect(malformedReason(decoded)).toBeUndefined();
    expect(decoded.payload?.$case === 'bodyChunk' && Buffer.compare(Buffer.from(decoded.payload.value.data), data)).toBe(0);
  });
});

describe('gathered bodies to send', () => {
  // A body of any length cut at any points (empty pieces too), as reads come; never empty (CreditedSender sends no empty chunk).
  const cutBody = fc.tuple(dataLength.filter((length) => length > 0), fc.array(fc.nat(), { maxLength: 20 })).map(([length, cuts]) => {
    const data = Buffer.alloc(length);
    for (let i = 0; i < length; i++) data[i] = (i * 13) & 0xff;
    const points = [...new Set(cuts.map((cut) => cut % (length + 1)))].sort((a, b) => a - b);
    const parts = [0, ...points].map((from, i, all) => data.subarray(from, all[i + 1] ?? length));
    return { data, parts };
  });

  it('frame a head whose pieces follow it: together, the joined chunk as ts-proto decodes it, at its size', () => {
    fc.assert(
      fc.property(fc.record(envelope), cutBody, fc.boolean(), (fields, { data, parts }, endStream) => {
        const chunk = gatheredBody(parts, data.length);
        chunk.endStream = endStream;
        const head = encodeTunnelMessage({ ...fields, payload: { $case: 'bodyChunk', value: chunk } });
        // Framed already: grpc-js's framing passes it as it is.
        expect(frameInPlace(head)).toBe(head);
        const rest = takeOutgoingRest(head)!;
        expect(rest).toHaveLength(parts.length);
        rest.forEach((piece, i) => expect(piece).toBe(parts[i]));
        expect(takeOutgoingRest(head)).toBeUndefined();
        const joined = Buffer.concat([head.subarray(5), ...rest]);
        expect(head[0]).toBe(0);
        expect(head.readUInt32BE(1)).toBe(joined.length);
        const { payload, ...decodedFields } = TunnelMessage.decode(joined);
        expect(decodedFields).toEqual(fields);
        expect(payload?.$case === 'bodyChunk' && payload.value.endStream).toBe(endStream);
        expect(payload?.$case === 'bodyChunk' && Buffer.compare(Buffer.from(payload.value.data), data)).toBe(0);
        expect(joined.length).toBe(TunnelMessage.encode({ ...fields, payload: { $case: 'bodyChunk', value: { data, endStream } } }).finish().length);
      }),
      { numRuns: 300 },
    );
  });

  it('are only those made to be sent so: a chunk that arrived in pieces is encoded whole (an edge relaying it)', () => {
    const data = Buffer.alloc(40_000, 7);
    const sent = encodeTunnelMessage({ requestId: 'r', protocolType: ProtocolType.PROTOCOL_TYPE_HTTP, messageType: MessageType.MESSAGE_TYPE_STREAM_CHUNK, payload: { $case: 'bodyChunk', value: { data, endStream: false } }, traceId: '' });
    const head = Buffer.from(sent.subarray(0, 30));
    const received = decodeFromServer(gatheredMessage(head, [sent.subarray(30, 20_000), sent.subarray(20_000)]));
    const again = encodeTunnelMessage(received);
    expect(takeOutgoingRest(again)).toBeUndefined();
    expect(Buffer.compare(again, sent)).toBe(0);
  });
});

describe('decodeTunnelMessage', () => {
  it('turns undecodable bytes into an empty message with a reason, without throwing', () => {
    const decoded = decodeTunnelMessage(Buffer.from([0x62, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(decoded.payload).toBeUndefined();
    expect(malformedReason(decoded)).toMatch(/^undecodable message of 6 bytes/);
  });

  it("decodes body chunks in either layout (the hand encoder's, ts-proto's) exactly as ts-proto does", () => {
    fc.assert(
      fc.property(bodyChunkMessage, fc.boolean(), (message, handLaid) => {
        const bytes = handLaid ? encodeTunnelMessage(message) : Buffer.from(TunnelMessage.encode(message).finish());
        const decoded = decodeTunnelMessage(bytes);
        expect(malformedReason(decoded)).toBeUndefined();
        const expected = TunnelMessage.decode(bytes);
        expect({ ...decoded, payload: undefined }).toEqual({ ...expected, payload: undefined });
        const chunk = decoded.payload?.$case === 'bodyChunk' ? decoded.payload.value : undefined;
        expect(Buffer.isBuffer(chunk?.data)).toBe(true);
        expect(chunk?.endStream).toBe(message.payload.value.endStream);
        expect(Buffer.compare(chunk!.data, message.payload.value.data)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('gives a hand-laid chunk its data as a view of the received bytes, not a copy', () => {
    const data = Buffer.alloc(64 * 1024, 7);
    const bytes = Buffer.from(encodeTunnelMessage({ requestId: 'v', protocolType: 0, messageType: 0, payload: { $case: 'bodyChunk', value: { data, endStream: true } }, traceId: 't' }));
    const decoded = decodeTunnelMessage(bytes);
    const chunk = decoded.payload?.$case === 'bodyChunk' ? decoded.payload.value.data : undefined;
    expect(chunk?.buffer).toBe(bytes.buffer);
    expect(chunk?.byteOffset).toBe(bytes.length - data.length);
  });

  it('gives the agent, too, a chunk from the server as a view; a message it cannot decode throws there', () => {
    const data = Buffer.alloc(64 * 1024, 9);
    const bytes = Buffer.from(encodeTunnelMessage({ requestId: 'up', protocolType: 0, messageType: 0, payload: { $case: 'bodyChunk', value: { data, endStream: false } }, traceId: 't' }));
    const chunk = (message: TunnelMessage) => (message.payload?.$case === 'bodyChunk' ? message.payload.value.data : undefined);
    const proxy = tunnelService.proxy;
    expect(chunk(proxy.responseDeserialize(bytes))?.buffer).toBe(bytes.buffer);
    expect(chunk(tunnelService.controlStream.responseDeserialize(bytes))?.buffer).toBe(bytes.buffer);
    expect(() => proxy.responseDeserialize(bytes.subarray(0, bytes.length - 10))).toThrow();
  });

  it('reports a body chunk cut short as malformed, whatever the layout', () => {
    const message: TunnelMessage = { requestId: 'cut', protocolType: 0, messageType: 0, payload: { $case: 'bodyChunk', value: { data: Buffer.alloc(4096, 1), endStream: false } }, traceId: 'x' };
    for (const bytes of [encodeTunnelMessage(message), Buffer.from(TunnelMessage.encode(message).finish())]) {
      const decoded = decodeTunnelMessage(bytes.subarray(0, bytes.length - 10));
      expect(malformedReason(decoded)).toMatch(/^undecodable message/);
    }
  });
});

describe('body buffers with free front bytes', () => {
  const chunkMessage = (data: Buffer, endStream: boolean, requestId = '0b6f1d3e-2a4c-4f7e-9d3b-5c8a1e2f4b6d'): TunnelMessage => ({
    requestId,
    protocolType: ProtocolType.PROTOCOL_TYPE_HTTP,
    messageType: MessageType.MESSAGE_TYPE_STREAM_CHUNK,
    payload: { $case: 'bodyChunk', value: { data, endStream } },
    traceId: 'c0ffee00c0ffee00c0ffee00c0ffee00',
  });
  // Encoded in place: the message ends exactly where the data does, in the same memory.
  const inPlace = (bytes: Buffer, data: Buffer): boolean => bytes.buffer === data.buffer && bytes.byteOffset + bytes.length === data.byteOffset + data.length;

  it('are encoded in place, sharing memory with the data, and decode to the same chunk', () => {
    fc.assert(
      fc.property(dataLength.filter((n) => n >= 1024), fc.boolean(), (length, endStream) => {
        const data = allocateBodyBuffer(length).fill(length % 253);
        const bytes = encodeTunnelMessage(chunkMessage(data, endStream));
        expect(inPlace(bytes, data)).toBe(true);
        const decoded = TunnelMessage.decode(bytes);
        expect(decoded.payload?.$case === 'bodyChunk' && decoded.payload.value.endStream).toBe(endStream);
        expect(decoded.payload?.$case === 'bodyChunk' && Buffer.compare(Buffer.from(decoded.payload.value.data), Buffer.alloc(length, length % 253))).toBe(0);
      }),
      { numRuns: 50 },
    );
  });

  it('use their room once: the same data encoded again is copied, and still correct', () => {
    const data = allocateBodyBuffer(4096).fill(7);
    const first = encodeTunnelMessage(chunkMessage(data, false));
    const second = encodeTunnelMessage(chunkMessage(data, true));
    expect(inPlace(first, data)).toBe(true);
    expect(inPlace(second, data)).toBe(false);
    const decoded = TunnelMessage.decode(second);
    expect(decoded.payload?.$case === 'bodyChunk' && decoded.payload.value.endStream).toBe(true);
    expect(decoded.payload?.$case === 'bodyChunk' && decoded.payload.value.data.every((b) => b === 7)).toBe(true);
  });

  it('fall back to a copy when the envelope is longer than the room', () => {
    const data = allocateBodyBuffer(2048).fill(1);
    const bytes = encodeTunnelMessage(chunkMessage(data, false, 'r'.repeat(500)));
    expect(inPlace(bytes, data)).toBe(false);
    expect(TunnelMessage.decode(bytes).requestId).toBe('r'.repeat(500));
  });

  it('leave room for the gRPC frame header, used once, as does any hand-encoded chunk; other buffers get none', () => {
    const encoded = encodeTunnelMessage(chunkMessage(allocateBodyBuffer(5000).fill(3), false));
    const framed = frameInPlace(encoded)!;
    expect(inPlace(framed, encoded)).toBe(true);
    expect(framed[0]).toBe(0);
    expect(framed.readUInt32BE(1)).toBe(encoded.length);
    expect(Buffer.compare(framed.subarray(5), encoded)).toBe(0);
    expect(frameInPlace(encoded)).toBeUndefined();
    // A chunk of plain data is copied once, into a buffer with room for the header.
    const copied = encodeTunnelMessage(chunkMessage(Buffer.alloc(5000, 9), true));
    const copiedFramed = frameInPlace(copied)!;
    expect(inPlace(copiedFramed, copied)).toBe(true);
    expect(copiedFramed.readUInt32BE(1)).toBe(copied.length);
    // Small chunks go through ts-proto, and plain buffers have no room.
    expect(frameInPlace(encodeTunnelMessage(chunkMessage(Buffer.alloc(100), false)))).toBeUndefined();
    expect(frameInPlace(Buffer.alloc(5000))).toBeUndefined();
  });
});
