// Lets a relay answer a peer's close frame when the far end has answered it.
// ws replies to a close frame at once (receiverOnConclude calls close()), and
// then sends nothing more: the frames the far end sent before it heard of the
// close, still crossing the tunnel, were lost, where directly they arrive
// before its reply. Around ws's own 'conclude' listener on the socket's
// private receiver (ws is pinned), close() does nothing, so the socket stays
// open for sending; the relay passes the close on and calls close() itself.
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { reportPatch } from './patch-report.js';

/**
 * Calls `peerClosed` instead of replying when the peer starts the close
 * handshake; the caller replies later with `ws.close()`. False when the patch
 * could not be installed: ws then replies at once, as before.
 */
export function deferCloseReply(ws: WebSocket, peerClosed: (code: number, reason: Buffer) => void): boolean {
  const receiver = (ws as unknown as { _receiver?: unknown })._receiver;
  const installed = receiver instanceof EventEmitter && receiver.listenerCount('conclude') === 1;
  if (!reportPatch('ws-deferred-close-reply', installed, 'frames sent toward a WebSocket client or service after it sent its close frame are lost')) return false;
  const socket = ws as unknown as { close: WebSocket['close'] };
  let deferred = false;
  (receiver as EventEmitter).prependListener('conclude', () => {
    // Only a close the peer started: the reply to our own close ends the handshake as ws does.
    if (ws.readyState !== ws.OPEN) return;
    deferred = true;
    socket.close = () => {};
  });
  (receiver as EventEmitter).on('conclude', (code: number, reason: Buffer) => {
    if (!deferred) return;
    deferred = false;
    delete (socket as Partial<typeof socket>).close;
    peerClosed(code, Buffer.from(reason));
  });
  return true;
}
