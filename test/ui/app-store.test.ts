// The renderer's store in plain Node: batches merge by request_id, live
// updates that arrive before the snapshot are not undone by it, malformed
// payloads are dropped and counted, and the list and the series stay bounded.
import { describe, expect, it, vi } from 'vitest';
import { AppService } from '../../src/main/service/app-service.js';
import { inProcessApi } from '../../src/main/service/command-dispatch.js';
import type { RequestSummary } from '../../src/shared/contract.js';
import { createAppStore, filteredRequests, noFilter } from '../../src/renderer/src/store/app-store.js';
import { connectStore } from '../../src/renderer/src/store/connect-store.js';

function summary(requestId: string, patch: Partial<RequestSummary> = {}): RequestSummary {
  return {
    requestId,
    tunnel: 'web',
    protocol: 'http',
    method: 'GET',
    path: `/${requestId}`,
    state: 'in-flight',
    startedAt: 1_000,
    bytesIn: 0,
    bytesOut: 0,
    messageCount: 0,
    ...patch,
  };
}

const idsOf = (store: ReturnType<typeof createAppStore>): readonly string[] => store.getState().requests.ids;

describe('app store', () => {
  it('keeps the latest state of each request and never moves a finished one back to in-flight', () => {
    const store = createAppStore();
    store.getState().applyTraffic({ updated: [summary('a'), summary('b', { startedAt: 1_001 })], cleared: false });
    store.getState().applyTraffic({ updated: [summary('a', { state: 'done', status: 200, bytesOut: 5, durationMs: 3 })], cleared: false });
    // The snapshot loaded on connect can be older than what the events said.
    store.getState().applyRequestSnapshot([summary('a'), summary('c', { startedAt: 999 })]);
    expect(idsOf(store)).toEqual(['c', 'a', 'b']);
    expect(store.getState().requests.byId.get('a')).toMatchObject({ state: 'done', status: 200 });
  });

  it('drops the requests a batch names as removed (a filtered clear), and the selection if it was one', () => {
    const store = createAppStore();
    store.getState().applyTraffic({ updated: [summary('a'), summary('b', { startedAt: 1_001 }), summary('c', { startedAt: 1_002 })], cleared: false });
    store.getState().select('b');
    store.getState().applyTraffic({ updated: [summary('d', { startedAt: 1_003 })], cleared: false, removed: ['b', 'c', 'unknown', 7] });
    expect(idsOf(store)).toEqual(['a', 'd']);
    expect(store.getState().selectedId).toBeUndefined();
    store.getState().select('a');
    store.getState().applyTraffic({ updated: [], cleared: false, removed: ['d'] });
    expect(idsOf(store)).toEqual(['a']);
    expect(store.getState().selectedId).toBe('a');
  });

  it('drops the requests the log evicted (they stayed in the list and would not open), keeping a detail open on one', () => {
    const store = createAppStore();
    store.getState().applyTraffic({ updated: [summary('a'), summary('b', { startedAt: 1_001 })], cleared: false });
    store.getState().select('a');
    store.getState().applyTraffic({ updated: [summary('c', { startedAt: 1_002 })], cleared: false, evicted: ['a', 'unknown', 7] });
    expect(idsOf(store)).toEqual(['b', 'c']);
    expect(store.getState().selectedId).toBe('a');
  });

  it('takes an in-flight update with more progress, ignores one with less', () => {
    const store = createAppStore();
    store.getState().applyTraffic({ updated: [summary('ws', { protocol: 'websocket', messageCount: 5 })], cleared: false });
    store.getState().applyRequestSnapshot([summary('ws', { protocol: 'websocket', messageCount: 2 })]);
    expect(store.getState().requests.byId.get('ws')?.messageCount).toBe(5);
    store.getState().applyTraffic({ updated: [summary('ws', { protocol: 'websocket', messageCount: 9 })], cleared: false });
    expect(store.getState().requests.byId.get('ws')?.messageCount).toBe(9);
  });

  it('drops malformed payloads and counts them, keeping the valid entries of a batch', () => {
    const store = createAppStore();
    store.getState().applyTraffic({ updated: [summary('ok'), { requestId: 'bad', state: 'sideways' }, null, summary('', {})], cleared: false });
    store.getState().applyTraffic('not a batch');
    store.getState().applyTraffic({ updated: [summary('neg', { bytesIn: -1 })] });
    store.getState().applyStatsTick({ at: 'soon' });
    expect(idsOf(store)).toEqual(['ok']);
    expect(store.getState().droppedPayloads).toBe(6);
  });

  it('bounds the list: the oldest requests go first', () => {
    const store = createAppStore({ maxRequests: 100, maxPoints: 10, maxConnectionEvents: 10 });
    for (let batch = 0; batch < 30; batch++) {
      const updated = Array.from({ length: 20 }, (_, i) => summary(`r${batch * 20 + i}`, { startedAt: batch * 20 + i }));
      store.getState().applyTraffic({ updated, cleared: false });
    }
    expect(idsOf(store)).toHaveLength(100);
    expect(store.getState().requests.byId.size).toBe(100);
    expect(idsOf(store)[0]).toBe('r500');
    expect(idsOf(store).at(-1)).toBe('r599');
  });

  it('bounds the throughput series and ignores a replayed tick', () => {
    const store = createAppStore({ maxRequests: 10, maxPoints: 5, maxConnectionEvents: 5 });
    const tick = (at: number) => ({ at, requests: at, bytesIn: 1, bytesOut: 2, openStreams: 0, perTunnel: { web: { at, requests: at, bytesIn: 1, bytesOut: 2, openStreams: 0 } } });
    for (let at = 1; at <= 8; at++) store.getState().applyStatsTick(tick(at));
    store.getState().applyStatsTick(tick(3));
    const { total, perTunnel } = store.getState().throughput;
    expect(total.map((p) => p.at)).toEqual([4, 5, 6, 7, 8]);
    expect(perTunnel.web?.map((p) => p.requests)).toEqual([4, 5, 6, 7, 8]);
  });

  it('a cleared batch empties the list and the selection', () => {
    const store = createAppStore();
    store.getState().applyTraffic({ updated: [summary('a')], cleared: false });
    store.getState().select('a');
    store.getState().applyTraffic({ updated: [summary('b')], cleared: true });
    expect(idsOf(store)).toEqual(['b']);
    expect(store.getState().selectedId).toBeUndefined();
  });

  it('filters by tunnel, protocol, status and text, newest first', () => {
    const store = createAppStore();
    store.getState().applyTraffic({
      updated: [
        summary('a', { startedAt: 1, state: 'done', status: 200 }),
        summary('b', { startedAt: 2, state: 'done', status: 404, tunnel: 'api' }),
        summary('c', { startedAt: 3, protocol: 'grpc', method: 'POST', path: '/burrow.demo.Echo/Say' }),
        summary('d', { startedAt: 4, state: 'error', error: { code: 'BURROW_E_LOCAL_UNREACHABLE', message: 'refused' } }),
      ],
      cleared: false,
    });
    const ids = (filter: Partial<typeof noFilter>) => filteredRequests(store.getState().requests, { ...noFilter, ...filter }).map((r) => r.requestId);
    expect(ids({})).toEqual(['d', 'c', 'b', 'a']);
    expect(ids({ tunnel: 'api' })).toEqual(['b']);
    expect(ids({ protocol: 'grpc' })).toEqual(['c']);
    expect(ids({ status: '4xx' })).toEqual(['b']);
    expect(ids({ status: 'in-flight' })).toEqual(['c']);
    expect(ids({ status: 'error' })).toEqual(['d']);
    expect(ids({ text: 'echo/say' })).toEqual(['c']);
  });

  it('fed by a real AppService: events before the snapshot, then the selected detail follows its request', async () => {
    const service = await AppService.open({ initial: { settings: { serverAddress: '127.0.0.1:1' } }, flushIntervalMs: 10 });
    try {
      const store = createAppStore();
      // Traffic recorded before the UI connects arrives by the snapshot; traffic after, by events.
      service.recordTraffic({ kind: 'request-start', requestId: 'early', tunnel: 'web', protocol: 'http', method: 'GET', path: '/early', headers: [], remoteAddress: '127.0.0.1', at: Date.now() });
      const disconnect = connectStore(inProcessApi(service), store);
      service.recordTraffic({ kind: 'request-start', requestId: 'late', tunnel: 'web', protocol: 'http', method: 'POST', path: '/late', headers: [['content-type', 'application/json']], remoteAddress: '127.0.0.1', at: Date.now() });
      await vi.waitFor(() => expect(idsOf(store)).toEqual(['early', 'late']));
      expect(store.getState().connection.state).toBe('open');
      store.getState().select('late');
      await vi.waitFor(() => expect(store.getState().detail).toMatchObject({ requestId: 'late', state: 'in-flight' }));
      service.recordTraffic({ kind: 'body', requestId: 'late', direction: 'to-service', data: Buffer.from('{"a":1}'), at: Date.now() });
      service.recordTraffic({ kind: 'response-head', requestId: 'late', status: 201, headers: [], at: Date.now() });
      service.recordTraffic({ kind: 'request-end', requestId: 'late', status: 201, bytesIn: 7, bytesOut: 0, durationMs: 4, at: Date.now() });
      await vi.waitFor(() => expect(store.getState().detail).toMatchObject({ state: 'done', status: 201, requestBody: { totalBytes: 7 } }));
      disconnect();
    } finally {
      await service.close();
    }
  });
});
