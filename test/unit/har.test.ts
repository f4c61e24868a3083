// Requests as HAR 1.2, checked against the HAR schema (har-validator), and as
// curl/fetch/HTTPie snippets made by httpsnippet from that HAR.
import { gzipSync } from 'node:zlib';
import { har as validateHar } from 'har-validator';
import { describe, expect, it } from 'vitest';
import { harToEvents } from '../../src/main/service/har-import.js';
import { harEntry, toHar } from '../../src/main/service/har.js';
import { requestSnippet } from '../../src/main/service/request-snippet.js';
import type { BodyPreview, RequestDetail } from '../../src/shared/contract.js';

const body = (bytes: Buffer | string, more: Partial<BodyPreview> = {}): BodyPreview => {
  const buffer = Buffer.from(bytes);
  return { base64: buffer.toString('base64'), totalBytes: buffer.length, truncated: false, ...more };
};

const detail = (more: Partial<RequestDetail> = {}): RequestDetail => ({
  requestId: 'r-1',
  tunnel: 'demo',
  protocol: 'http',
  method: 'POST',
  path: '/orders?id=7&q=a%20b',
  status: 201,
  state: 'done',
  startedAt: Date.UTC(2026, 10, 30, 12),
  durationMs: 12,
  bytesIn: 13,
  bytesOut: 4,
  messageCount: 0,
  requestHeaders: [
    ['host', 'demo.localhost:8080'],
    ['content-type', 'application/json'],
    ['content-length', '13'],
  ],
  responseHeaders: [['content-type', 'application/octet-stream']],
  trailers: [],
  requestTrailers: [],
  requestBody: body('{"item":"x"}\n', { contentType: 'application/json' }),
  responseBody: body(Buffer.from([0, 255, 1, 254]), { contentType: 'application/octet-stream' }),
  messages: [],
  messagesTruncated: false,
  ...more,
});

