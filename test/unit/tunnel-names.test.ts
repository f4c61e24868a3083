// Tunnel names are single DNS labels, and a Host header names one under the domain.
import { describe, expect, it } from 'vitest';
import { isValidTunnelName, randomTunnelName, tunnelNameFromHost } from '../../src/main/tunnel/tunnel-names.js';

describe('isValidTunnelName', () => {
  it.each(['a', '0', 'web', 'my-app', 'a--b', '123', 'x1-2y', 'a'.repeat(63), `a${'-'.repeat(61)}b`])('accepts %j', (name) => {
    expect(isValidTunnelName(name)).toBe(true);
  });

  it.each([
    '',
    '-a',
    'a-',
    '-',
    'Web',
    'WEB',
    'a_b',
    'a.b',
    'a b',
    ' a',
    'a ',
    'a\n',
    '\na',
    'é',
    'a*',
    'a/b',
    'a'.repeat(64),
    `${'a'.repeat(63)}.`,
  ])('refuses %j', (name) => {
    expect(isValidTunnelName(name)).toBe(false);
  });
});

describe('randomTunnelName', () => {
  it('makes valid names of the form t-XXXXXXXX, different each time', () => {
    const names = Array.from({ length: 100 }, randomTunnelName);
    for (const name of names) {
      expect(name).toMatch(/^t-[0-9a-f]{8}$/);
      expect(isValidTunnelName(name)).toBe(true);
    }
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('tunnelNameFromHost', () => {
  it.each([
    ['web.localhost', 'localhost', 'web'],
    ['web.localhost:8080', 'localhost', 'web'],
    ['WEB.LocalHost', 'localhost', 'web'],
    ['web.localhost.', 'localhost', 'web'],
    ['web.localhost.:443', 'localhost', 'web'],
    ['web.localhost', 'LOCALHOST', 'web'],
    ['api-2.tunnels.example.com', 'tunnels.example.com', 'api-2'],
    ['a'.repeat(63) + '.localhost', 'localhost', 'a'.repeat(63)],
  ])('%s under %s -> %s', (host, domain, name) => {
    expect(tunnelNameFromHost(host, domain)).toBe(name);
  });

  it.each([
    [undefined, 'localhost'],
    ['', 'localhost'],
    ['localhost', 'localhost'], // the bare domain names no tunnel
    ['.localhost', 'localhost'],
    ['localhost:8080', 'localhost'],
    ['a.b.localhost', 'localhost'], // two labels are not one name
    ['web.example.com', 'localhost'],
    ['web.notlocalhost', 'localhost'], // a suffix of the label is not the domain
    ['weblocalhost', 'localhost'],
    ['-web.localhost', 'localhost'],
    ['web-.localhost', 'localhost'],
    ['web_1.localhost', 'localhost'],
    ['a'.repeat(64) + '.localhost', 'localhost'],
    ['web.localhost:', 'localhost'],
    ['web.localhost:http', 'localhost'],
    ['[::1]:8080', 'localhost'],
    ['127.0.0.1:8080', 'localhost'],
    ['web.tunnels.example.com', 'example.com'],
  ])('%j under %s names no tunnel', (host, domain) => {
    expect(tunnelNameFromHost(host, domain)).toBeUndefined();
  });
});
