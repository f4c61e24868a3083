// An HTTP/1.1 response written as bytes, for sockets no HTTP server owns
// (refused upgrades, unparsable requests, the inspector's refusals).
import { STATUS_CODES } from 'node:http';

/** The whole response; it tells the client the connection closes after it. */
export function rawHttpAnswer(status: number, headers: Record<string, string>, body: string): string {
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`), 'connection: close'];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
