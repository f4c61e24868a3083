// A marked grpc-js decoder hands big messages on in pieces; the codec must
// decode whatever arrives, in whatever frames, exactly as the joined message
// decodes, and give hand-laid body chunks their data as the pieces.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageType, ProtocolType, TunnelMessage } from '../../src/main/gen/burrow/v1/tunnel.js';
import { gatherMinBytes, installGatheredReceive, markGathering } from '../../src/main/tunnel/patches/grpc-gathered-receive.js';
import { bodyParts, decodeTunnelMessage, encodeTunnelMessage, malformedReason } from '../../src/main/tunnel/tunnel-codec.js';

interface Decoder {
  write(data: Buffer): Buffer[];
}
const { StreamDecoder } = createRequire(import.meta.url)('@grpc/grpc-js/build/src/stream-decoder.js') as { StreamDecoder: new (max: number) => Decoder };

function gatheringDecoder(maxLength = -1): Decoder {
  expect(installGatheredReceive()).toEqual({ client: true, server: true });
  const decoder = new StreamDecoder(maxLength);
  markGathering(decoder as never);
  return decoder;
}

/** gRPC's framing: not compressed, a 4-byte length, the message. */
function framed(message: Buffer, compressed = false): Buffer {
  const header = Buffer.alloc(5);
  header[0] = compressed ? 1 : 0;
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** Cuts `bytes` at the given points, as HTTP/2 DATA frames would. */
function frames(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    if (point > from) out.push(bytes.subarray(from, point));
    from = Math.max(from, point);
  }
  return out;
}

function pattern(length: number, seed: number): Buffer {
  const data = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) data[i] = (i * 13 + seed) & 0xff;
  return data;
}

const chunkMessage = (requestId: string, data: Buffer, endStream: boolean, traceId = ''): TunnelMessage => ({
  requestId,
  protocolType: ProtocolType.PROTOCOL_TYPE_HTTP,
  messageType: MessageType.MESSAGE_TYPE_STREAM_CHUNK,
  payload: { $case: 'bodyChunk', value: { data, endStream } },
  traceId,
});

// Around where gathering starts, HTTP/2's 16 KiB frames, and the 1 MiB body chunks.
const size = fc.oneof(fc.constantFrom(0, 1, gatherMinBytes - 1, gatherMinBytes, gatherMinBytes + 1, 16_384, 65_536, 1024 * 1024, 1024 * 1024 + 7), fc.nat({ max: 200_000 }));
/** One message as bytes, and what it must decode to: hand-laid or ts-proto's layout, or another kind of message. */
const wireMessage = fc.record({ size, seed: fc.nat({ max: 255 }), layout: fc.constantFrom('hand', 'ts-proto', 'websocket'), endStream: fc.boolean(), traceId: fc.string({ maxLength: 30 }) }).map(({ size, seed, layout, endStream, traceId }) => {
  const data = pattern(size, seed);
  const message: TunnelMessage =
    layout === 'websocket'
      ? { requestId: `ws${seed}`, protocolType: ProtocolType.PROTOCOL_TYPE_WEBSOCKET, messageType: MessageType.MESSAGE_TYPE_STREAM_CHUNK, payload: { $case: 'wsFrame', value: { opcode: 2, payload: data, fin: true, closeCode: 0, closeReason: '' } }, traceId }
      : chunkMessage(`r${seed}`, data, endStream, traceId);
  const bytes = layout === 'hand' ? Buffer.from(encodeTunnelMessage(message)) : Buffer.from(TunnelMessage.encode(message).finish());
  return { message, bytes };
});

