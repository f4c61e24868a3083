// The inspector's traffic log: latest state per request_id, bounded memory.
import { describe, expect, it } from 'vitest';
import { TrafficLog, unwatchedTrafficLogLimits } from '../../src/main/service/traffic-log.js';
import type { TrafficEvent } from '../../src/shared/traffic.js';

const start = (requestId: string, at = 1): TrafficEvent => ({
  kind: 'request-start',
  requestId,
  tunnel: 'app',
  protocol: 'http',
  method: 'POST',
  path: `/${requestId}`,
  headers: [['content-type', 'application/json']],
  remoteAddress: '127.0.0.1',
  at,
});

describe('TrafficLog', () => {
  it('tracks a request from in flight to done, with batches of what changed', () => {
    const log = new TrafficLog();
    log.apply(start('a'));
    expect(log.takeBatch()?.updated.map((r) => [r.requestId, r.state])).toEqual([['a', 'in-flight']]);
    // Nothing received yet: empty bodies (the content type already known), no messages, no trailers.
    expect(log.detail('a')).toMatchObject({
      requestBody: { base64: '', totalBytes: 0, truncated: false, contentType: 'application/json' },
      responseBody: { base64: '', totalBytes: 0, truncated: false },
      messages: [],
      trailers: [],
      responseHeaders: [],
    });
    expect(log.takeBatch()).toBeUndefined();
    log.apply({ kind: 'body', requestId: 'a', direction: 'to-service', data: Buffer.from('{"x":1}'), at: 2 });
    log.apply({ kind: 'response-head', requestId: 'a', status: 201, headers: [['content-type', 'text/plain']], at: 3 });
    log.apply({ kind: 'request-end', requestId: 'a', status: 201, bytesIn: 7, bytesOut: 0, durationMs: 5, at: 6 });
    const batch = log.takeBatch();
    expect(batch?.updated).toHaveLength(1);
    expect(batch?.updated[0]).toMatchObject({ state: 'done', status: 201, durationMs: 5, bytesIn: 7 });
    const detail = log.detail('a')!;
    expect(Buffer.from(detail.requestBody.base64, 'base64').toString()).toBe('{"x":1}');
    expect(detail.requestBody.contentType).toBe('application/json');
    expect(detail.responseHeaders).toEqual([['content-type', 'text/plain']]);
  });

  it('caps bodies and copies them (the engine may reuse its buffers)', () => {
    const log = new TrafficLog({ maxRequests: 10, bodyCapBytes: 4, maxMessagesPerRequest: 10, messagePreviewBytes: 4, messageKeepBytes: 4, maxRetainedBytes: 1_000 });
    log.apply(start('a'));
    const chunk = Buffer.from('abcdef');
    log.apply({ kind: 'body', requestId: 'a', direction: 'to-client', data: chunk, at: 2 });
    chunk.fill(0);
    const body = log.detail('a')!.responseBody;
    expect(Buffer.from(body.base64, 'base64').toString()).toBe('abcd');
    expect(body).toMatchObject({ totalBytes: 6, truncated: true });
  });

  it('keeps at most maxRequests, dropping the oldest, and at most maxMessagesPerRequest', () => {
    const log = new TrafficLog({ maxRequests: 3, bodyCapBytes: 4, maxMessagesPerRequest: 2, messagePreviewBytes: 4, messageKeepBytes: 4, maxRetainedBytes: 1_000 });
    for (const id of ['a', 'b', 'c', 'd']) log.apply(start(id));
    expect(log.list().map((r) => r.requestId)).toEqual(['b', 'c', 'd']);
    expect(log.detail('a')).toBeNull();
    for (let i = 0; i < 5; i++) {
      log.apply({ kind: 'ws-frame', requestId: 'd', direction: 'to-client', opcode: 1, fin: true, size: 3, data: Buffer.from(`m${i}`), at: i });
    }
    const detail = log.detail('d')!;
    expect(detail.messageCount).toBe(5);
    expect(detail.messages.map((m) => m.index)).toEqual([3, 4]);
    expect(detail.messagesTruncated).toBe(true);
  });

  it('keeps messageKeepBytes of each message for decoding, shows messagePreviewBytes in the detail', () => {
    const log = new TrafficLog({ maxRequests: 10, bodyCapBytes: 4, maxMessagesPerRequest: 10, messagePreviewBytes: 2, messageKeepBytes: 6, maxRetainedBytes: 1_000 });
    log.apply(start('g'));
    log.apply({ kind: 'grpc-message', requestId: 'g', direction: 'to-service', index: 0, size: 8, compressed: false, data: Buffer.from('abcdefgh'), at: 2 });
    expect(log.keptMessages('g')!.map((m) => m.data.toString())).toEqual(['abcdef']);
    expect(log.detail('g')!.messages.map((m) => Buffer.from(m.previewBase64, 'base64').toString())).toEqual(['ab']);
    expect(log.keptMessages('nope')).toBeNull();
  });

  it('past maxRetainedBytes, the oldest requests keep their metadata but lose their bytes; never the latest', () => {
    const log = new TrafficLog({ maxRequests: 100, bodyCapBytes: 4, maxMessagesPerRequest: 3, messagePreviewBytes: 4, messageKeepBytes: 4, maxRetainedBytes: 10 });
    const body = (requestId: string): TrafficEvent => ({ kind: 'body', requestId, direction: 'to-service', data: Buffer.from('abcdef'), at: 2 });
    const kept = (requestId: string): string => Buffer.from(log.detail(requestId)!.requestBody.base64, 'base64').toString();
    for (const id of ['a', 'b']) log.apply(start(id)), log.apply(body(id));
    expect([kept('a'), kept('b')]).toEqual(['abcd', 'abcd']);
    log.apply(start('c'));
    log.apply(body('c'));
    expect(log.list().map((r) => r.requestId)).toEqual(['a', 'b', 'c']);
    expect([kept('a'), kept('b'), kept('c')]).toEqual(['', 'abcd', 'abcd']);
    expect(log.detail('a')!.requestBody).toMatchObject({ totalBytes: 6, truncated: true, released: true });
    expect(log.detail('b')!.requestBody.released).toBeUndefined();
    expect(log.detail('a')).toMatchObject({ bytesIn: 6, path: '/a' });
    // A released body stays released; the bytes go on being counted.
    log.apply(body('a'));
    expect(kept('a')).toBe('');
    expect(log.detail('a')!.requestBody.totalBytes).toBe(12);
    // A 4-byte message with b's and c's bodies passes 10, so b lets go; c keeps all.
    log.apply({ kind: 'grpc-message', requestId: 'c', direction: 'to-client', index: 0, size: 4, compressed: false, data: Buffer.from('wxyz'), at: 3 });
    expect([kept('b'), kept('c')]).toEqual(['', 'abcd']);
    expect(log.detail('c')!.messages.map((m) => m.previewBase64)).toEqual([Buffer.from('wxyz').toString('base64')]);
    // Released messages keep their place and size, not their preview.
    log.apply({ kind: 'ws-frame', requestId: 'c', direction: 'to-service', opcode: 2, fin: true, size: 4, data: Buffer.from('1234'), at: 4 });
    log.apply(start('f'));
    log.apply(body('f'));
    expect(log.detail('c')!.messages.map((m) => [m.size, m.previewBase64])).toEqual([
      [4, ''],
      [4, ''],
    ]);
    // After a clear the budget is whole again.
    log.clear();
    for (const id of ['d', 'e']) log.apply(start(id)), log.apply(body(id));
    expect([kept('d'), kept('e')]).toEqual(['abcd', 'abcd']);
  });

  it('with no inspector to show them (burrow --no-inspect) keeps the metadata of the latest 100 requests, and no bytes', () => {
    const log = new TrafficLog(unwatchedTrafficLogLimits);
    for (let i = 0; i < 150; i++) {
      const id = `r${i}`;
      log.apply(start(id));
      log.apply({ kind: 'body', requestId: id, direction: 'to-service', data: Buffer.alloc(4096, 1), at: 2 });
      log.apply({ kind: 'ws-frame', requestId: id, direction: 'to-client', opcode: 2, fin: true, size: 3, data: Buffer.from('abc'), at: 3 });
      log.apply({ kind: 'request-end', requestId: id, status: 200, bytesIn: 4096, bytesOut: 0, durationMs: 1, at: 4 });
    }
    expect(log.size).toBe(100);
    const detail = log.detail('r149')!;
    expect(detail).toMatchObject({ state: 'done', status: 200, bytesIn: 4096, messageCount: 1, requestBody: { base64: '', totalBytes: 4096, truncated: true } });
    expect(detail.messages).toEqual([]);
  });

  it('takes no first byte from an answer the tunnel made up for a service that gave none (a gRPC status from a reset)', () => {
    const log = new TrafficLog();
    log.apply({ ...(start('g') as Extract<TrafficEvent, { kind: 'request-start' }>), protocol: 'grpc' });
    log.apply({ kind: 'response-head', requestId: 'g', status: 200, headers: [['grpc-status', '13']], at: 5, byTunnel: true });
    log.apply(start('h'));
    log.apply({ kind: 'response-head', requestId: 'h', status: 200, headers: [], at: 5 });
    expect(log.list().map((r) => [r.requestId, r.firstByteMs !== undefined, r.grpcStatus])).toEqual([
      ['g', false, 13],
      ['h', true, undefined],
    ]);
  });

  it("counts an open gRPC stream's bytes as its messages pass (each with its 5-byte prefix), where they showed 0 B until it ended", () => {
    const log = new TrafficLog();
    log.apply({ ...(start('g') as Extract<TrafficEvent, { kind: 'request-start' }>), protocol: 'grpc' });
    for (const [direction, size] of [['to-service', 10], ['to-client', 100], ['to-client', 0]] as const) {
      log.apply({ kind: 'grpc-message', requestId: 'g', direction, index: 0, size, compressed: false, data: new Uint8Array(size), at: 2 });
    }
    expect(log.list().map((r) => [r.state, r.bytesIn, r.bytesOut])).toEqual([['in-flight', 15, 110]]);
  });

  it("keeps a gRPC call's grpc-status (trailers or a trailers-only answer) and the status the tunnel answered a failure with", () => {
    const log = new TrafficLog();
    const grpcStart = (id: string): TrafficEvent => ({ ...(start(id) as Extract<TrafficEvent, { kind: 'request-start' }>), protocol: 'grpc' });
    log.apply(grpcStart('g1'));
    log.apply({ kind: 'response-head', requestId: 'g1', status: 200, headers: [['content-type', 'application/grpc']], at: 2 });
    log.apply({ kind: 'trailers', requestId: 'g1', direction: 'to-client', headers: [['grpc-status', '5'], ['grpc-message', 'no such thing']], at: 3 });
    log.apply({ kind: 'request-end', requestId: 'g1', status: 200, bytesIn: 1, bytesOut: 0, durationMs: 2, at: 3 });
    log.apply(grpcStart('g2'));
    log.apply({ kind: 'response-head', requestId: 'g2', status: 200, headers: [['grpc-status', '12']], at: 2 });
    log.apply(grpcStart('g3'));
    log.apply({ kind: 'request-error', requestId: 'g3', code: 'BURROW_E_LOCAL_UNREACHABLE', message: 'refused', grpcStatus: 14, bytesIn: 5, bytesOut: 0, durationMs: 1, at: 2 });
    log.apply(start('h1'));
    log.apply({ kind: 'request-error', requestId: 'h1', code: 'BURROW_E_LOCAL_UNREACHABLE', message: 'refused', status: 502, bytesIn: 7, bytesOut: 0, durationMs: 1, at: 2 });
    // An HTTP response that happens to carry the header is not a gRPC call.
    log.apply(start('h2'));
    log.apply({ kind: 'response-head', requestId: 'h2', status: 200, headers: [['grpc-status', '3']], at: 2 });
    expect(log.list().map((r) => [r.requestId, r.status, r.grpcStatus, r.state])).toEqual([
      ['g1', 200, 5, 'done'],
      ['g2', 200, 12, 'in-flight'],
      ['g3', undefined, 14, 'error'],
      ['h1', 502, undefined, 'error'],
      ['h2', 200, undefined, 'in-flight'],
    ]);
    expect(log.detail('h1')).toMatchObject({ bytesIn: 7, error: { code: 'BURROW_E_LOCAL_UNREACHABLE' } });
  });

  it('names the requests it evicts, the oldest past its limit, in the next batch', () => {
    const log = new TrafficLog({ maxRequests: 2, bodyCapBytes: 4, maxMessagesPerRequest: 2, messagePreviewBytes: 4, messageKeepBytes: 4, maxRetainedBytes: 1_000 });
    for (const id of ['a', 'b']) log.apply(start(id));
    log.takeBatch();
    for (const id of ['c', 'd', 'e']) log.apply(start(id));
    expect(log.takeBatch()).toMatchObject({ cleared: false, evicted: ['a', 'b', 'c'] });
    expect(log.takeBatch()).toBeUndefined();
    expect(log.list().map((r) => r.requestId)).toEqual(['d', 'e']);
  });

  it('removes requests one by one (a filtered clear), names them in the next batch, and keeps no trace of them', () => {
    const log = new TrafficLog({ maxRequests: 3, bodyCapBytes: 4, maxMessagesPerRequest: 2, messagePreviewBytes: 4, messageKeepBytes: 4, maxRetainedBytes: 1_000 });
    for (const id of ['a', 'b', 'c']) log.apply(start(id));
    log.takeBatch();
    expect(log.remove(['b', 'nope'])).toBe(1);
    expect(log.takeBatch()).toEqual({ updated: [], cleared: false, removed: ['b'] });
    expect(log.list().map((r) => r.requestId)).toEqual(['a', 'c']);
    // Thousands started and removed while the log is not full: their ids do not pile up in its queues.
    for (let i = 0; i < 5_000; i++) {
      log.apply(start(`x${i}`));
      log.apply({ kind: 'body', requestId: `x${i}`, direction: 'to-service', data: Buffer.from('abcd'), at: 2 });
      log.remove([`x${i}`]);
    }
    const queues = log as unknown as { order: { length: number }; holdingOrder: { length: number } };
    expect(queues.order.length).toBeLessThan(1_100);
    expect(queues.holdingOrder.length).toBeLessThan(1_100);
    // Eviction by count still takes the oldest that remain.
    for (const id of ['d', 'e']) log.apply(start(id));
    expect(log.list().map((r) => r.requestId)).toEqual(['c', 'd', 'e']);
  });

  it('searches headers, trailers and kept bodies, ignoring case, newest last within a limit', () => {
    const log = new TrafficLog({ maxRequests: 10, bodyCapBytes: 64, maxMessagesPerRequest: 2, messagePreviewBytes: 4, messageKeepBytes: 4, maxRetainedBytes: 1_000 });
    log.apply(start('h'));
    log.apply({ kind: 'response-head', requestId: 'h', status: 200, headers: [['x-trace', 'Needle-Header']], at: 2 });
    log.apply(start('b'));
    log.apply({ kind: 'body', requestId: 'b', direction: 'to-service', data: Buffer.from('{"find":"NEEDLE-body"}'), at: 2 });
    log.apply(start('t'));
    log.apply({ kind: 'trailers', requestId: 't', direction: 'to-client', headers: [['grpc-message', 'needle-trailer']], at: 3 });
    log.apply(start('none'));
    expect(log.search('needle')).toEqual(['h', 'b', 't']);
    expect(log.search('  NEEDLE-BODY ')).toEqual(['b']);
    expect(log.search('x-trace: needle')).toEqual(['h']);
    expect(log.search('')).toEqual([]);
    expect(log.search('needle', 1)).toEqual(['t']);
  });

  it('gives back the bytes of requests dropped by count', () => {
    const log = new TrafficLog({ maxRequests: 2, bodyCapBytes: 4, maxMessagesPerRequest: 3, messagePreviewBytes: 4, messageKeepBytes: 4, maxRetainedBytes: 10 });
    for (const id of ['a', 'b', 'c']) {
      log.apply(start(id));
      log.apply({ kind: 'body', requestId: id, direction: 'to-client', data: Buffer.from('abcd'), at: 2 });
    }
    // a went by count, so b and c (8 bytes) fit the budget and both keep their bodies.
    expect(log.list().map((r) => r.requestId)).toEqual(['b', 'c']);
    expect(['b', 'c'].map((id) => Buffer.from(log.detail(id)!.responseBody.base64, 'base64').toString())).toEqual(['abcd', 'abcd']);
  });

  it('over many requests keeps the latest by count and the newest bodies within the budget', () => {
    const log = new TrafficLog({ maxRequests: 100, bodyCapBytes: 8, maxMessagesPerRequest: 3, messagePreviewBytes: 4, messageKeepBytes: 4, maxRetainedBytes: 200 });
    const ids = Array.from({ length: 5_000 }, (_, i) => `r${i}`);
    for (const id of ids) {
      log.apply(start(id));
      log.apply({ kind: 'body', requestId: id, direction: 'to-client', data: Buffer.from('12345678'), at: 2 });
    }
    expect(log.list().map((r) => r.requestId)).toEqual(ids.slice(-100));
    const kept = log.list().map((r) => Buffer.from(log.detail(r.requestId)!.responseBody.base64, 'base64').length);
    // 200 bytes hold the 25 newest 8-byte bodies; everything older let go.
    expect(kept).toEqual([...Array(75).fill(0), ...Array(25).fill(8)]);
  });

    it('ignores events for unknown requests and reports a clear', () => {
    const log = new TrafficLog();
    log.apply({ kind: 'request-end', requestId: 'ghost', status: 200, bytesIn: 0, bytesOut: 0, durationMs: 1, at: 1 });
    expect(log.takeBatch()).toBeUndefined();
    log.apply(start('a'));
    expect(log.clear()).toBe(1);
    expect(log.takeBatch()).toEqual({ updated: [], cleared: true });
  });
});
