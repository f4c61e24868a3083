// One public port for HTTP/1.1 (and WebSocket upgrades) and cleartext HTTP/2
// (gRPC): a connection that opens with the HTTP/2 preface goes to the HTTP/2
// server, any other to the HTTP/1.1 server.
import type { Socket } from 'node:net';

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export function sniffProtocol(socket: Socket, onHttp1: (socket: Socket) => void, onHttp2: (socket: Socket) => void, silenceTimeoutMs: number): void {
  let seen = Buffer.alloc(0);
  // A connection that never says anything must not hold a socket forever.
  const silent = setTimeout(() => socket.destroy(), silenceTimeoutMs);
  socket.once('close', () => clearTimeout(silent));
  // Sockets are half-open (public-listener.ts): one that ends before saying enough is done.
  const onEnd = (): void => void socket.destroy();
  socket.once('end', onEnd);
  const onData = (chunk: Buffer): void => {
    seen = Buffer.concat([seen, chunk]);
    const compared = Math.min(seen.length, preface.length);
    const matches = seen.subarray(0, compared).equals(preface.subarray(0, compared));
    // Wait for more only while what came so far could still be the preface.
    if (matches && seen.length < preface.length) return;
    socket.off('data', onData);
    socket.off('end', onEnd);
    clearTimeout(silent);
    socket.pause();
    socket.unshift(seen);
    if (matches) {
      // The HTTP/2 session takes over the socket and first replays what is buffered.
      onHttp2(socket);
    } else {
      onHttp1(socket);
      // The HTTP/1.1 parser reads the unshifted bytes only once the stream flows.
      socket.resume();
    }
  };
  socket.on('data', onData);
}