describe('HAR export', () => {
  // Left by the HAR audit: a form's fields were only in its text.
  it("gives a URL-encoded form's fields as params beside its text, as browsers do, when they make that text again", async () => {
    const form = 'a=1&b=x+y&c=%C3%A9&a=2';
    const asForm = (text: string): BodyPreview => ({ ...body(text), contentType: 'application/x-www-form-urlencoded; charset=UTF-8' });
    expect(harEntry(detail({ requestBody: asForm(form) })).request.postData).toEqual({
      mimeType: 'application/x-www-form-urlencoded; charset=UTF-8',
      text: form,
      params: [
        { name: 'a', value: '1' },
        { name: 'b', value: 'x y' },
        { name: 'c', value: 'é' },
        { name: 'a', value: '2' },
      ],
    });
    // A review: tools that send a form from its params sent %20 and %FF otherwise, under the recorded length.
    for (const text of ['a=%20x', 'd=%FF', 'e=1;f=2', 'g']) expect(harEntry(detail({ requestBody: asForm(text) })).request.postData).not.toHaveProperty('params');
    expect(harEntry(detail()).request.postData).not.toHaveProperty('params');
  });

  it("leaves out a cut body's Content-Length, which would make a tool sending the kept part wait for the rest", () => {
    const cut = harEntry(detail({ requestBody: body('{"item":', { truncated: true, totalBytes: 13 }) }));
    expect(cut.request.headers.map((h) => h.name)).toEqual(['host', 'content-type']);
    expect(cut.request.bodySize).toBe(13);
  });

  it('gives valid HAR 1.2 with the URL the client used, query, headers and both bodies', async () => {
    const har = toHar([harEntry(detail()), harEntry(detail({ requestId: 'r-2', method: 'GET', path: '/', requestBody: body(''), status: 502, error: { code: 'BURROW_E_LOCAL_UNREACHABLE', message: 'refused' } }))]);
    await expect(validateHar(har)).resolves.toBeTruthy();
    const [entry, failed] = har.log.entries;
    expect(entry!.request).toMatchObject({
      method: 'POST',
      url: 'http://demo.localhost:8080/orders?id=7&q=a%20b',
      queryString: [
        { name: 'id', value: '7' },
        { name: 'q', value: 'a b' },
      ],
      postData: { mimeType: 'application/json', text: '{"item":"x"}\n' },
      bodySize: 13,
    });
    // As the client sent them, Host and Content-Length too, as a browser's HAR has them (the HAR audit).
    expect(entry!.request.headers.map((h) => h.name)).toEqual(['host', 'content-type', 'content-length']);
    expect(entry!.response.content).toEqual({ size: 4, mimeType: 'application/octet-stream', text: 'AP8B/g==', encoding: 'base64' });
    expect(entry!.startedDateTime).toBe('2026-11-30T12:00:00.000Z');
    expect(failed).toMatchObject({ comment: 'BURROW_E_LOCAL_UNREACHABLE: refused', response: { status: 502 }, _requestId: 'r-2' });
    expect(failed!.request.postData).toBeUndefined();
  });

  // Left by the HAR audit: its timings were all 0.
  it('gives a request still in flight the time it has lasted so far: waiting, or receiving once its answer began', () => {
    const startedAt = Date.now() - 60_000;
    const waiting = harEntry(detail({ startedAt, state: 'in-flight', status: undefined, durationMs: undefined, firstByteMs: undefined }));
    expect(waiting.timings.wait).toBeGreaterThanOrEqual(60_000);
    expect(waiting.timings.receive).toBe(0);
    const receiving = harEntry(detail({ startedAt, state: 'in-flight', durationMs: undefined, firstByteMs: 5 }));
    expect(receiving.timings.wait).toBe(5);
    expect(receiving.timings.receive).toBeGreaterThanOrEqual(60_000 - 5);
    expect(receiving.time).toBeGreaterThanOrEqual(60_000);
  });

  // Found by the HAR audit: every statusText was empty, and an HTTP/1.0 client's answer was said to be HTTP/1.0 (the edge answers 1.1).
  it('gives each answer its status text, and the version the edge answered in', () => {
    const versions = (['1.0', '1.1', '2.0'] as const).map((httpVersion) => harEntry(detail({ httpVersion })));
    expect(versions.map((entry) => [entry.request.httpVersion, entry.response.httpVersion, entry.response.statusText])).toEqual([
      ['HTTP/1.0', 'HTTP/1.1', 'Created'],
      ['HTTP/1.1', 'HTTP/1.1', 'Created'],
      ['HTTP/2.0', 'HTTP/2.0', 'Created'],
    ]);
    expect(harEntry(detail({ status: undefined, state: 'in-flight' })).response.statusText).toBe('');
  });

  it('carries cookies, a binary request body (in base64, which the import reads back) and says an entry was in flight', async () => {
    const entry = harEntry(
      detail({
        state: 'in-flight',
        status: undefined,
        durationMs: undefined,
        requestHeaders: [
          ['host', 'demo.localhost:8080'],
          ['cookie', 'sid=abc; theme=dark'],
        ],
        requestBody: body(Buffer.from([0, 1, 2, 0xff, 0xfe]), { contentType: 'application/octet-stream' }),
        responseHeaders: [
          ['set-cookie', 'sid=new; Path=/; HttpOnly; Secure; Expires=Wed, 21 Oct 2026 07:28:00 GMT'],
          ['set-cookie', 'theme=light'],
        ],
      }),
    );
    await expect(validateHar(toHar([entry]))).resolves.toBeTruthy();
    expect(entry.request.cookies).toEqual([
      { name: 'sid', value: 'abc' },
      { name: 'theme', value: 'dark' },
    ]);
    expect(entry.response.cookies).toEqual([
      { name: 'sid', value: 'new', path: '/', httpOnly: true, secure: true, expires: '2026-10-21T07:28:00.000Z' },
      { name: 'theme', value: 'light' },
    ]);
    expect(entry.request.postData).toEqual({ mimeType: 'application/octet-stream', text: 'AAEC//4=', encoding: 'base64', comment: 'binary body, in base64 (encoding)' });
    expect(entry.comment).toBe('still in flight when exported: no answer yet, or not all of it');
    const imported = harToEvents(toHar([entry])).requests[0]!;
    const sent = imported.find((event) => event.kind === 'body' && event.direction === 'to-service');
    expect(sent).toMatchObject({ data: Buffer.from([0, 1, 2, 0xff, 0xfe]) });
  });

  it('gives a compressed answer decoded, as HAR 1.2 has it, and the import shows it so (an older export, still compressed, too)', async () => {
    const text = 'hello '.repeat(1_000);
    const gzipped = gzipSync(text);
    const compressed = detail({ responseHeaders: [['content-type', 'text/plain'], ['content-encoding', 'gzip']], responseBody: body(gzipped, { contentType: 'text/plain' }) });
    const entry = harEntry(compressed);
    await expect(validateHar(toHar([entry]))).resolves.toBeTruthy();
    expect(entry.response.content).toEqual({ size: text.length, compression: text.length - gzipped.length, mimeType: 'text/plain', text: Buffer.from(text).toString('base64'), encoding: 'base64' });
    expect(entry.response.bodySize).toBe(gzipped.length);
    const answer = (har: ReturnType<typeof toHar>): { headers: string[]; body: string } => {
      const events = harToEvents(har).requests[0]!;
      const head = events.find((event) => event.kind === 'response-head');
      const received = events.find((event) => event.kind === 'body' && event.direction === 'to-client');
      return { headers: head?.kind === 'response-head' ? head.headers.map(([name]) => name) : [], body: received?.kind === 'body' ? Buffer.from(received.data).toString('latin1') : '' };
    };
    expect(answer(toHar([entry]))).toEqual({ headers: ['content-type'], body: text });
    // An export from before kept the gzip bytes: they still decode by the header, which stays.
    const older = toHar([{ ...entry, response: { ...entry.response, content: { size: gzipped.length, mimeType: 'text/plain', text: gzipped.toString('base64'), encoding: 'base64' } } }]);
    expect(answer(older)).toEqual({ headers: ['content-type', 'content-encoding'], body: gzipped.toString('latin1') });
    // Still gzip when it inflates past what the inspector decodes (1 MiB): the header stays.
    const large = gzipSync(Buffer.alloc(2 * 1024 * 1024, 'a'));
    const olderLarge = toHar([{ ...entry, response: { ...entry.response, content: { size: large.length, mimeType: 'text/plain', text: large.toString('base64'), encoding: 'base64' } } }]);
    expect(answer(olderLarge).headers).toEqual(['content-type', 'content-encoding']);
    // Only part kept: as sent, and said so.
    const cut = harEntry({ ...compressed, responseBody: body(gzipped.subarray(0, 20), { contentType: 'text/plain', truncated: true, totalBytes: gzipped.length }) });
    expect(cut.response.content).toMatchObject({ size: gzipped.length, text: gzipped.subarray(0, 20).toString('base64'), comment: `only the first 20 of ${gzipped.length} body bytes were kept; as sent (gzip)` });
  });

  it('says when a body is not whole, and stays valid', async () => {
    const cut = harEntry(detail({ requestBody: body('{"item"', { truncated: true, totalBytes: 100_000, contentType: 'application/json' }), responseBody: { base64: '', totalBytes: 9, truncated: false, released: true } }));
    await expect(validateHar(toHar([cut]))).resolves.toBeTruthy();
    expect(cut.request.comment).toBe('only the first 7 of 100000 body bytes were kept');
    expect(cut.response.content.comment).toMatch(/let go to keep the traffic log within its budget/);
  });
});

