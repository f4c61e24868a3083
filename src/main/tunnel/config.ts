// Defaults the server imposes on agents (sent in Welcome as ConfigSync) and
// the server's own limits.
import type { ConfigSync } from '../gen/burrow/v1/tunnel.js';

export const defaultConfigSync: ConfigSync = {
  heartbeatIntervalMs: 5_000,
  heartbeatTimeoutMs: 15_000,
  // Bulk throughput grows with the window (measured: 256 KiB ~150 MB/s,
  // 1 MiB ~190 MB/s on loopback); it is also what one slow reader may pin.
  initialWindowBytes: 1024 * 1024,
  maxConcurrentRequests: 5_000,
  requestTimeoutMs: 30_000,
  maxWebsocketMessageBytes: 64 * 1024 * 1024,
  takesInterimResponses: true,
  takesContinue: true,
  vouchesForwardedFields: true,
  takesUplink: true,
};

export interface ServerLimits {
  /** In-flight public requests over all agents before 503. */
  maxInflight: number;
  /** In-flight public requests for one agent before 503. */
  maxInflightPerAgent: number;
  /** Request line plus headers, per request, before 431. */
  maxHeaderBytes: number;
  /** Request body bytes per request on each tunnel before 413; 0 for no limit. */
  maxBodyBytes: number;
  /** A public client must finish sending a request head within this (slowloris). */
  headerTimeoutMs: number;
  /** A public connection idle between requests is closed after this, and an HTTP response body silent this long is cut (as a proxy read timeout). */
  idleTimeoutMs: number;
  /** Requests per second per tunnel (bursts of as many); 0 for no limit. */
  ratePerTunnel: number;
  /** Concurrent streams one public HTTP/2 connection may open (SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxStreamsPerConnection: number;
  /** Largest WebSocket message either hop accepts; larger ones close the socket with 1009. */
  maxWebSocketMessageBytes: number;
}

export const defaultServerLimits: ServerLimits = {
  maxInflight: 20_000,
  maxInflightPerAgent: defaultConfigSync.maxConcurrentRequests,
  maxHeaderBytes: 32 * 1024,
  maxBodyBytes: 0,
  headerTimeoutMs: 15_000,
  idleTimeoutMs: 60_000,
  ratePerTunnel: 0,
  maxStreamsPerConnection: 128,
  maxWebSocketMessageBytes: defaultConfigSync.maxWebsocketMessageBytes,
};

/**
 * The largest response head taken from a local service, and sent to a
 * public client. Node's clients stop at 16 KiB by default, and its HTTP/2
 * server sends at most 64 KiB of header block, where browsers and curl take
 * 100 KiB and more: a page setting many cookies reached its user directly
 * and failed through the tunnel (502, or a reset HTTP/2 stream).
 */
export const maxResponseHeadBytes = 256 * 1024;

/**
 * Header fields an HTTP/2 head of `bytes` may hold: HPACK counts 32 bytes for
 * each beside its name and value (RFC 7541 section 4.1), so the byte limit is
 * the one that decides. Node's own default is 128, whatever their size.
 */
export function headerPairsWithin(bytes: number): number {
  return Math.ceil(bytes / 32);
}

/** HTTP/2 receive window of the tunnel connection, both ends (default 64 KiB is far too small). */
export const http2WindowBytes = 16 * 1024 * 1024;

/** The grpc-js channel options both ends use for the tunnel connection. */
export const grpcChannelOptions = {
  'grpc-node.flow_control_window': http2WindowBytes,
  // Body chunks and WebSocket fragments are at most 1 MiB; heads are bounded
  // by the header limits. This only backstops a broken peer.
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
} as const;

/**
 * HTTP/2 pings on the tunnel connections, as often as heartbeats: grpc-js
 * destroys a connection whose peer answers none within the heartbeat
 * timeout. Heartbeats end the session, but its connections stayed: one
 * whose peer vanished (a network gone) was held for good by the edge. (One
 * with a write to it in progress outlives even that destroy: both ends cut
 * those themselves, see grpc-server-sockets.ts and grpc-client-sockets.ts.)
 */
export function keepaliveOptions(config: Pick<ConfigSync, 'heartbeatIntervalMs' | 'heartbeatTimeoutMs'>) {
  return {
    'grpc.keepalive_time_ms': config.heartbeatIntervalMs,
    'grpc.keepalive_timeout_ms': config.heartbeatTimeoutMs,
    // The agent's connection outlives its calls once they are cancelled: that is when it must go.
    'grpc.keepalive_permit_without_calls': 1,
  } as const;
}

/**
 * Node's HTTP/2 refuses new streams (ENHANCE_YOUR_CALM, then GOAWAY) once a
 * session's accounted memory passes maxSessionMemory (10 MB by default), and
 * it counts response bytes queued for a slow reader. Each stream may queue
 * up to one credit window, so allow that for every stream the session may
 * open, plus room for headers and frames.
 */
export function http2SessionMemoryMegabytes(streams: number, windowBytes: number): number {
  return Math.ceil((streams * windowBytes) / (1024 * 1024)) + 32;
}

/**
 * Connections the agent keeps open to one local service at most; requests
 * past them wait their turn. Without a bound, a public client opening and
 * cancelling streams (rapid reset) had the agent open a connection for each
 * before its cancel came: 16,000 at once, until the agent ran out of file
 * descriptors. Far above what a browser (6) or a load test of one service
 * holds open; long polls past it would wait.
 */
export const maxLocalConnections = 512;

/**
 * Bodies up to this size whose length is known up front travel inside the
 * head message: one tunnel message per direction for a typical API call.
 */
export const inlineBodyMaxBytes = 64 * 1024;

/** Node's longest timer, in ms (24.8 days): longer ones fire after 1 ms. */
export const longestTimerMs = 2 ** 31 - 1;

/** How long a stop (a signal to the command, quitting the app) waits for requests under way, unless told otherwise. */
export const defaultDrainTimeoutMs = 10_000;
