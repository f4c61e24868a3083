// Gives a WebSocket closed for an oversize message a close reason naming the
// limit. ws closes with 1009 and an empty reason before it tells anyone
// (receiverOnError calls close(1009) and only then emits 'error'), so this
// listens first on the socket's private receiver (ws is pinned) and closes
// with a reason; ws's own close then finds the socket closing already.
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { reportPatch } from './patch-report.js';

/** The close this side sent for a limit, if any. */
export interface OwnClose {
  sent?: { code: number; reason: string };
}

const tooBig = 1009;

export function explainOversizeClose(ws: WebSocket, maxMessageBytes: number): OwnClose {
  const own: OwnClose = {};
  const receiver = (ws as unknown as { _receiver?: unknown })._receiver;
  if (!reportPatch('ws-close-reason', receiver instanceof EventEmitter, 'oversize WebSocket messages close with 1009 and no reason')) return own;
  (receiver as EventEmitter).prependListener('error', (error: Error & { code?: string }) => {
    if (error.code !== 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || ws.readyState !== ws.OPEN) return;
    own.sent = { code: tooBig, reason: `message over the ${formatBytes(maxMessageBytes)} limit` };
    ws.close(own.sent.code, own.sent.reason);
  });
  return own;
}

function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes}-byte`;
}