describe('request snippets', () => {
  it('writes curl, fetch and HTTPie that send the same method, URL, headers and body', async () => {
    const { snippet, warning } = await requestSnippet(detail(), 'curl');
    expect(warning).toBeUndefined();
    expect(snippet).toContain('--request POST');
    expect(snippet).toContain("--url 'http://demo.localhost:8080/orders?id=7&q=a%20b'");
    expect(snippet).toContain("--header 'content-type: application/json'");
    expect(snippet).not.toContain('content-length');
    // The tunnel's public origin wins over the Host header (which may lack the port).
    expect((await requestSnippet(detail(), 'fetch', 'https://demo.example.com')).snippet).toContain("const url = 'https://demo.example.com/orders?id=7&q=a%20b'");
    expect((await requestSnippet(detail(), 'httpie')).snippet).toMatch(/http POST/);
  });

  it('warns when the body it can send is not the original', async () => {
    expect((await requestSnippet(detail({ requestBody: body('{"a', { truncated: true, totalBytes: 70_000 }) }), 'curl')).warning).toBe(
      'only the first 3 of 70000 body bytes were kept: the snippet sends only those',
    );
    expect((await requestSnippet(detail({ requestBody: body(Buffer.from([0xff, 0xfe])) }), 'curl')).warning).toBe('binary body: not carried');
  });
});
