// What a replay sends: the original as it was, or edited; refused with a
// reason when it cannot be sent as it was.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { harRequest } from '../../src/main/service/har.js';
import { replayPlan, sendReplay } from '../../src/main/service/replay.js';
import type { BodyPreview, ReplayEdit, RequestDetail } from '../../src/shared/contract.js';

const body = (text: string, more: Partial<BodyPreview> = {}): BodyPreview => ({ base64: Buffer.from(text).toString('base64'), totalBytes: text.length, truncated: false, ...more });

const original: RequestDetail = {
  requestId: 'orig-1',
  tunnel: 'shop',
  protocol: 'http',
  method: 'POST',
  path: '/cart?x=1',
  status: 200,
  state: 'done',
  startedAt: 1,
  bytesIn: 9,
  bytesOut: 0,
  messageCount: 0,
  requestHeaders: [
    ['host', 'shop.localhost:8080'],
    ['content-type', 'application/json'],
    ['content-length', '9'],
    ['x-burrow-replay-of', 'older'],
  ],
  responseHeaders: [],
  trailers: [],
  requestTrailers: [],
  requestBody: body('{"add":1}'),
  responseBody: body(''),
  messages: [],
  messagesTruncated: false,
};

describe('replayPlan', () => {
  it('sends the original to the public URL, its lengths and Host made again, marked as a replay of it', () => {
    const plan = replayPlan(original, 'http://shop.localhost:8080');
    expect(plan.method).toBe('POST');
    expect(plan.url.href).toBe('http://shop.localhost:8080/cart?x=1');
    expect(plan.headers).toEqual([
      ['content-type', 'application/json'],
      ['x-burrow-replay-of', 'orig-1'],
    ]);
    expect(plan.body.toString()).toBe('{"add":1}');
  });

  it('applies edits: method, path, headers and a text body', () => {
    const plan = replayPlan(original, 'https://shop.example.com', { method: 'put', path: '/cart/2', headers: [['x-test', 'yes']], body: 'changed' });
    expect([plan.method, plan.url.href, plan.body.toString()]).toEqual(['PUT', 'https://shop.example.com/cart/2', 'changed']);
    expect(plan.headers).toEqual([
      ['x-test', 'yes'],
      ['x-burrow-replay-of', 'orig-1'],
    ]);
  });

  // A review: the form shows a body in the charset its Content-Type names, and an edit went as UTF-8 under it.
  it('writes an edited body in the charset its Content-Type names, and says when that charset cannot carry it', () => {
    const typed = (contentType: string, text: string): Buffer => replayPlan(original, 'http://a', { headers: [['Content-Type', contentType]], body: text }).body;
    // iso-8859-1 is windows-1252 to a browser's decoder, which showed the body: € is 0x80 there.
    expect(typed('text/plain; charset=iso-8859-1', 'café €')).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x80]));
    expect(typed('text/plain; charset="KOI8-R"', 'да')).toEqual(Buffer.from([0xc4, 0xc1]));
    expect(typed('application/json', '"é"')).toEqual(Buffer.from('"é"', 'utf8'));
    expect(typed('text/plain; charset=unknown-thing', 'é')).toEqual(Buffer.from('é', 'utf8'));
    expect(() => typed('text/plain; charset=iso-8859-1', '日本')).toThrow(/the body has "日", which iso-8859-1 cannot carry/);
    expect(() => typed('text/plain; charset=shift_jis', 'a')).toThrow(/UTF-8 or a charset of one byte per character, not shift_jis/);
    // A review: iso-2022-jp reads as one byte a character when no escape comes (日本 was refused as one it cannot carry),
    // and a byte a charset leaves undefined was written for U+FFFD.
    expect(() => typed('text/plain; charset=iso-2022-jp', '日本')).toThrow(/not iso-2022-jp/);
    expect(() => typed('text/plain; charset=iso-8859-3', '\ufffd')).toThrow(/cannot carry/);
    // The form's decoder took off the byte-order mark: without one, charset=utf-16 reads as big-endian.
    expect(typed('text/plain; charset=utf-16', 'hi')).toEqual(Buffer.from([0xff, 0xfe, 0x68, 0, 0x69, 0]));
    expect(typed('text/plain; charset=utf-16be', 'hi')).toEqual(Buffer.from([0, 0x68, 0, 0x69]));
  });

  // A review: an HTTP/2 client may send raw UTF-8 in its path, recorded byte by byte as Latin-1 characters; it was encoded twice.
  it("sends a recorded path's raw bytes percent-encoded as those bytes, and an edited path's text as UTF-8", () => {
    const recorded = { ...original, path: `/${Buffer.from('日本 é', 'utf8').toString('latin1')}` };
    expect(replayPlan(recorded, 'http://a').path).toBe('/%E6%97%A5%E6%9C%AC%20%C3%A9');
    expect(replayPlan(recorded, 'http://a', { path: '/日本 é' }).path).toBe('/%E6%97%A5%E6%9C%AC%20%C3%A9');
    expect(replayPlan({ ...original, path: '/caf\u00e9' }, 'http://a').path).toBe('/caf%E9');
  });

  it('refuses what it cannot send faithfully or at all, saying why', () => {
    expect(() => replayPlan({ ...original, requestBody: body('{"a', { truncated: true, totalBytes: 70_000 }) }, 'http://a')).toThrow(/cannot replay as it was: only the first 3 of 70000 body bytes were kept; edit the body/);
    expect(() => replayPlan({ ...original, protocol: 'websocket' }, 'http://a')).toThrow(/only HTTP requests can be replayed/);
    expect(() => replayPlan(original, 'http://a', { method: 'GE T' })).toThrow(/not an HTTP method/);
    expect(() => replayPlan(original, 'http://a', { path: 'cart' })).toThrow(/must start with "\/"/);
    expect(() => replayPlan(original, 'http://a', { headers: [['x-bad', 'a\r\nInjected: 1']] })).toThrow(/invalid header "x-bad"/);
    expect(() => replayPlan(original, 'http://a', { headers: [['bad name', 'v']] })).toThrow(/invalid header "bad name"/);
    // Found by an input audit: each came back as an internal error with JavaScript's words, or, for CONNECT, never.
    expect(() => replayPlan(original, 'http://a', { method: 'connect' })).toThrow(/CONNECT cannot be replayed/);
    expect(() => replayPlan(original, 'http://a', { headers: [['x-wide', '\u0100']] })).toThrow(/invalid header "x-wide"/);
    const untyped = (edit: unknown): ReplayEdit => edit as ReplayEdit;
    expect(() => replayPlan(original, 'http://a', untyped({ method: 5 }))).toThrow(/edit.method must be a string/);
    expect(() => replayPlan(original, 'http://a', untyped({ path: 5 }))).toThrow(/edit.path must be a string/);
    expect(() => replayPlan(original, 'http://a', untyped({ body: 5 }))).toThrow(/edit.body must be a string/);
    for (const headers of ['x', [5], [[5, 'a']], [['a']]]) {
      expect(() => replayPlan(original, 'http://a', untyped({ headers }))).toThrow(/edit.headers must be a list of \[name, value\] string pairs/);
    }
  });

  // Any public client may send such a path: a replay, a snippet or a HAR entry must not take it for another host.
  it.each(['//127.0.0.1:9/leak', '/\\127.0.0.1:9/leak', '//['])('keeps the tunnel as the host of a path like %j, in a replay and in HAR', (path) => {
    const detail = { ...original, path };
    expect(replayPlan(detail, 'http://shop.localhost:8080').url.host).toBe('shop.localhost:8080');
    expect(new URL(harRequest(detail, 'http://shop.localhost:8080').url).host).toBe('shop.localhost:8080');
  });

  // Found by the HAR audit: a request that had a Trailer field could not be replayed at all (Node refuses trailers on a body of known length), and a path's dot segments were resolved.
  it('sends the path as the client did and its trailers after a chunked body, as the service saw the original', async () => {
    const seen: { url: string; trailers: Record<string, string>; body: string; trailerField?: string }[] = [];
    const service = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({ url: req.url!, trailers: req.trailers as Record<string, string>, body: Buffer.concat(chunks).toString(), trailerField: req.headers.trailer });
        res.end();
      });
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
      const withTrailers = { ...original, path: '/a/./b/../c?x=/../y', requestHeaders: [...original.requestHeaders, ['Trailer', 'X-Sum'] as [string, string]], requestTrailers: [['X-Sum', '42']] as [string, string][] };
      expect(await sendReplay(replayPlan(withTrailers, origin))).toBe(200);
      expect(await sendReplay(replayPlan(original, origin, { path: '/edited path' }))).toBe(200);
      // A Latin-1 character went as one raw byte, which a parser refuses (400); the rest of the path stays as typed.
      expect(await sendReplay(replayPlan(original, origin, { path: '/café/./日本?q=é' }))).toBe(200);
      expect(seen).toEqual([
        { url: '/a/./b/../c?x=/../y', trailers: { 'x-sum': '42' }, body: '{"add":1}', trailerField: 'X-Sum' },
        { url: '/edited%20path', trailers: {}, body: '{"add":1}', trailerField: undefined },
        { url: '/caf%C3%A9/./%E6%97%A5%E6%9C%AC?q=%C3%A9', trailers: {}, body: '{"add":1}', trailerField: undefined },
      ]);
    } finally {
      await new Promise((resolve) => service.close(resolve));
    }
  });

  it('gives a HAR entry for a request whose Host names no origin, its tunnel offline (export failed for every request)', () => {
    const detail = { ...original, requestHeaders: [['host', 'shop.localhost:99999']] as [string, string][] };
    expect(harRequest(detail).url).toBe('http://localhost/cart?x=1');
  });
});
