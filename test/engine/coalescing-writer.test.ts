// A data stream's messages written in the same event-loop turn, or while an
// earlier write is on its way, leave together, over real grpc-js on both
// sides: the peer must get exactly the messages sent, in order, whatever
// their sizes around the 16 KiB "alone" and 64 KiB "together" limits, and a
// burst must take one write, not one each.
import * as grpc from '@grpc/grpc-js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, ProtocolType, TunnelMessage } from '../../src/main/gen/burrow/v1/tunnel.js';
import { CoalescingWriter, type MessageCall } from '../../src/main/tunnel/coalescing-writer.js';
import { installInPlaceFraming } from '../../src/main/tunnel/patches/grpc-in-place-framing.js';
import { allocateBodyBuffer, EncodedMessages, TunnelClient, tunnelService } from '../../src/main/tunnel/tunnel-codec.js';

type ServerCall = grpc.ServerDuplexStream<TunnelMessage, TunnelMessage>;
type ClientCall = grpc.ClientDuplexStream<TunnelMessage, TunnelMessage>;

const KiB = 1024;

function chunk(requestId: string, data: Buffer, endStream = false): TunnelMessage {
  return { requestId, protocolType: ProtocolType.PROTOCOL_TYPE_HTTP, messageType: MessageType.MESSAGE_TYPE_STREAM_CHUNK, payload: { $case: 'bodyChunk', value: { data, endStream } }, traceId: '' };
}

function pattern(target: Buffer, seed: number): Buffer {
  for (let i = 0; i < target.length; i++) target[i] = (i * 31 + seed) & 0xff;
  return target;
}

/** What each write handed grpc-js carried: the sizes of the messages in it (one entry for a message grpc-js encodes itself). */
type Write = number[];

/** The real call, with every write it is handed recorded. */
function recorded(call: MessageCall): { call: MessageCall; writes: Write[] } {
  const writes: Write[] = [];
  return {
    writes,
    call: {
      write(message, written) {
        writes.push(message instanceof EncodedMessages ? framedSizes(message.bytes) : [-1]);
        return call.write(message, written);
      },
    },
  };
}

/** A buffer of back-to-back gRPC frames as its messages' sizes; an unframed message as its own size. */
function framedSizes(bytes: Buffer): number[] {
  const sizes: number[] = [];
  for (let at = 0; at + 5 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at + 1);
    if (bytes[at] !== 0 || at + 5 + length > bytes.length) return [bytes.length];
    sizes.push(length);
    at += 5 + length;
  }
  return sizes;
}

/** The decoded message as comparable plain data. */
function plain(message: TunnelMessage): unknown {
  return JSON.parse(JSON.stringify(TunnelMessage.toJSON(message)));
}

