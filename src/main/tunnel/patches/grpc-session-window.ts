// Raises the HTTP/2 receive windows of the gRPC server's sessions. grpc-js
// has a client option for this ('grpc-node.flow_control_window') but none on
// the server, whose 64 KiB default caps what one agent can upload to the
// server (every response body) at a few hundred MB/s on loopback.
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import type { Server } from '@grpc/grpc-js';
import { reportPatch } from './patch-report.js';

/**
 * Call after bindAsync. Reads grpc-js's private `http2Servers` map (pinned
 * version); if that ever changes shape this does nothing and says so once.
 */
export function raiseSessionWindows(server: Server, windowBytes: number): boolean {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  const servers = http2Servers instanceof Map ? [...(http2Servers.keys() as IterableIterator<unknown>)] : [];
  const found = servers.length > 0 && servers.every((s) => typeof (s as Http2Server)?.on === 'function');
  if (!reportPatch('grpc-server-window', found, 'agents upload through a 64 KiB HTTP/2 window (bulk responses are slower)')) return false;
  for (const http2Server of servers as Http2Server[]) {
    http2Server.on('session', (session: ServerHttp2Session) => {
      // Large frames: a 1 MiB body chunk in a few frames rather than 64.
      session.settings({ initialWindowSize: windowBytes, maxFrameSize: 1024 * 1024 });
      session.setLocalWindowSize(windowBytes);
    });
  }
  return true;
}
