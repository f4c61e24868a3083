// The node:http2 servers under a grpc-js Server, read from its private
// `http2Servers` map (grpc-js is pinned): what the patches that tune or watch
// the tunnel's connections hook into.
import type { Http2Server } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/** Call after bindAsync; empty when grpc-js's private shape has changed. */
export function grpcHttp2Servers(server: Server): Http2Server[] {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  const servers = http2Servers instanceof Map ? [...(http2Servers.keys() as IterableIterator<unknown>)] : [];
  return servers.every((s) => typeof (s as Http2Server)?.on === 'function') ? (servers as Http2Server[]) : [];
}
