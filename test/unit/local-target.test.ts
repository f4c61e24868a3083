// Where a tunnel forwards to: "PORT", "HOST:PORT" or "[IPv6]:PORT".
import { describe, expect, it } from 'vitest';
import { formatLocalTarget, parseLocalTarget, type LocalTarget } from '../../src/main/tunnel/agent/local-target.js';

describe('parseLocalTarget', () => {
  it.each<[string, LocalTarget]>([
    ['3000', { host: '127.0.0.1', port: 3000 }],
    ['1', { host: '127.0.0.1', port: 1 }],
    ['65535', { host: '127.0.0.1', port: 65_535 }],
    ['00080', { host: '127.0.0.1', port: 80 }],
    ['  3000\n', { host: '127.0.0.1', port: 3000 }],
    ['localhost:8080', { host: 'localhost', port: 8080 }],
    ['10.0.0.5:1', { host: '10.0.0.5', port: 1 }],
    ['example.com:443', { host: 'example.com', port: 443 }],
    ['0.0.0.0:65535', { host: '0.0.0.0', port: 65_535 }],
    ['[::1]:3000', { host: '::1', port: 3000 }],
    ['[fe80::1%eth0]:80', { host: 'fe80::1%eth0', port: 80 }],
    ['[2001:db8::42]:50051', { host: '2001:db8::42', port: 50_051 }],
  ])('%j -> %j', (spec, target) => {
    expect(parseLocalTarget(spec)).toEqual(target);
  });

  it.each([
    '',
    '   ',
    '0',
    '00000',
    '65536',
    '99999',
    '123456',
    '-1',
    '+80',
    '3000.5',
    '1e3',
    'abc',
    'localhost',
    'localhost:',
    ':3000',
    'localhost:http',
    'localhost:0',
    'localhost:70000',
    'a:b:3000',
    '::1:3000',
    '[::1]',
    '[::1]:',
    '[::1]3000',
    'a b:80',
    'http://localhost:3000',
    'localhost:3000/path',
    '[]:3000',
    'a/b:80',
    '[web]:80',
    'host@evil:80',
  ])('refuses %j with a message saying what it expects', (spec) => {
    expect(() => parseLocalTarget(spec)).toThrow(`"${spec}" is not a local address: expected PORT or HOST:PORT (port 1-65535)`);
  });
});

describe('formatLocalTarget', () => {
  it.each<[LocalTarget, string]>([
    [{ host: '127.0.0.1', port: 3000 }, '127.0.0.1:3000'],
    [{ host: 'localhost', port: 1 }, 'localhost:1'],
    [{ host: '::1', port: 3000 }, '[::1]:3000'],
    [{ host: 'fe80::1%eth0', port: 80 }, '[fe80::1%eth0]:80'],
  ])('%j -> %s', (target, text) => {
    expect(formatLocalTarget(target)).toBe(text);
  });

  it.each(['3000', 'localhost:8080', '[::1]:3000', '[2001:db8::42]:50051', 'example.com:443', '10.0.0.5:65535'])(
    'parse and format round-trip %j',
    (spec) => {
      const target = parseLocalTarget(spec);
      expect(parseLocalTarget(formatLocalTarget(target))).toEqual(target);
    },
  );

  it('writes the default host explicitly', () => {
    expect(formatLocalTarget(parseLocalTarget('3000'))).toBe('127.0.0.1:3000');
  });
});
