// A local WebSocket service for the conformance suite: echoes every message
// as it came (text or binary), and reports the extensions and subprotocol
// each connection negotiated.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData } from 'ws';

/** The bytes the WebSocket cases send for a size: a pattern that shows a misplaced byte (the Chromium page computes the same formula itself). */
export function patternedBytes(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 10)) & 0xff;
  return bytes;
}

export interface WebSocketEchoService {
  port: number;
  /** permessage-deflate as each connection negotiated it ('' for none). */
  negotiated: string[];
  /** The subprotocol each connection agreed on ('' for none). */
  subprotocols: string[];
  /** Per connection the service closed when asked: the messages it read after its close, until the client's reply; `ended` once its connection has closed. */
  readAfterClose: { read: number; ended: boolean }[];
  /** Per connection, in the order they came: the size of each message it read, and `ended` once the connection has closed. */
  connections: { sizes: number[]; ended: boolean }[];
  close(): Promise<void>;
}

/**
 * Echoes every message; "send N" asks it for N bytes instead, "close CODE"
 * to close with that code (counting what it still reads), "send N and
 * end" for N bytes and then the connection's end with no close frame. Of the
 * subprotocols a client offers it picks the last (so that passing the
 * offer on in another order shows), and none when one is `unsupported`.
 */
export async function startWebSocketEcho(options: { deflate: boolean; maxPayload: number }): Promise<WebSocketEchoService> {
  const http: Server = createServer((_req, res) => res.end('websocket only'));
  const wss = new WebSocketServer({
    server: http,
    perMessageDeflate: options.deflate,
    maxPayload: options.maxPayload,
    handleProtocols: (offered) => (offered.has('unsupported') ? false : ([...offered].at(-1) ?? false)),
  });
  const negotiated: string[] = [];
  const subprotocols: string[] = [];
  const readAfterClose: WebSocketEchoService['readAfterClose'] = [];
  const connections: WebSocketEchoService['connections'] = [];
  wss.on('connection', (ws, request) => {
    let closedAs: number | undefined;
    negotiated.push(ws.extensions);
    subprotocols.push(ws.protocol);
    const connection = { sizes: [] as number[], ended: false };
    connections.push(connection);
    ws.on('close', () => (connection.ended = true));
    // Oversize messages end in a 1009 close, which the tests look at.
    ws.on('error', () => {});
    ws.on('message', (data: RawData, isBinary: boolean) => {
      connection.sizes.push((data as Buffer).length);
      // RFC 6455 section 1.4: until the peer's close frame comes, its messages still arrive.
      if (closedAs !== undefined) {
        readAfterClose[closedAs]!.read++;
        return;
      }
      const text = isBinary ? '' : data.toString();
      // Written, then a FIN after it: as a service that exits right after its last message.
      if (text.startsWith('send ') && text.endsWith(' and end')) ws.send(Buffer.alloc(Number(text.slice(5, -8)), 3), () => request.socket.end());
      else if (text.startsWith('send ')) ws.send(Buffer.alloc(Number(text.slice(5)), 3));
      else if (text.startsWith('close ')) {
        // Ended with its connection, which says so.
        const count = { read: 0, get ended() { return connection.ended; } };
        closedAs = readAfterClose.push(count) - 1;
        ws.close(Number(text.slice(6)), 'closing as asked');
      }
      else ws.send(data as Buffer, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    port: (http.address() as AddressInfo).port,
    negotiated,
    subprotocols,
    readAfterClose,
    connections,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

