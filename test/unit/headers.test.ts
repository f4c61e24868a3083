// Header lists: what a proxy forwards, in what order, and how HTTP/2 sees them.
import { describe, expect, it } from 'vitest';
import type { Header } from '../../src/main/gen/burrow/v1/tunnel.js';
import {
  headerValue,
  headersFromHttp2Raw,
  headersFromRaw,
  headersToObject,
  headersToRaw,
  isHttp2HopHeader,
} from '../../src/main/tunnel/headers.js';

const hopByHop = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'transfer-encoding', 'upgrade'];

const upper = (name: string): string => name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());

describe('headersFromRaw', () => {
  it('is empty for no headers', () => {
    expect(headersFromRaw([])).toEqual([]);
  });

  it('keeps end-to-end headers as pairs, in order, with their original case and repeats', () => {
    const raw = ['Host', 'app.localhost', 'X-Trace', 'a', 'set-cookie', 'one=1', 'Set-Cookie', 'two=2', 'Content-Length', '0'];
    expect(headersFromRaw(raw)).toEqual([
      { name: 'Host', value: 'app.localhost' },
      { name: 'X-Trace', value: 'a' },
      { name: 'set-cookie', value: 'one=1' },
      { name: 'Set-Cookie', value: 'two=2' },
      { name: 'Content-Length', value: '0' },
    ]);
  });

  it('keeps Trailer, which announces trailers that travel end to end (RFC 9110 section 6.6.2)', () => {
    expect(headersFromRaw(['Trailer', 'x-digest'])).toEqual([{ name: 'Trailer', value: 'x-digest' }]);
  });

  it.each(hopByHop.flatMap((name) => [name, upper(name), name.toUpperCase()]))('drops the hop-by-hop header %s', (name) => {
    const value = name.toLowerCase() === 'connection' ? 'close' : 'x';
    expect(headersFromRaw(['Accept', '*/*', name, value, 'X-After', '1'])).toEqual([
      { name: 'Accept', value: '*/*' },
      { name: 'X-After', value: '1' },
    ]);
  });

  it('drops the headers Connection names, whatever their case or spacing, before or after it', () => {
    const raw = ['X-Secret', 's', 'Connection', 'close,  x-secret ,X-Other', 'x-other', 'o', 'X-Kept', 'k', 'X-OTHER', 'o2'];
    expect(headersFromRaw(raw)).toEqual([{ name: 'X-Kept', value: 'k' }]);
  });

  it('honours every Connection header, not only the first', () => {
    const raw = ['Connection', 'x-a', 'connection', 'X-B', 'X-A', '1', 'X-B', '2', 'X-C', '3'];
    expect(headersFromRaw(raw)).toEqual([{ name: 'X-C', value: '3' }]);
  });

  it('keeps empty values', () => {
    expect(headersFromRaw(['X-Empty', ''])).toEqual([{ name: 'X-Empty', value: '' }]);
  });
});

describe('headersToRaw', () => {
  it('flattens pairs to [name, value, ...], empty for none', () => {
    expect(headersToRaw([])).toEqual([]);
    expect(
      headersToRaw([
        { name: 'A', value: '1' },
        { name: 'a', value: '2' },
      ]),
    ).toEqual(['A', '1', 'a', '2']);
  });

  it.each([
    [[]],
    [['Host', 'h', 'Accept', '*/*']],
    [['set-cookie', 'a', 'set-cookie', 'b', 'X-Empty', '']],
  ])('round-trips end-to-end headers through headersFromRaw: %j', (raw) => {
    expect(headersToRaw(headersFromRaw(raw))).toEqual(raw);
  });
});

describe('headerValue', () => {
  const headers: Header[] = [
    { name: 'Content-Type', value: 'text/plain' },
    { name: 'x-dup', value: 'first' },
    { name: 'X-Dup', value: 'second' },
    { name: 'X-Empty', value: '' },
  ];

  it.each([
    ['content-type', 'text/plain'],
    ['CONTENT-TYPE', 'text/plain'],
    ['X-DUP', 'first'],
    ['x-empty', ''],
    ['missing', undefined],
    ['', undefined],
  ])('%s -> %j', (name, expected) => {
    expect(headerValue(headers, name)).toBe(expected);
  });

  it('is undefined in an empty list', () => {
    expect(headerValue([], 'host')).toBeUndefined();
  });
});

describe('isHttp2HopHeader', () => {
  it.each([
    ...[':method', ':path', ':authority', ':scheme', ':status', ':protocol'].map((name) => [name, true] as const),
    ...['host', 'Host', 'HOST'].map((name) => [name, true] as const),
    ...hopByHop.flatMap((name) => [[name, true] as const, [upper(name), true] as const]),
    ...['content-type', 'grpc-timeout', 'grpc-status', 'x-host', 'hostname', 'user-agent', 'x-connection', 'authorization'].map(
      (name) => [name, false] as const,
    ),
  ])('%s -> %s', (name, expected) => {
    expect(isHttp2HopHeader(name)).toBe(expected);
  });
});

describe('headersFromHttp2Raw', () => {
  it('drops pseudo-headers, host and connection-specific headers, keeping the rest in order', () => {
    const raw = [':method', 'POST', ':path', '/pkg.Svc/Call', ':authority', 'api.localhost', ':scheme', 'http', 'content-type', 'application/grpc', 'te', 'trailers', 'host', 'h', 'grpc-timeout', '5S', 'x-md', 'a', 'x-md', 'b'];
    expect(headersFromHttp2Raw(raw)).toEqual([
      { name: 'content-type', value: 'application/grpc' },
      { name: 'grpc-timeout', value: '5S' },
      { name: 'x-md', value: 'a' },
      { name: 'x-md', value: 'b' },
    ]);
  });

  it('is empty for no headers or only pseudo-headers', () => {
    expect(headersFromHttp2Raw([])).toEqual([]);
    expect(headersFromHttp2Raw([':status', '200'])).toEqual([]);
  });
});

describe('headersToObject', () => {
  it('lowercases names and gathers repeats into an array, in order', () => {
    expect(
      headersToObject([
        { name: 'Content-Type', value: 'application/grpc' },
        { name: 'X-Md', value: '1' },
        { name: 'x-md', value: '2' },
        { name: 'X-MD', value: '3' },
        { name: 'x-once', value: '' },
      ]),
    ).toEqual({ 'content-type': 'application/grpc', 'x-md': ['1', '2', '3'], 'x-once': '' });
  });

  it('leaves out what each HTTP/2 hop sets itself', () => {
    const object = headersToObject([
      { name: ':status', value: '200' },
      { name: 'Host', value: 'h' },
      { name: 'Connection', value: 'keep-alive' },
      { name: 'Transfer-Encoding', value: 'chunked' },
      { name: 'TE', value: 'trailers' },
      { name: 'grpc-status', value: '0' },
    ]);
    expect(object).toEqual({ 'grpc-status': '0' });
  });

  it('is an empty object for no headers', () => {
    expect(headersToObject([])).toEqual({});
  });
});
