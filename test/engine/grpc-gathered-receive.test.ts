// Big messages on the tunnel's Proxy method reach both sides in pieces, not
// joined by grpc-js: the client (agent) and server (edge) calls must both be
// marked through the pinned grpc-js, and every byte must arrive in place.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, ProtocolType, type TunnelMessage } from '../../src/main/gen/burrow/v1/tunnel.js';
import { gatherMinBytes, installGatheredReceive } from '../../src/main/tunnel/patches/grpc-gathered-receive.js';
import { installInPlaceFraming } from '../../src/main/tunnel/patches/grpc-in-place-framing.js';
import { allocateBodyBuffer, bodyParts, TunnelClient, tunnelService } from '../../src/main/tunnel/tunnel-codec.js';

const sizes = [1024, 20_000, gatherMinBytes, 100_000, 1024 * 1024, 1024 * 1024 - 1, 2 * 1024 * 1024 + 3];

function chunk(requestId: string, data: Buffer, endStream: boolean): TunnelMessage {
  return { requestId, protocolType: ProtocolType.PROTOCOL_TYPE_HTTP, messageType: MessageType.MESSAGE_TYPE_STREAM_CHUNK, payload: { $case: 'bodyChunk', value: { data, endStream } }, traceId: '' };
}

function pattern(length: number, seed: number): Buffer {
  const data = allocateBodyBuffer(length);
  for (let i = 0; i < length; i++) data[i] = (i * 31 + seed) & 0xff;
  return data;
}

/** How a body chunk arrived: in pieces or whole, and its bytes joined. */
function arrival(message: TunnelMessage): { gathered: boolean; data: Buffer; endStream: boolean } {
  if (message.payload?.$case !== 'bodyChunk') throw new Error(`expected a body chunk, got ${message.payload?.$case}`);
  const value = message.payload.value;
  const gathered = bodyParts(value);
  return { gathered: gathered !== undefined, data: gathered ? Buffer.concat(gathered.parts) : Buffer.from(value.data), endStream: value.endStream };
}

describe('gathered receive on the Proxy method', () => {
  let server: grpc.Server;
  let port: number;
  const atServer: ReturnType<typeof arrival>[] = [];
  const atControl: ReturnType<typeof arrival>[] = [];

  /** Records how each chunk arrived and echoes its bytes back, so the client receives the same sizes. */
  function echo(call: grpc.ServerDuplexStream<TunnelMessage, TunnelMessage>, arrivals: ReturnType<typeof arrival>[]): void {
    call.on('data', (message: TunnelMessage) => {
      const got = arrival(message);
      arrivals.push(got);
      const copy = allocateBodyBuffer(got.data.length);
      copy.set(got.data);
      call.write(chunk(message.requestId, copy, got.endStream));
    });
    call.on('end', () => call.end());
  }

  beforeAll(async () => {
    installInPlaceFraming();
    expect(installGatheredReceive()).toEqual({ client: true, server: true });
    server = new grpc.Server({ 'grpc.max_receive_message_length': -1 });
    server.addService(tunnelService, {
      controlStream: (call: grpc.ServerDuplexStream<TunnelMessage, TunnelMessage>) => echo(call, atControl),
      proxy: (call: grpc.ServerDuplexStream<TunnelMessage, TunnelMessage>) => echo(call, atServer),
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
  });

  afterAll(() => server.forceShutdown());

  /** Sends the messages on a new call of `method`, ends it, and says how the echoes arrived. */
  async function roundTrip(method: 'proxy' | 'controlStream', messages: TunnelMessage[]): Promise<ReturnType<typeof arrival>[]> {
    const client = new TunnelClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
    try {
      const call = client[method]();
      const arrivals: ReturnType<typeof arrival>[] = [];
      const done = new Promise<void>((resolve, reject) => {
        call.on('data', (message: TunnelMessage) => arrivals.push(arrival(message)));
        call.on('end', resolve);
        call.on('error', reject);
      });
      for (const message of messages) call.write(message);
      call.end();
      await done;
      return arrivals;
    } finally {
      client.close();
    }
  }

  it('hands big body chunks to both sides in pieces, small ones whole, every byte in place', async () => {
    const atClient = await roundTrip(
      'proxy',
      sizes.map((size, i) => chunk(`r${i}`, pattern(size, i), i === sizes.length - 1)),
    );

      for (const side of [atServer, atClient]) {
        // HTTP/2 frames are 16 KiB: every chunk from gatherMinBytes up spans several; 20,000 bytes span two, and are joined.
        expect(side.map((got) => got.gathered)).toEqual(sizes.map((size) => size >= gatherMinBytes));
        side.forEach((got, i) => {
          expect(got.endStream).toBe(i === sizes.length - 1);
          expect(Buffer.compare(got.data, pattern(sizes[i]!, i))).toBe(0);
        });
      }
  });

  it('leaves the control stream to grpc-js as it was: its big messages arrive joined', async () => {
    const atClient = await roundTrip('controlStream', [chunk('c', pattern(100_000, 9), true)]);
    expect(atControl.map((got) => got.gathered)).toEqual([false]);
    expect(atClient.map((got) => got.gathered)).toEqual([false]);
    expect(Buffer.compare(atClient[0]!.data, pattern(100_000, 9))).toBe(0);
  });
});
