// HAR files into the inspector: an export of the log comes back the same
// (under new request ids), a browser's HAR without Burrow's fields too, and
// what is not a request is reported rather than guessed at.
import { har as validateHar } from 'har-validator';
import { describe, expect, it } from 'vitest';
import { harEntry, toHar } from '../../src/main/service/har.js';
import { harToEvents } from '../../src/main/service/har-import.js';
import { replayPlan } from '../../src/main/service/replay.js';
import { defaultTrafficLogLimits, TrafficLog } from '../../src/main/service/traffic-log.js';
import type { TrafficEvent } from '../../src/shared/traffic.js';

function logOf(events: TrafficEvent[], log = new TrafficLog()): TrafficLog {
  for (const event of events) log.apply(event);
  return log;
}

/** A WebSocket's frames: a text and a binary message, a ping and a close (not messages), and one message longer than the log keeps. */
const websocketEvents = (long: Buffer): TrafficEvent[] => [
  { kind: 'request-start', requestId: 'ws1', tunnel: 'chat', protocol: 'websocket', method: 'GET', path: '/live', headers: [['host', 'chat.localhost:8080'], ['upgrade', 'websocket']], remoteAddress: '', at: 2_000 },
  { kind: 'response-head', requestId: 'ws1', status: 101, headers: [['upgrade', 'websocket']], at: 2_002 },
  { kind: 'ws-frame', requestId: 'ws1', direction: 'to-service', opcode: 1, fin: true, size: 6, data: Buffer.from('héllo'), at: 2_010 },
  { kind: 'ws-frame', requestId: 'ws1', direction: 'to-client', opcode: 2, fin: true, size: 3, data: Buffer.from([0, 1, 255]), at: 2_011 },
  { kind: 'ws-frame', requestId: 'ws1', direction: 'to-client', opcode: 9, fin: true, size: 0, data: Buffer.alloc(0), at: 2_012 },
  { kind: 'ws-frame', requestId: 'ws1', direction: 'to-client', opcode: 1, fin: true, size: long.length, data: long, at: 2_013, injected: true },
  { kind: 'ws-frame', requestId: 'ws1', direction: 'to-service', opcode: 8, fin: true, size: 2, data: Buffer.from([3, 232]), closeCode: 1000, closeReason: '', at: 2_020 },
  { kind: 'request-end', requestId: 'ws1', status: 101, bytesIn: 8, bytesOut: 3 + long.length, durationMs: 20, at: 2_020 },
];

