// Per-second throughput for the Throughput view: totals and per tunnel.
import { describe, expect, it } from 'vitest';
import { ThroughputStats } from '../../src/main/service/throughput-stats.js';
import type { TrafficEvent } from '../../src/shared/traffic.js';

const start = (requestId: string, tunnel: string): TrafficEvent => ({
  kind: 'request-start',
  requestId,
  tunnel,
  protocol: 'http',
  method: 'GET',
  path: '/',
  headers: [],
  remoteAddress: '127.0.0.1',
  at: 0,
});
const body = (requestId: string, direction: 'to-service' | 'to-client', bytes: number): TrafficEvent => ({ kind: 'body', requestId, direction, data: Buffer.alloc(bytes), at: 0 });
const end = (requestId: string, durationMs = 1, status = 200): TrafficEvent => ({ kind: 'request-end', requestId, status, bytesIn: 0, bytesOut: 0, durationMs, at: 0 });

describe('ThroughputStats', () => {
  it('counts requests and bytes each way per second, in total and per tunnel, with the streams still open', () => {
    const stats = new ThroughputStats();
    for (const event of [start('a', 'web'), start('b', 'web'), start('c', 'api'), body('a', 'to-service', 10), body('a', 'to-client', 100), body('c', 'to-client', 7), end('a')]) {
      stats.record(event);
    }
    stats.record({ kind: 'ws-frame', requestId: 'b', direction: 'to-service', opcode: 1, fin: true, size: 5, data: Buffer.alloc(5), at: 0 });
    const first = stats.tick(1_000);
    expect(first).toMatchObject({ at: 1_000, requests: 3, bytesIn: 15, bytesOut: 107, openStreams: 2 });
    expect(first.perTunnel).toEqual({
      web: { at: 1_000, requests: 2, errors: 0, bytesIn: 15, bytesOut: 100, openStreams: 1, latencyMs: { p50: 1, p95: 1, p99: 1 } },
      api: { at: 1_000, requests: 1, errors: 0, bytesIn: 0, bytesOut: 7, openStreams: 1 },
    });
    // A quiet second: nothing new, the open streams still counted until they end.
    stats.record(end('c'));
    const second = stats.tick(2_000);
    expect(second).toMatchObject({ requests: 0, bytesIn: 0, bytesOut: 0, openStreams: 1 });
    expect(second.perTunnel).toEqual({
      web: { at: 2_000, requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, openStreams: 1 },
      api: { at: 2_000, requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, openStreams: 0, latencyMs: { p50: 1, p95: 1, p99: 1 } },
    });
    // Events of unknown requests count nothing.
    stats.record(body('ghost', 'to-client', 1_000));
    expect(stats.tick(3_000)).toMatchObject({ bytesOut: 0 });
    expect(stats.snapshot().total.map((p) => p.at)).toEqual([1_000, 2_000, 3_000]);
  });

  it('counts the requests that failed each second and the latency percentiles of those that ended, WebSockets aside', () => {
    const stats = new ThroughputStats();
    // 100 HTTP requests of 1..100 ms, the slowest a 503.
    for (let i = 1; i <= 100; i++) {
      stats.record(start(`h${i}`, 'web'));
      stats.record(end(`h${i}`, i, i === 100 ? 503 : 200));
    }
    // A gRPC call whose trailers say UNAVAILABLE, one the tunnel failed, one that went well.
    stats.record({ ...start('g1', 'rpc'), protocol: 'grpc' } as TrafficEvent);
    stats.record({ kind: 'trailers', requestId: 'g1', direction: 'to-client', headers: [['grpc-status', '14']], at: 0 });
    stats.record(end('g1', 5));
    stats.record({ ...start('g2', 'rpc'), protocol: 'grpc' } as TrafficEvent);
    stats.record({ kind: 'request-error', requestId: 'g2', code: 'BURROW_E_LOCAL_UNREACHABLE', message: 'refused', grpcStatus: 14, bytesIn: 0, bytesOut: 0, durationMs: 2, at: 0 });
    stats.record({ ...start('g3', 'rpc'), protocol: 'grpc' } as TrafficEvent);
    stats.record({ kind: 'response-head', requestId: 'g3', status: 200, headers: [], at: 0 });
    stats.record({ kind: 'trailers', requestId: 'g3', direction: 'to-client', headers: [['grpc-status', '0']], at: 0 });
    stats.record(end('g3', 3));
    // A WebSocket open for a minute: no latency.
    stats.record({ ...start('w', 'chat'), protocol: 'websocket' } as TrafficEvent);
    stats.record(end('w', 60_000, 101));
    const tick = stats.tick(1_000);
    expect(tick).toMatchObject({ requests: 104, errors: 3, latencyMs: { p50: 49, p95: 95, p99: 99 } });
    expect(tick.perTunnel.web).toMatchObject({ errors: 1, latencyMs: { p50: 50, p95: 95, p99: 99 } });
    expect(tick.perTunnel.rpc).toMatchObject({ errors: 2, latencyMs: { p50: 3, p95: 5, p99: 5 } });
    expect(tick.perTunnel.chat).toEqual({ at: 1_000, requests: 1, errors: 0, bytesIn: 0, bytesOut: 0, openStreams: 0 });
    expect(stats.tick(2_000)).not.toHaveProperty('latencyMs');
  });

  it('keeps five minutes of history', () => {
    const stats = new ThroughputStats();
    for (let second = 1; second <= 310; second++) {
      stats.record(start(`r${second}`, 'web'));
      stats.record(end(`r${second}`));
      stats.tick(second * 1_000);
    }
    const { total, perTunnel } = stats.snapshot();
    expect(total).toHaveLength(300);
    expect(total[0]!.at).toBe(11_000);
    expect(perTunnel.web).toHaveLength(300);
  });
});