describe('coalescing writer', () => {
  let server: grpc.Server;
  let client: InstanceType<typeof TunnelClient>;
  let together = true;
  const serverWrites: Write[][] = [];

  beforeAll(async () => {
    expect(installInPlaceFraming()).toMatchObject({ client: true, server: true });
    server = new grpc.Server();
    server.addService(tunnelService, {
      controlStream: (call: ServerCall) => call.end(),
      // Echoes every message through a writer of its own: the server side's framing.
      proxy: (call: ServerCall) => {
        const record = recorded(call);
        serverWrites.push(record.writes);
        const writer = new CoalescingWriter(record.call, together);
        call.on('data', (message: TunnelMessage) => writer.write(message));
        call.on('end', () => {
          writer.flush();
          call.end();
        });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    client = new TunnelClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  /** Opens a call, writes `bursts` (each in one go, the next once the echoes of this one are back), ends it; what came back and the writes on both sides. */
  async function roundTrip(bursts: TunnelMessage[][], options: { together?: boolean; flushBeforeEnd?: boolean } = {}) {
    together = options.together ?? true;
    const call = client.proxy() as ClientCall;
    const record = recorded(call);
    const writer = new CoalescingWriter(record.call, together);
    const received: TunnelMessage[] = [];
    let waitingFor = 0;
    let burstBack: (() => void) | undefined;
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (message: TunnelMessage) => {
        received.push(message);
        if (received.length === waitingFor) burstBack?.();
      });
      call.on('end', resolve);
      call.on('error', reject);
    });
    for (const burst of bursts) {
      waitingFor += burst.length;
      const back = new Promise<void>((resolve) => (burstBack = resolve));
      for (const message of burst) writer.write(message);
      await back;
    }
    if (options.flushBeforeEnd) writer.flush();
    call.end();
    await ended;
    return { received, clientWrites: record.writes, serverWrites: serverWrites.at(-1)! };
  }

  it('sends a burst of small messages in one write, and the peer gets each one in order', async () => {
    const burst = Array.from({ length: 200 }, (_, i) => chunk(`r${i}`, pattern(Buffer.alloc(i % 50), i), i % 7 === 0));
    const { received, clientWrites, serverWrites } = await roundTrip([burst]);
    expect(received.map(plain)).toEqual(burst.map(plain));
    expect(clientWrites.map((write) => write.length)).toEqual([200]);
    // The echoes come back in fewer writes than messages (how many depends on how the server's reads fell).
    expect(serverWrites.length).toBeLessThan(100);
  });

  it('writes every message alone when the side frames as grpc-js does', async () => {
    const burst = Array.from({ length: 20 }, (_, i) => chunk(`r${i}`, Buffer.alloc(i)));
    const { received, clientWrites, serverWrites } = await roundTrip([burst], { together: false });
    expect(received.map(plain)).toEqual(burst.map(plain));
    expect(clientWrites).toEqual(burst.map(() => [-1]));
    expect(serverWrites).toEqual(burst.map(() => [-1]));
  });

  it('keeps order and every byte around the alone and together limits, big messages never shared', async () => {
    // Encoded sizes land a few bytes above the data's: these straddle 16 KiB and 64 KiB.
    const size = fc.oneof(fc.constantFrom(0, 1, 16 * KiB - 30, 16 * KiB - 20, 16 * KiB, 32 * KiB, 64 * KiB - 20, 64 * KiB, 64 * KiB + 1, 300 * KiB), fc.nat({ max: 70 * KiB }));
    const message = fc.record({ size, seed: fc.nat({ max: 255 }), bodyBuffer: fc.boolean(), end: fc.boolean() });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(message, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 3 }), async (shape) => {
        run++;
        const bursts = shape.map((burst, b) =>
          burst.map(({ size, seed, bodyBuffer, end }, i) => chunk(`p${run}.${b}.${i}`, pattern(bodyBuffer ? allocateBodyBuffer(size) : Buffer.alloc(size), seed), end)),
        );
        // What the peer must get, taken before sending: a body buffer's front bytes are written into when it is sent.
        const expected = bursts.flat().map(plain);
        const { received, clientWrites, serverWrites } = await roundTrip(bursts);
        expect(received.map(plain)).toEqual(expected);
        for (const write of [...clientWrites, ...serverWrites]) {
          if (write.length === 1) continue;
          expect(Math.max(...write), 'a big message shared a write').toBeLessThan(16 * KiB);
          expect(write.reduce((sum, length) => sum + length, 0)).toBeLessThanOrEqual(64 * KiB);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('hands what waits to grpc-js on flush, so ending the call right after loses nothing', async () => {
    together = true;
    const call = client.proxy() as ClientCall;
    const record = recorded(call);
    const writer = new CoalescingWriter(record.call, true);
    const received: TunnelMessage[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (message: TunnelMessage) => received.push(message));
      call.on('end', resolve);
      call.on('error', reject);
    });
    const burst = Array.from({ length: 50 }, (_, i) => chunk(`f${i}`, Buffer.alloc(10, i)));
    for (const message of burst) writer.write(message);
    writer.flush();
    call.end();
    await ended;
    expect(received.map(plain)).toEqual(burst.map(plain));
    expect(record.writes.map((write) => write.length)).toEqual([50]);
  });

  // Under steady load the writer never catches up: something waits at every
  // write. It kept every message it had sent until it once had nothing left
  // (24 parallel 16 MiB downloads held 207 MB of sent chunks in the agent).
  it('lets go of each message it has handed on, though something always waits', async () => {
    together = true;
    const call = client.proxy() as ClientCall;
    const real: MessageCall = call;
    const sent: WeakRef<Buffer>[] = [];
    let paused: (() => void) | undefined;
    const halfway = new Promise<void>((resolve) => {
      const writer = new CoalescingWriter(
        {
          write(message, written) {
            sent.push(new WeakRef((message as EncodedMessages).bytes));
            if (sent.length !== 100) return real.write(message, written);
            // The 100th stays with the test a while: 100 more wait behind it.
            paused = () => real.write(message, written);
            resolve();
            return true;
          },
        },
        true,
      );
      // Each 32 KiB: big enough to leave alone, one write each.
      for (let i = 0; i < 200; i++) writer.write(chunk(`w${i}`, Buffer.alloc(32 * KiB, i)));
    });
    const received: TunnelMessage[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (message: TunnelMessage) => received.push(message));
      call.on('end', resolve);
      call.on('error', reject);
    });
    await halfway;
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    const stillHeld = sent.slice(0, 50).filter((ref) => ref.deref() !== undefined).length;
    paused!();
    await new Promise<void>((resolve) => {
      const waitForAll = (): void => (received.length === 200 ? resolve() : void setTimeout(waitForAll, 10));
      waitForAll();
    });
    call.end();
    await ended;
    expect(stillHeld).toBe(0);
    expect(received.map((message) => message.requestId)).toEqual(Array.from({ length: 200 }, (_, i) => `w${i}`));
  });

  it('keeps every message and their order when the emptied head of a long queue is cut off', async () => {
    // 5,000 small messages in one turn: written ~600 at a time, the queue is cut once 1,024 or more are gone.
    const burst = Array.from({ length: 5_000 }, (_, i) => chunk(`q${i}`, Buffer.alloc(100, i)));
    const { received, clientWrites } = await roundTrip([burst]);
    expect(received.map((message) => message.requestId)).toEqual(burst.map((message) => message.requestId));
    expect(clientWrites.length).toBeGreaterThan(4);
  });

  it("writes a turn's messages once the turn's callbacks have run, not before", async () => {
    const call = client.proxy() as ClientCall;
    call.on('error', () => {});
    const record = recorded(call);
    const writer = new CoalescingWriter(record.call, true);
    writer.write(chunk('t1', Buffer.alloc(5)));
    writer.write(chunk('t2', Buffer.alloc(5)));
    expect(record.writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(record.writes.map((write) => write.length)).toEqual([2]);
    call.cancel();
  });

  it('splits small messages past 64 KiB over several writes, each within it', async () => {
    const burst = Array.from({ length: 12 }, (_, i) => chunk(`s${i}`, pattern(Buffer.alloc(15 * KiB), i)));
    const { received, clientWrites } = await roundTrip([burst]);
    expect(received.map(plain)).toEqual(burst.map(plain));
    // 15 KiB and a few bytes each: four fit in 64 KiB.
    expect(clientWrites.map((write) => write.length)).toEqual([4, 4, 4]);
  });

  it('leaves a message it cannot encode to grpc-js, which fails the call after the messages before it', async () => {
    const call = client.proxy() as ClientCall;
    const writer = new CoalescingWriter(call, true);
    const received: string[] = [];
    call.on('data', (message: TunnelMessage) => received.push(message.requestId));
    const failed = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    writer.write(chunk('before', Buffer.alloc(3)));
    writer.write({ ...chunk('bad', Buffer.alloc(3)), protocolType: 'not a number' as never });
    writer.write(chunk('after', Buffer.alloc(3)));
    const error = await failed;
    expect(error.code).toBe(grpc.status.INTERNAL);
    expect(received).not.toContain('after');
  });
});
