// An HTTP/1.1 request asking to upgrade to anything but WebSocket is served
// as the plain request it also is: RFC 9110 section 7.8 lets a server ignore
// Upgrade, and `curl --http2 http://...` asks for h2c on every request, which
// the service answers over HTTP/1.1 directly. Node has already handed the
// socket over as an upgrade by then, so the head is written out again
// without its upgrade fields, in front of what followed it, for the
// HTTP/1.1 server to read afresh.
import type { IncomingMessage } from 'node:http';

/** Whether the request asks for a WebSocket: the only upgrade the tunnel carries. */
export const isWebSocketUpgrade = (req: IncomingMessage): boolean => (req.headers.upgrade ?? '').trim().toLowerCase() === 'websocket';

/** Fields that only serve the upgrade: its offer, and h2c's settings. */
const upgradeFields = new Set(['upgrade', 'http2-settings']);

/** The request's head as bytes, without the upgrade (its fields, and their Connection options), then `rest`. */
export function headWithoutUpgrade(req: IncomingMessage, rest: Buffer): Buffer {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (upgradeFields.has(lower)) continue;
    let value = raw[i + 1]!;
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((option) => option.trim())
        .filter((option) => option !== '' && !upgradeFields.has(option.toLowerCase()))
        .join(', ');
      if (value === '') continue;
    }
    lines.push(`${name}: ${value}`);
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), rest]);
}
