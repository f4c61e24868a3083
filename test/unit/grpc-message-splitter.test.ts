// The inspector's view of gRPC messages in a body stream: however the stream
// is cut into chunks, every message comes out whole (its first
// observedMessageBytes when larger), in order, with its size and flag.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GrpcMessageSplitter, observedMessageBytes, type GrpcMessageInfo } from '../../src/main/tunnel/grpc-message-splitter.js';

/** A length-prefixed gRPC message of `size` patterned bytes. */
function framed(size: number, compressed: boolean, seed: number): { frame: Buffer; bytes: Buffer } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed) & 0xff;
  const header = Buffer.alloc(5);
  header[0] = compressed ? 1 : 0;
  header.writeUInt32BE(size, 1);
  return { frame: Buffer.concat([header, bytes]), bytes };
}

/** A message as compared: its bytes by their digest (deep equality of large buffers is slow). */
const summary = ({ index, size, compressed, data }: GrpcMessageInfo): string => `${index} ${size} ${compressed} ${data.length} ${createHash('sha1').update(data).digest('hex')}`;

/** What the splitter gives for `stream` pushed as chunks ending at `cuts`. */
function split(stream: Buffer, cuts: number[]): string[] {
  const seen: string[] = [];
  const splitter = new GrpcMessageSplitter((message) => seen.push(summary(message)));
  let start = 0;
  for (const end of [...cuts.filter((cut) => cut > 0 && cut < stream.length).sort((a, b) => a - b), stream.length]) {
    splitter.push(stream.subarray(start, end));
    start = end;
  }
  return seen;
}

describe('gRPC message boundaries for the inspector', () => {
  it('passes every message on with its bytes (its first observedMessageBytes when larger) wherever the chunks end', () => {
    const sizes = [0, 1, 10, 1_000, observedMessageBytes, observedMessageBytes + 1, 100_000];
    const messages = sizes.map((size, i) => framed(size, i % 2 === 1, i));
    const stream = Buffer.concat(messages.map((m) => m.frame));
    const expected = messages.map((m, index) => summary({ index, size: m.bytes.length, compressed: index % 2 === 1, data: m.bytes.subarray(0, observedMessageBytes) }));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
        expect(split(stream, cuts)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
    // Every cut within the small messages' stretch, one at a time: headers split too.
    for (let cut = 1; cut < 1_050; cut++) expect(split(stream, [cut])).toEqual(expected);
  });
});
