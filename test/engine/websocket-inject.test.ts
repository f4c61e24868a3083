// Messages the inspector sends into a relayed WebSocket: whole messages
// between the relayed ones, never inside a fragmented message, under the
// same credit and message limit as the traffic. A real socket pair on
// 127.0.0.1, with the relay's tunnel side captured.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { WebSocketFrame } from '../../src/main/gen/burrow/v1/tunnel.js';
import { maxChunkBytes } from '../../src/main/tunnel/flow-control.js';
import { Opcode, WebSocketRelay } from '../../src/main/tunnel/websocket-relay.js';
import { eventually } from '../helpers/common.js';

let wss: WebSocketServer | undefined;

afterEach(() => {
  for (const client of wss?.clients ?? []) client.terminate();
  wss?.close();
  wss = undefined;
});

interface RelayFixture {
  relay: WebSocketRelay;
  /** What the far end of the socket received, in order. */
  received: { text: string; binary: boolean }[];
  /** Frames the relay sent into the tunnel, and what it observed (with the injected flag). */
  tunnel: WebSocketFrame[];
  observed: { opcode: number; fromSocket: boolean; injected: boolean; size: number }[];
  far: WebSocket;
}

/** A relay on the client end of a socket pair, as the agent holds the local service's socket. */
async function relayFixture(options: { window?: number; maxMessageBytes?: number } = {}): Promise<RelayFixture> {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss!.once('listening', () => resolve()));
  const farSocket = new Promise<WebSocket>((resolve) => wss!.once('connection', resolve));
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  const far = await farSocket;
  const received: RelayFixture['received'] = [];
  far.on('message', (data: RawData, binary: boolean) => received.push({ text: (data as Buffer).toString(), binary }));
  const tunnel: WebSocketFrame[] = [];
  const observed: RelayFixture['observed'] = [];
  const relay = new WebSocketRelay(
    ws,
    { window: options.window ?? 1024 * 1024, maxMessageBytes: options.maxMessageBytes ?? 1024 * 1024 },
    {
      sendFrame: (frame) => tunnel.push(frame),
      sendGrant: () => {},
      observe: (message, fromSocket, injected) => observed.push({ opcode: message.opcode, fromSocket, injected, size: message.size }),
      closed: () => {},
    },
  );
  return { relay, received, tunnel, observed, far };
}

const frame = (opcode: number, text: string, fin: boolean): WebSocketFrame => ({ opcode, fin, payload: Buffer.from(text), closeCode: 0, closeReason: '' });

describe('a message sent from the inspector into a WebSocket', () => {
  it('onto the socket waits for the end of a fragmented message being written, then follows it whole', async () => {
    const { relay, received, observed } = await relayFixture();
    relay.deliver(frame(Opcode.Text, 'first half, ', false));
    relay.inject(Opcode.Text, Buffer.from('from the inspector'), 'socket');
    // A control frame may come between a message's fragments.
    relay.deliver(frame(Opcode.Ping, 'p', true));
    relay.deliver(frame(Opcode.Continuation, 'second half', true));
    relay.inject(Opcode.Binary, Buffer.from('right away'), 'socket');
    await eventually(() => received.length === 3, 'three messages at the far end');
    expect(received).toEqual([
      { text: 'first half, second half', binary: false },
      { text: 'from the inspector', binary: false },
      { text: 'right away', binary: true },
    ]);
    // The inspector sees messages in the order written, not the tunnel's fragments: the relayed one once, whole.
    // (The far end's pong to the ping comes back from the socket, whenever it does.)
    expect(observed.filter((o) => !o.fromSocket).map((o) => [o.opcode, o.fromSocket, o.injected, o.size])).toEqual([
      [Opcode.Ping, false, false, 1],
      [Opcode.Text, false, false, 23],
      [Opcode.Text, false, true, 18],
      [Opcode.Binary, false, true, 10],
    ]);
  });

  it('into the tunnel goes as the socket own messages do: in chunk-sized fragments, under credit', async () => {
    const window = 2 * maxChunkBytes;
    const { relay, tunnel, observed } = await relayFixture({ window, maxMessageBytes: 4 * maxChunkBytes });
    const payload = Buffer.alloc(3 * maxChunkBytes + 10, 'x');
    relay.inject(Opcode.Text, payload, 'tunnel');
    // Only the window's worth crosses until the far side grants more.
    expect(tunnel.map((f) => f.payload.length)).toEqual([maxChunkBytes, maxChunkBytes]);
    relay.grant(2 * maxChunkBytes);
    expect(tunnel.map((f) => [f.opcode, f.fin, f.payload.length])).toEqual([
      [Opcode.Text, false, maxChunkBytes],
      [Opcode.Continuation, false, maxChunkBytes],
      [Opcode.Continuation, false, maxChunkBytes],
      [Opcode.Continuation, true, 10],
    ]);
    // One message observed, of all its bytes, however many fragments carry it.
    expect(observed).toEqual([{ opcode: Opcode.Text, fromSocket: true, injected: true, size: payload.length }]);
  });

  it('is refused over the message limit and on a closed socket, and the socket carries on', async () => {
    const { relay, received, far, tunnel } = await relayFixture({ maxMessageBytes: 1000 });
    expect(() => relay.inject(Opcode.Binary, Buffer.alloc(1001), 'socket')).toThrow(expect.objectContaining({ code: 'BURROW_E_BODY_TOO_LARGE', message: expect.stringContaining('limited to 1000') }));
    expect(() => relay.inject(Opcode.Binary, Buffer.alloc(1001), 'tunnel')).toThrow(expect.objectContaining({ code: 'BURROW_E_BODY_TOO_LARGE' }));
    relay.inject(Opcode.Text, Buffer.alloc(1000, 'a'), 'socket');
    await eventually(() => received.length === 1, 'the message at the limit');
    expect(received[0]!.text).toHaveLength(1000);
    const closed = new Promise((resolve) => far.once('close', resolve));
    far.close(1000, 'bye');
    // The relay answers the close once the far end of the tunnel has.
    await eventually(() => tunnel.some((sent) => sent.opcode === Opcode.Close), 'the close into the tunnel');
    relay.deliver({ opcode: Opcode.Close, fin: true, payload: Buffer.alloc(0), closeCode: 1000, closeReason: 'bye' });
    await closed;
    await eventually(() => {
      try {
        relay.inject(Opcode.Text, Buffer.from('late'), 'socket');
        return false;
      } catch (error) {
        return (error as { code?: string }).code === 'BURROW_E_CONFLICT';
      }
    }, 'refused once the socket is closed');
  });
});
