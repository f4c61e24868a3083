// HTTP/1.1 written and read as bytes on a socket: for what clients rarely
// send (trailers on a request, two Host headers, odd request targets).
import { connect } from 'node:net';

export interface RawResponse {
  /** The response's first line, as sent. */
  statusLine: string;
  status: number;
  /** Header lines as sent, lower-cased names. */
  headers: Record<string, string>;
  /** Everything after the head (the body as framed, trailers included). */
  rest: string;
  /** The connection closed without an error once the response was read. */
  closedCleanly: boolean;
}

/** Sends `request` and reads, as latin1, until the server closes or `doneWhen` says it has all it wants; `errored` when reset. */
export function rawExchange(port: number, request: string | Buffer, doneWhen: (text: string) => boolean = () => false): Promise<{ text: string; errored: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let errored = false;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (doneWhen(text)) socket.end();
    });
    socket.on('error', () => (errored = true));
    socket.on('close', () => resolve({ text, errored }));
    socket.write(request);
  });
}

/** Sends `request` and reads until the server closes or `doneWhen` says the response is complete. */
export async function rawRequest(port: number, request: string | Buffer, doneWhen: (text: string) => boolean = () => false): Promise<RawResponse> {
  const { text, errored } = await rawExchange(port, request, doneWhen);
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) throw new Error(`no response head (read ${JSON.stringify(text.slice(0, 200))}${errored ? ', connection reset' : ''})`);
  const [statusLine, ...lines] = text.slice(0, headEnd).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { statusLine: statusLine!, status: Number(statusLine!.split(' ')[1]), headers, rest: text.slice(headEnd + 4), closedCleanly: !errored };
}

/** A chunked body as bytes, with trailer lines after the last chunk. */
export function chunked(body: Buffer, chunkBytes: number, trailers: Record<string, string> = {}): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += chunkBytes) {
    const chunk = body.subarray(offset, offset + chunkBytes);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\n${Object.entries(trailers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}