describe('harToEvents', () => {
  // Left by the HAR audit: a WebSocket was exported without its frames.
  it("writes a WebSocket's messages as Chrome's DevTools does, and brings them back", () => {
    const long = Buffer.from('é'.repeat(40));
    const original = logOf(websocketEvents(long), new TrafficLog({ ...defaultTrafficLogLimits, messagePreviewBytes: 16, messageKeepBytes: 33 }));
    const exported = toHar([harEntry(original.detail('ws1')!, 'http://chat.localhost:8080', original.keptMessages('ws1')!)]);
    const entry = exported.log.entries[0]! as unknown as Record<string, unknown>;
    expect(entry._resourceType).toBe('websocket');
    expect(entry._webSocketMessages).toEqual([
      { type: 'send', time: 2.01, opcode: 1, data: 'héllo' },
      { type: 'receive', time: 2.011, opcode: 2, data: Buffer.from([0, 1, 255]).toString('base64') },
      // Cut inside a character: what decodes of the 33 bytes kept.
      { type: 'receive', time: 2.013, opcode: 1, data: 'é'.repeat(16), _size: 80, _injected: true },
    ]);
    const { requests } = harToEvents(JSON.parse(JSON.stringify(exported)));
    const imported = logOf(requests.flat());
    const [summary] = imported.list();
    const detail = imported.detail(summary!.requestId)!;
    expect([detail.protocol, detail.status, detail.bytesIn, detail.bytesOut]).toEqual(['websocket', 101, 6, 83]);
    expect(imported.keptMessages(summary!.requestId)!.map(({ view, data }) => [view.direction, view.opcode, view.size, data.toString('latin1'), view.injected ?? false])).toEqual([
      ['to-service', 1, 6, Buffer.from('héllo').toString('latin1'), false],
      ['to-client', 2, 3, Buffer.from([0, 1, 255]).toString('latin1'), false],
      ['to-client', 1, 80, Buffer.from('é'.repeat(16)).toString('latin1'), true],
    ]);
  });

  it("reads a WebSocket's messages from a browser's HAR", () => {
    const { requests } = harToEvents({
      log: {
        entries: [
          {
            startedDateTime: '2026-11-30T12:00:00Z',
            time: 5,
            request: { method: 'GET', url: 'wss://chat.example.com/socket', headers: [] },
            response: { status: 101, headers: [], content: {} },
            _resourceType: 'websocket',
            _webSocketMessages: [
              { type: 'send', time: 1764504000.5, opcode: 1, data: '{"join":"room"}' },
              { type: 'receive', time: 1764504000.75, opcode: 2, data: 'AAEC' },
              { type: 'receive', time: 1764504001, opcode: 1 },
            ],
          },
        ],
      },
    });
    const log = logOf(requests.flat());
    const [summary] = log.list();
    expect(log.detail(summary!.requestId)).toMatchObject({ protocol: 'websocket', tunnel: 'chat', path: '/socket', status: 101 });
    expect(log.keptMessages(summary!.requestId)!.map(({ view, data }) => [view.direction, view.at, data.toString('base64')])).toEqual([
      ['to-service', 1764504000500, Buffer.from('{"join":"room"}').toString('base64')],
      ['to-client', 1764504000750, 'AAEC'],
    ]);
  });

  // As other tools write them (found in public HAR fixtures): no _resourceType, messages with no opcode or time.
  it('reads WebSocket messages with no opcode (text) or time (the entry start) from an entry that only has them', () => {
    const { requests } = harToEvents({
      log: {
        entries: [
          {
            startedDateTime: '2026-11-30T12:00:00Z',
            request: { method: 'GET', url: 'wss://games.example.com/socket', headers: [] },
            response: { status: 101, headers: [] },
            _webSocketMessages: [
              { type: 'send', data: 'hello' },
              { type: 'receive', time: 1764504001.5, data: 'world' },
            ],
          },
        ],
      },
    });
    const log = logOf(requests.flat());
    const [summary] = log.list();
    expect(summary!.protocol).toBe('websocket');
    expect(log.keptMessages(summary!.requestId)!.map(({ view, data }) => [view.direction, view.opcode, view.at, data.toString()])).toEqual([
      ['to-service', 1, Date.parse('2026-11-30T12:00:00Z'), 'hello'],
      ['to-client', 1, 1764504001500, 'world'],
    ]);
  });

  it('brings an export of the log back as the same requests, bodies and all, under new ids', () => {
    const original = logOf([
      { kind: 'request-start', requestId: 'r1', tunnel: 'shop', protocol: 'http', method: 'POST', path: '/cart?x=1', headers: [['host', 'shop.localhost:8080'], ['content-type', 'application/json']], remoteAddress: '', at: 1_000 },
      { kind: 'body', requestId: 'r1', direction: 'to-service', data: Buffer.from('{"add":1}'), at: 1_001 },
      { kind: 'response-head', requestId: 'r1', status: 201, headers: [['content-type', 'application/octet-stream']], at: 1_005 },
      { kind: 'body', requestId: 'r1', direction: 'to-client', data: Buffer.from([0, 1, 2, 255]), at: 1_006 },
      { kind: 'request-end', requestId: 'r1', status: 201, bytesIn: 9, bytesOut: 4, durationMs: 7, at: 1_007 },
    ]);
    const exported = toHar([harEntry(original.detail('r1')!, 'http://shop.localhost:8080')]);
    const { requests, skipped } = harToEvents(JSON.parse(JSON.stringify(exported)));
    expect(skipped).toEqual([]);
    const imported = logOf(requests.flat());
    const [summary] = imported.list();
    expect(summary!.requestId).not.toBe('r1');
    expect(imported.detail(summary!.requestId)).toMatchObject({
      tunnel: 'shop',
      method: 'POST',
      path: '/cart?x=1',
      status: 201,
      state: 'done',
      startedAt: 1_000,
      durationMs: 7,
      bytesIn: 9,
      bytesOut: 4,
      requestBody: { base64: Buffer.from('{"add":1}').toString('base64'), contentType: 'application/json' },
      responseBody: { base64: Buffer.from([0, 1, 2, 255]).toString('base64') },
    });
  });

  // Left by the HAR audit: the URL was written through a URL object, which resolves dot segments: another request came back.
  it('keeps the path as the client sent it, dot segments too, in the URL and back', async () => {
    const path = '/a/./b/../c/%2e%2e/d?x=/../y&q=%20';
    const original = logOf([
      { kind: 'request-start', requestId: 'dots', tunnel: 'shop', protocol: 'http', method: 'GET', path, headers: [['host', 'shop.localhost:8080']], remoteAddress: '', at: 1_000 },
      { kind: 'request-end', requestId: 'dots', status: 404, bytesIn: 0, bytesOut: 0, durationMs: 1, at: 1_001 },
    ]);
    const exported = toHar([harEntry(original.detail('dots')!, 'http://shop.localhost:8080')]);
    expect(exported.log.entries[0]!.request.url).toBe(`http://shop.localhost:8080${path}`);
    await expect(validateHar(exported)).resolves.toBeTruthy();
    const imported = logOf(harToEvents(JSON.parse(JSON.stringify(exported))).requests.flat());
    expect(imported.list()[0]!.path).toBe(path);
  });

  it("reads a browser's HAR (no Burrow fields): tunnel from the host, host header added; reports entries it cannot use", () => {
    const { requests, skipped } = harToEvents({
      log: {
        entries: [
          { startedDateTime: '2026-11-30T12:00:00Z', time: 3, request: { method: 'GET', url: 'https://api.example.com/v1/items', headers: [{ name: 'accept', value: '*/*' }] }, response: { status: 200, headers: [], content: { text: '[]' } } },
          { request: { method: 'GET', url: 'not a url' } },
          'nonsense',
        ],
      },
    });
    expect(skipped).toEqual(['entry 2: Invalid URL', 'entry 3: no request method and URL']);
    const log = logOf(requests.flat());
    const [summary] = log.list();
    expect(log.detail(summary!.requestId)).toMatchObject({ tunnel: 'api', path: '/v1/items', status: 200, requestHeaders: [['host', 'api.example.com'], ['accept', '*/*']] });
    expect(() => harToEvents({ entries: [] })).toThrow(/not a HAR file/);
  });

  // Found by an audit of the inspector's API: a message time of 1e300 s made every export of its messages fail (INTERNAL).
  it('takes a time no date can hold as the entry start', () => {
    const { requests } = harToEvents({
      log: { entries: [{ startedDateTime: '2026-12-04T12:00:00.000Z', time: 1e300, _resourceType: 'websocket', request: { method: 'GET', url: 'http://a.localhost/ws', headers: [] }, response: { status: 101, headers: [] }, _webSocketMessages: [{ type: 'send', time: 1e300, opcode: 1, data: 'hi' }] }] },
    });
    const start = Date.parse('2026-12-04T12:00:00.000Z');
    expect(requests[0]!.map((event) => event.at)).toEqual(requests[0]!.map(() => start));
  });

  // Found by an audit of the inspector's API: the log's budget counts bodies, and heads of tens of MB each, imported
  // again and again, ran the agent out of memory.
  it('leaves out an entry whose URL and headers are more than a tunnel carries, saying so', () => {
    const entry = (headerBytes: number, path = '/x') => ({ request: { method: 'GET', url: `http://a.localhost${path}`, headers: [{ name: 'x-big', value: 'v'.repeat(headerBytes) }] }, response: { status: 204, headers: [] } });
    const { requests, skipped } = harToEvents({ log: { entries: [entry(400 * 1024), entry(600 * 1024), entry(10, `/${'p'.repeat(600 * 1024)}`)] } });
    expect(requests).toHaveLength(1);
    expect(skipped).toEqual(['entry 2: its URL and headers are 601 KiB, more than a tunnel carries (512 KiB)', 'entry 3: its URL and headers are 601 KiB, more than a tunnel carries (512 KiB)']);
  });

  // Found by an audit of the inspector's API: a HAR of a million entries was converted whole (11 s of the agent's
  // event loop, its tunnels' sessions dropped) for a log that kept the newest thousand.
  it('converts only the newest entries a log keeps, and says the older ones were left out', () => {
    const entry = (i: number) => ({ request: { method: 'GET', url: `http://a.localhost/${i}` } });
    const { requests, skipped } = harToEvents({ log: { entries: Array.from({ length: 5 }, (_, i) => entry(i + 1)) } }, 3);
    expect(requests.map((events) => events[0]!.kind === 'request-start' && events[0]!.path)).toEqual(['/3', '/4', '/5']);
    expect(skipped).toEqual(['entries 1 to 2: left out, the traffic log keeps the newest 3 requests']);
  });

  it('lists at most 100 entries it left out, and counts the rest', () => {
    const entries = [...Array.from({ length: 250 }, () => 'nonsense'), { request: { method: 'GET', url: 'http://a.localhost/' } }];
    const { requests, skipped } = harToEvents({ log: { entries } });
    expect(requests).toHaveLength(1);
    expect(skipped).toHaveLength(101);
    expect(skipped[0]).toBe('150 more entries before entry 151: left out too, not listed one by one');
    expect([skipped[1], skipped[100]]).toEqual(['entry 151: no request method and URL', 'entry 250: no request method and URL']);
  });

  // Found by the HAR audit: an imported entry whose body the export kept only part of was whole to Replay, which sent the part.
  it('brings a body the export kept only part of back as cut, so that Replay refuses it as it refused the original', () => {
    const original = logOf([
      { kind: 'request-start', requestId: 'cut', tunnel: 'shop', protocol: 'http', method: 'POST', path: '/big', headers: [['host', 'shop.localhost:8080']], remoteAddress: '', at: 1_000 },
      { kind: 'body', requestId: 'cut', direction: 'to-service', data: Buffer.alloc(200_000, 'a'), at: 1_001 },
      { kind: 'request-end', requestId: 'cut', status: 200, bytesIn: 200_000, bytesOut: 0, durationMs: 2, at: 1_002 },
    ]);
    const refusal = /cannot replay as it was: only the first 65536 of 200000 body bytes were kept/;
    expect(() => replayPlan(original.detail('cut')!, 'http://shop.localhost:8080')).toThrow(refusal);
    const exported = toHar([harEntry(original.detail('cut')!, 'http://shop.localhost:8080')]);
    const imported = logOf(harToEvents(JSON.parse(JSON.stringify(exported))).requests.flat());
    const detail = imported.detail(imported.list()[0]!.requestId)!;
    expect({ ...detail.requestBody, base64: Buffer.from(detail.requestBody.base64, 'base64').length, bytesIn: detail.bytesIn }).toMatchObject({ totalBytes: 200_000, truncated: true, base64: 64 * 1024, bytesIn: 200_000 });
    expect(() => replayPlan(detail, 'http://shop.localhost:8080')).toThrow(refusal);
  });

  it('keeps the HTTP version as HAR writers spell it, and none it cannot read', () => {
    const entry = (httpVersion: unknown): unknown => ({ startedDateTime: '2026-11-30T12:00:00Z', request: { method: 'GET', url: 'http://app.localhost/', httpVersion }, response: { status: 204 } });
    const { requests } = harToEvents({ log: { entries: ['HTTP/2.0', 'h2', 'http/1.1', 'HTTP/2', 'HTTP/1.0', 'QUIC', 7].map(entry) } });
    const versions = requests.map((events) => (events[0]!.kind === 'request-start' ? events[0]!.httpVersion : 'none'));
    expect(versions).toEqual(['2.0', '2.0', '1.1', '2.0', '1.0', undefined, undefined]);
  });
});
