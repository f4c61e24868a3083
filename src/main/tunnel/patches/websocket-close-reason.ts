// Gives the close this side sends for a frame it refuses (a message over the
// limit, a protocol error: invalid UTF-8, a reserved opcode or bit, a masked
// frame from a service...) a reason, and lets the relay tell the far end of
// the tunnel that close. ws closes with the code and an empty reason before
// it tells anyone (receiverOnError calls close(code) and only then emits
// 'error'), then stops reading, so its 'close' says 1006: the far end's peer
// was cut without a close frame. This listens first on the socket's private
// receiver (ws is pinned) and closes with a reason; ws's own close then finds
// the socket closing already.
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { reportPatch } from './patch-report.js';

/** The close this side sent for a frame it refused, if any. */
export interface OwnClose {
  sent?: { code: number; reason: string };
}

/** A close frame's reason holds at most 123 bytes (RFC 6455 section 5.5). */
const maxReasonBytes = 123;

/** The close code RFC 6455 section 7.4.1 gives each of ws's receiver errors (as ws/lib/receiver.js sends them). */
function closeCodeFor(errorCode: string | undefined): number | undefined {
  if (errorCode === undefined || !errorCode.startsWith('WS_ERR_')) return undefined;
  if (errorCode === 'WS_ERR_INVALID_UTF8') return 1007;
  if (errorCode === 'WS_ERR_TOO_MANY_BUFFERED_PARTS') return 1008;
  if (errorCode.startsWith('WS_ERR_UNSUPPORTED_')) return 1009;
  return 1002;
}

export function explainRefusedFrameClose(ws: WebSocket, maxMessageBytes: number): OwnClose {
  const own: OwnClose = {};
  const receiver = (ws as unknown as { _receiver?: unknown })._receiver;
  if (!reportPatch('ws-close-reason', receiver instanceof EventEmitter, 'a refused WebSocket frame closes with no reason, and the far end hears 1006')) return own;
  (receiver as EventEmitter).prependListener('error', (error: Error & { code?: string }) => {
    const code = closeCodeFor(error.code);
    if (code === undefined || ws.readyState !== ws.OPEN) return;
    const reason = code === 1009 ? `message over the ${formatBytes(maxMessageBytes)} limit` : error.message;
    own.sent = { code, reason: Buffer.from(reason).subarray(0, maxReasonBytes).toString().replace(/\uFFFD$/, '') };
    ws.close(own.sent.code, own.sent.reason);
  });
  return own;
}

function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes}-byte`;
}
