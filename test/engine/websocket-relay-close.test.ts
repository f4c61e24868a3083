// A relay's end: once its socket has closed and its close has gone into the
// tunnel, it still takes (and credits) what the far end sends, until the far
// end's close comes; then, or after ws's bound on a close handshake without
// it, the exchange ends. A relay that ended at once left the far end's last
// frames, and its close behind them, waiting for credit for good.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { WebSocketFrame } from '../../src/main/gen/burrow/v1/tunnel.js';
import { Opcode, WebSocketRelay } from '../../src/main/tunnel/websocket-relay.js';
import { eventually } from '../helpers/common.js';

let wss: WebSocketServer | undefined;
afterEach(() => {
  vi.useRealTimers();
  for (const client of wss?.clients ?? []) client.terminate();
  wss?.close();
  wss = undefined;
});

/** A relay on one end of a socket pair; its socket's peer, what it sent into the tunnel, the credit it granted and how it ended. */
async function relayOnSocketPair() {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss!.once('listening', () => resolve()));
  const peer = new Promise<WebSocket>((resolve) => wss!.once('connection', resolve));
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  const tunnel: WebSocketFrame[] = [];
  const ends: boolean[] = [];
  let granted = 0;
  const relay = new WebSocketRelay(ws, { window: 1024, maxMessageBytes: 1024 * 1024 }, {
    sendFrame: (frame) => tunnel.push(frame),
    sendGrant: (bytes) => (granted += bytes),
    closed: (farEndSilent) => ends.push(farEndSilent),
  });
  return { relay, ws, peer: await peer, tunnel, ends, granted: () => granted };
}

const data = (size: number): WebSocketFrame => ({ opcode: Opcode.Binary, fin: true, payload: Buffer.alloc(size), closeCode: 0, closeReason: '' });
const close: WebSocketFrame = { opcode: Opcode.Close, fin: true, payload: Buffer.alloc(0), closeCode: 1000, closeReason: '' };

describe('a relay whose socket has closed', () => {
  it('takes and credits what the far end still sends, and ends when its close comes', async () => {
    const { relay, ws, peer, tunnel, ends, granted } = await relayOnSocketPair();
    peer.terminate();
    await eventually(() => ws.readyState === ws.CLOSED && tunnel.some((frame) => frame.opcode === Opcode.Close), 'the socket gone and its close sent');
    expect(ends).toEqual([]);
    // Past the window: only credit for what was taken lets the far end send it.
    for (let i = 0; i < 4; i++) relay.deliver(data(1024));
    await eventually(() => granted() >= 4 * 1024, 'credit for all of it');
    relay.deliver(close);
    expect(ends).toEqual([false]);
  });

  it('ends a little after ws\'s bound on a close handshake (the far end\'s own) when the far end never closes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
    const { ws, peer, tunnel, ends } = await relayOnSocketPair();
    peer.terminate();
    await eventually(() => ws.readyState === ws.CLOSED && tunnel.some((frame) => frame.opcode === Opcode.Close), 'the socket gone and its close sent');
    // ws's 30 s and 5 s more: the far end's socket, bounded by the same 30 s, has closed by then.
    vi.advanceTimersByTime(34_000);
    expect(ends).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(ends).toEqual([true]);
  });
});
