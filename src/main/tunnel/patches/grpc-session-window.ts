// Raises the HTTP/2 receive windows of the gRPC server's sessions. grpc-js
// has a client option for this ('grpc-node.flow_control_window') but none on
// the server, whose 64 KiB default caps what one agent can upload to the
// server (every response body) at a few hundred MB/s on loopback.
import type { ServerHttp2Session } from 'node:http2';
import type { Server } from '@grpc/grpc-js';
import { grpcHttp2Servers } from './grpc-http2-servers.js';
import { reportPatch } from './patch-report.js';

/**
 * Call after bindAsync. Reads grpc-js's private `http2Servers` map (pinned
 * version); if that ever changes shape this does nothing and says so once.
 */
export function raiseSessionWindows(server: Server, windowBytes: number): boolean {
  const servers = grpcHttp2Servers(server);
  if (!reportPatch('grpc-server-window', servers.length > 0, 'agents upload through a 64 KiB HTTP/2 window (bulk responses are slower)')) return false;
  for (const http2Server of servers) {
    http2Server.on('session', (session: ServerHttp2Session) => {
      // Large frames: a 1 MiB body chunk in a few frames rather than 64.
      session.settings({ initialWindowSize: windowBytes, maxFrameSize: 1024 * 1024 });
      session.setLocalWindowSize(windowBytes);
    });
  }
  return true;
}
