// The sockets of the gRPC server's connections, by the peer address that
// grpc-js gives for their calls (call.getPeer()), so that the connection of
// an agent gone silent can be cut. Ending its calls, or destroying its
// HTTP/2 session (grpc-js's keepalive does), leaves the socket open for as
// long as a write to it is in progress, and a peer that reads nothing (a
// stopped process) never lets that write finish: the connection, and every
// message queued on it, was held for good.
import type { Socket } from 'node:net';
import type { Server } from '@grpc/grpc-js';
import { grpcHttp2Servers } from './grpc-http2-servers.js';
import { reportPatch } from './patch-report.js';

export class ServerSockets {
  private readonly byPeer = new Map<string, Socket>();

  /** Call after bindAsync; whether it could watch (see grpc-http2-servers.ts). */
  watch(server: Server): boolean {
    const servers = grpcHttp2Servers(server);
    if (!reportPatch('grpc-server-sockets', servers.length > 0, 'the connection of an agent that stops reading is held, with what is queued on it, until it reads again')) return false;
    for (const http2Server of servers) {
      // The TCP socket, also under TLS: cutting it ends both.
      http2Server.on('connection', (socket: Socket) => {
        const peer = peerOf(socket);
        this.byPeer.set(peer, socket);
        socket.once('close', () => this.byPeer.get(peer) === socket && this.byPeer.delete(peer));
      });
    }
    return true;
  }

  /** Cuts the connections these calls' peers (call.getPeer()) hold, at once, with whatever waits to be written. */
  cut(peers: Iterable<string>): void {
    for (const peer of peers) this.byPeer.get(peer)?.destroy();
  }
}

/** As grpc-js words a call's peer. */
function peerOf(socket: Socket): string {
  return socket.remotePort ? `${socket.remoteAddress}:${socket.remotePort}` : String(socket.remoteAddress);
}
