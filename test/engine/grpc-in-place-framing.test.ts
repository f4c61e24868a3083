// grpc-js frames body chunks in the room in front of them instead of copying
// them: both of its private hooks must still be where we patch them (else the
// speed-up silently vanishes), and bytes must arrive intact both ways, for
// body buffers, for chunks the encoder had to copy, and for chunks sent in
// pieces (gatheredBody).
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, ProtocolType, type TunnelMessage } from '../../src/main/gen/burrow/v1/tunnel.js';
import { installInPlaceFraming } from '../../src/main/tunnel/patches/grpc-in-place-framing.js';
import { noBody } from '../../src/main/tunnel/messages.js';
import { allocateBodyBuffer, gatheredBody, TunnelClient, tunnelService } from '../../src/main/tunnel/tunnel-codec.js';

const sizes = [1024, 16_383, 65_536, 1024 * 1024, 3000, 1024 * 1024 - 1];

function chunk(requestId: string, data: Buffer, endStream: boolean): TunnelMessage {
  return {
    requestId,
    protocolType: ProtocolType.PROTOCOL_TYPE_HTTP,
    messageType: MessageType.MESSAGE_TYPE_STREAM_CHUNK,
    payload: { $case: 'bodyChunk', value: { data, endStream } },
    traceId: '',
  };
}

/** A body chunk of `data` copied into three pieces, to be sent gathered. */
function gatheredChunk(requestId: string, data: Buffer, endStream: boolean): TunnelMessage {
  const third = Math.floor(data.length / 3);
  const pieces = [data.subarray(0, third), data.subarray(third, 2 * third), data.subarray(2 * third)].map((piece) => Buffer.from(piece));
  const value = gatheredBody(pieces, data.length);
  value.endStream = endStream;
  return { ...chunk(requestId, noBody, endStream), payload: { $case: 'bodyChunk', value } };
}

/** Distinct bytes per size and side, so a shifted or mixed-up frame shows. */
function pattern(target: Buffer, seed: number): Buffer {
  for (let i = 0; i < target.length; i++) target[i] = (i * 31 + seed) & 0xff;
  return target;
}

describe('in-place gRPC framing', () => {
  let server: grpc.Server;
  let port: number;

  beforeAll(async () => {
    expect(installInPlaceFraming()).toEqual({ client: true, server: true, clientGathered: true, serverGathered: true });
    server = new grpc.Server();
    server.addService(tunnelService, {
      controlStream: (call: grpc.ServerDuplexStream<TunnelMessage, TunnelMessage>) => call.end(),
      // Echoes each chunk back, odd sizes in a plain buffer and even ones in a body buffer: both framings on the server side too;
      // every third in three pieces, sent gathered. Then a window update, which the encoder leaves without room in front: framed by a copy.
      proxy: (call: grpc.ServerDuplexStream<TunnelMessage, TunnelMessage>) => {
        let echoed = 0;
        call.on('data', (message: TunnelMessage) => {
          if (message.payload?.$case !== 'bodyChunk') return;
          const { data, endStream } = message.payload.value;
          if (echoed++ % 3 === 2) {
            call.write(gatheredChunk(message.requestId, data, endStream));
          } else {
            const copy = data.length % 2 === 1 ? Buffer.from(data) : allocateBodyBuffer(data.length);
            copy.set(data);
            call.write(chunk(message.requestId, copy, endStream));
          }
          call.write({ ...chunk(message.requestId, Buffer.alloc(0), false), messageType: MessageType.MESSAGE_TYPE_FLOW, payload: { $case: 'windowUpdate', value: { bytes: data.length } } });
        });
        call.on('end', () => call.end());
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
  });

  afterAll(() => server.forceShutdown());

  it('carries body chunks of many sizes both ways with every byte in place', async () => {
    const client = new TunnelClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    });
    try {
      const call = client.proxy();
      const received: TunnelMessage[] = [];
      const done = new Promise<void>((resolve, reject) => {
        call.on('data', (message: TunnelMessage) => received.push(message));
        call.on('end', resolve);
        call.on('error', reject);
      });
      // Body buffers and plain ones (encoded with a copy) alternate; every third goes in three pieces, gathered.
      sizes.forEach((size, i) => {
        const data = pattern(i % 2 === 1 ? Buffer.alloc(size) : allocateBodyBuffer(size), i);
        call.write(i % 3 === 1 ? gatheredChunk(`r${i}`, data, i === sizes.length - 1) : chunk(`r${i}`, data, i === sizes.length - 1));
      });
      call.end();
      await done;

      const chunks = received.filter((m) => m.payload?.$case === 'bodyChunk');
      const updates = received.filter((m) => m.payload?.$case === 'windowUpdate');
      expect(chunks.map((m) => m.requestId)).toEqual(sizes.map((_, i) => `r${i}`));
      expect(updates.map((m) => [m.requestId, m.payload?.$case === 'windowUpdate' && m.payload.value.bytes])).toEqual(sizes.map((size, i) => [`r${i}`, size]));
      chunks.forEach((message, i) => {
        const value = message.payload?.$case === 'bodyChunk' ? message.payload.value : undefined;
        expect(value?.endStream).toBe(i === sizes.length - 1);
        expect(Buffer.compare(Buffer.from(value!.data), pattern(Buffer.alloc(sizes[i]!), i))).toBe(0);
      });
    } finally {
      client.close();
    }
  });
});