describe('gathered receive', () => {
  it('decodes every message, cut into any frames, exactly as the joined bytes decode', () => {
    let gatheredChunks = 0;
    fc.assert(
      fc.property(fc.array(wireMessage, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 40 }), (messages, cuts) => {
        const decoder = gatheringDecoder();
        const stream = Buffer.concat(messages.map(({ bytes }) => framed(bytes)));
        // What grpc-js passes on: the framed message, then its bytes after the header.
        const received = frames(stream, cuts).flatMap((frame) => decoder.write(frame));
        expect(received).toHaveLength(messages.length);
        received.forEach((framedMessage, i) => {
          const { message, bytes } = messages[i]!;
          const decoded = decodeTunnelMessage(framedMessage.subarray(5));
          expect(malformedReason(decoded)).toBeUndefined();
          expect({ ...decoded, payload: undefined }).toEqual({ ...TunnelMessage.decode(bytes), payload: undefined });
          expect(decoded.payload?.$case).toBe(message.payload?.$case);
          if (decoded.payload?.$case === 'wsFrame') {
            const sentFrame = message.payload?.$case === 'wsFrame' ? message.payload.value.payload : undefined;
            expect(Buffer.compare(Buffer.from(decoded.payload.value.payload), sentFrame!)).toBe(0);
            return;
          }
          const chunk = decoded.payload?.$case === 'bodyChunk' ? decoded.payload.value : undefined;
          const sent = message.payload?.$case === 'bodyChunk' ? message.payload.value : undefined;
          expect(chunk?.endStream).toBe(sent?.endStream);
          const gathered = bodyParts(chunk!);
          if (gathered !== undefined) {
            // Pieces in order, with the length they add up to, and the same bytes joined.
            gatheredChunks++;
            expect(gathered.length).toBe(sent!.data.length);
            expect(Buffer.compare(Buffer.concat(gathered.parts), sent!.data)).toBe(0);
          }
          expect(Buffer.compare(chunk!.data, sent!.data)).toBe(0);
        });
      }),
      { numRuns: 200 },
    );
    // The runs did take the gathered path, not only the joined one.
    expect(gatheredChunks).toBeGreaterThan(20);
  });

  it('gives a big hand-laid body chunk that came in 16 KiB frames its data as views of those frames', () => {
    const data = pattern(1024 * 1024, 5);
    const stream = framed(Buffer.from(encodeTunnelMessage(chunkMessage('big', data, true, 'trace'))));
    const sixteenKiB = frames(
      stream,
      Array.from({ length: Math.ceil(stream.length / 16_384) }, (_, i) => i * 16_384),
    );
    const decoder = gatheringDecoder();
    const [head, ...more] = sixteenKiB.flatMap((frame) => decoder.write(frame));
    expect(more).toHaveLength(0);
    // The head is small: the envelope and tags and the first data bytes, not the megabyte.
    expect(head!.length).toBeLessThan(300);
    const decoded = decodeTunnelMessage(head!.subarray(5));
    expect(decoded.requestId).toBe('big');
    expect(decoded.traceId).toBe('trace');
    const gathered = bodyParts(decoded.payload?.$case === 'bodyChunk' ? decoded.payload.value : (undefined as never));
    expect(gathered?.length).toBe(data.length);
    // Every piece but the first is a view of a received frame, none of them copied.
    const frameBuffers = new Set(sixteenKiB.map((frame) => frame.buffer));
    expect(gathered!.parts.slice(1).every((part) => frameBuffers.has(part.buffer))).toBe(true);
    expect(gathered!.parts.length).toBeGreaterThanOrEqual(64);
    expect(Buffer.compare(Buffer.concat(gathered!.parts), data)).toBe(0);
  });

  it('joins a compressed message, as grpc-js decompresses it whole', () => {
    const payload = pattern(100_000, 3);
    const decoder = gatheringDecoder();
    const stream = framed(payload, true);
    const [message] = frames(stream, [1000, 20_000, 50_000]).flatMap((frame) => decoder.write(frame));
    expect(message!.length).toBe(stream.length);
    expect(Buffer.compare(message!, stream)).toBe(0);
  });

  it('refuses a message over the limit with grpc-js\'s own error, when its length arrives', () => {
    const decoder = gatheringDecoder(1000);
    expect(() => decoder.write(framed(pattern(2000, 1)).subarray(0, 7))).toThrow('Received message larger than max (2000 vs 1000)');
  });

  it('reports a gathered body chunk cut short as malformed, never throwing', () => {
    const bytes = Buffer.from(encodeTunnelMessage(chunkMessage('cut', pattern(100_000, 2), false)));
    // The frame says the message is 10 bytes shorter than the chunk inside it claims.
    const short = bytes.subarray(0, bytes.length - 10);
    const decoder = gatheringDecoder();
    const [message] = frames(framed(short), [16_384, 32_768, 49_152]).flatMap((frame) => decoder.write(frame));
    expect(malformedReason(decodeTunnelMessage(message!.subarray(5)))).toMatch(/^undecodable message/);
  });
});
