// Bodies made readable for the detail view: decoded, parsed, capped.
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bodyContent, partPreviewBytes } from '../../src/main/service/body-content.js';
import { decodedBodyCapBytes } from '../../src/main/service/decompress.js';
import type { BodyPreview } from '../../src/shared/contract.js';

const preview = (bytes: Buffer, contentType?: string, totalBytes = bytes.length): BodyPreview => ({
  base64: bytes.toString('base64'),
  totalBytes,
  truncated: totalBytes > bytes.length,
  ...(contentType !== undefined && { contentType }),
});
const text = (base64: string): string => Buffer.from(base64, 'base64').toString('utf8');

describe('bodyContent', () => {
  const json = Buffer.from(JSON.stringify({ hello: 'world', list: Array.from({ length: 200 }, (_, i) => i) }));

  it.each([
    ['gzip', gzipSync(json)],
    ['deflate', deflateSync(json)],
    ['deflate', deflateRawSync(json)],
    ['br', brotliCompressSync(json)],
  ])('decodes %s for display and says so', async (encoding, sent) => {
    const content = await bodyContent(preview(sent, 'application/json'), [['Content-Encoding', encoding]]);
    expect(content).toMatchObject({ encoding, decodedBytes: json.length, keptBytes: sent.length, totalBytes: sent.length });
    expect(text(content.base64)).toBe(json.toString());
  });

  it('takes off codings applied one after another, the last first', async () => {
    const content = await bodyContent(preview(brotliCompressSync(gzipSync(json)), 'application/json'), [['content-encoding', 'gzip, br']]);
    expect(content).toMatchObject({ encoding: 'gzip, br', decodedBytes: json.length });
    expect(text(content.base64)).toBe(json.toString());
  });

  it('shows the first part of a compressed body the log kept only the start of', async () => {
    const long = Buffer.from('line of text\n'.repeat(50_000));
    const sent = gzipSync(long, { level: 1 });
    const kept = sent.subarray(0, Math.floor(sent.length / 2));
    const content = await bodyContent(preview(kept, 'text/plain', sent.length), [['content-encoding', 'gzip']]);
    expect(content.decodeError).toBeUndefined();
    expect(content.decodedBytes).toBeGreaterThan(kept.length);
    expect(long.toString().startsWith(text(content.base64))).toBe(true);
  });

  it('does not inflate a body past the display cap, and shows it as sent instead', async () => {
    const sent = gzipSync(Buffer.alloc(decodedBodyCapBytes * 4));
    const content = await bodyContent(preview(sent), [['content-encoding', 'gzip']]);
    expect(content.decodeError).toMatch(/over 1 MiB/);
    expect(content.decodedBytes).toBeUndefined();
    expect(content.base64).toBe(sent.toString('base64'));
  });

  it('says why a body cannot be decoded: an unknown coding, or bytes that are not what the header says', async () => {
    expect((await bodyContent(preview(json), [['content-encoding', 'zstd']])).decodeError).toMatch(/zstd is not one the inspector decodes/);
    expect((await bodyContent(preview(json), [['content-encoding', 'gzip']])).decodeError).toMatch(/^not valid gzip/);
    expect(await bodyContent(preview(json), [['content-encoding', 'identity']])).not.toHaveProperty('encoding');
  });

  it('parses a form into its fields', async () => {
    const content = await bodyContent(preview(Buffer.from('name=Ada+Lovelace&lang=en&lang=fr&note=%E2%9C%93'), 'application/x-www-form-urlencoded; charset=utf-8'), []);
    expect(content.form).toEqual([
      ['name', 'Ada Lovelace'],
      ['lang', 'en'],
      ['lang', 'fr'],
      ['note', '✓'],
    ]);
  });

  const boundary = 'xYzZY';
  const multipart = (file: Buffer): Buffer =>
    Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nHoliday\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="beach.png"\r\nContent-Type: image/png\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);

  it('parses multipart fields and files, a file shown by its first bytes', async () => {
    const file = Buffer.alloc(partPreviewBytes * 3, 7);
    const content = await bodyContent(preview(multipart(file), `multipart/form-data; boundary=${boundary}`), []);
    expect(content.partsError).toBeUndefined();
    expect(content.parts).toEqual([
      { name: 'title', size: 7, base64: Buffer.from('Holiday').toString('base64'), contentType: 'text/plain' },
      { name: 'photo', fileName: 'beach.png', contentType: 'image/png', size: file.length, base64: file.subarray(0, partPreviewBytes).toString('base64'), truncated: true },
    ]);
  });

  it('shows the parts before the cut of a multipart body kept in part, and says it ends early', async () => {
    const whole = multipart(Buffer.alloc(1000, 1));
    const content = await bodyContent(preview(whole.subarray(0, whole.length - 500), `multipart/form-data; boundary=${boundary}`, whole.length), []);
    expect(content.parts?.map((part) => part.name)).toEqual(['title', 'photo']);
    expect(content.parts?.[1]?.size).toBeGreaterThan(0);
    expect(content.partsError).toMatch(/end/i);
  });

  it('says a multipart body without a boundary cannot be parsed', async () => {
    const content = await bodyContent(preview(Buffer.from('whatever'), 'multipart/form-data'), []);
    expect(content.parts).toEqual([]);
    expect(content.partsError).toMatch(/boundary/i);
  });
});
