// `burrow start --config FILE`: what a good file gives, and that every kind of
// bad file is a UsageError naming the file and what is wrong.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAgentConfig } from '../../src/main/cli/config-file.js';
import { UsageError } from '../../src/main/cli/usage-error.js';

let dir: string;
let count = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'burrow-config-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function configFile(text: string): string {
  const path = join(dir, `burrow-${++count}.yaml`);
  writeFileSync(path, text);
  return path;
}

function usageErrorFrom(path: string): UsageError {
  try {
    readAgentConfig(path);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error(`readAgentConfig(${path}) accepted it`);
}

describe('readAgentConfig', () => {
  it('reads server, token and every tunnel, with protocol defaulting to http', () => {
    const path = configFile(
      [
        'server: 127.0.0.1:7835',
        'token: s3cret',
        'tunnels:',
        '  - { name: web, protocol: http, target: 3000 }',
        '  - { name: api, protocol: grpc, target: 127.0.0.1:50051 }',
        '  - target: "[::1]:8080"',
        '  - name: docs',
        '    target: localhost:4000',
      ].join('\n'),
    );
    expect(readAgentConfig(path)).toEqual({
      server: '127.0.0.1:7835',
      token: 's3cret',
      tunnels: [
        { name: 'web', protocol: 'http', target: '3000' },
        { name: 'api', protocol: 'grpc', target: '127.0.0.1:50051' },
        { name: undefined, protocol: 'http', target: '[::1]:8080' },
        { name: 'docs', protocol: 'http', target: 'localhost:4000' },
      ],
      ignored: [],
    });
  });

  it('leaves server and token undefined when the file has only tunnels', () => {
    const config = readAgentConfig(configFile('tunnels:\n  - target: 3000\n'));
    expect(config.server).toBeUndefined();
    expect(config.token).toBeUndefined();
    expect(config.tunnels).toEqual([{ name: undefined, protocol: 'http', target: '3000' }]);
  });

  it('ignores comments and keys it does not know, saying which keys (a typo like protcol gave an http tunnel unseen)', () => {
    const path = configFile('# my tunnels\nlog: verbose\ntunnels:\n  - { target: 3000, protcol: grpc } # web\n');
    const config = readAgentConfig(path);
    expect(config.tunnels).toEqual([{ name: undefined, protocol: 'http', target: '3000' }]);
    expect(config.ignored).toEqual([
      `${path}: "log" is not a setting Burrow reads (server, token, tunnels); ignored`,
      `${path}: tunnels[0]: "protcol" is not a setting Burrow reads (name, protocol, target); ignored`,
    ]);
  });

  it('says when the file cannot be read, and why', () => {
    const missing = join(dir, 'missing.yaml');
    expect(usageErrorFrom(missing).message).toBe(`cannot read ${missing}: ENOENT`);
    const directory = join(dir, 'a-directory.yaml');
    mkdirSync(directory);
    expect(usageErrorFrom(directory).message).toBe(`cannot read ${directory}: EISDIR`);
  });

  it.each([
    // One line, where the library's message runs on with the lines around the fault.
    ['not YAML', 'tunnels: [\n', /is not valid YAML: [^\n]*at line \d+, column \d+$/],
    ['a duplicated key', 'tunnels: []\ntunnels: []\n', /is not valid YAML: [^\n]*at line \d+, column \d+$/],
    ['an empty file', '', /: expected a mapping with a "tunnels" list$/],
    ['only a comment', '# nothing\n', /: expected a mapping with a "tunnels" list$/],
    ['a list at the top', '- target: 3000\n', /: expected a mapping with a "tunnels" list$/],
    ['a scalar at the top', 'just text\n', /: expected a mapping with a "tunnels" list$/],
    ['a name given twice', 'tunnels:\n  - { name: a, target: 3000 }\n  - { name: a, target: 3001 }\n', /: tunnels\[1\]: the name "a" is used twice$/],
    ['a server that is not a string', 'server: 7835\ntunnels: [{ target: 3000 }]\n', /: "server" must be host:port$/],
    ['a server that is a list', 'server: [a, b]\ntunnels: [{ target: 3000 }]\n', /: "server" must be host:port$/],
    ['a token that is not a string', 'token: 12345\ntunnels: [{ target: 3000 }]\n', /: "token" must be a string$/],
    ['a token that is null', 'token:\ntunnels: [{ target: 3000 }]\n', /: "token" must be a string$/],
    ['no tunnels', 'server: 127.0.0.1:7835\n', /: "tunnels" must be a non-empty list$/],
    ['an empty tunnels list', 'tunnels: []\n', /: "tunnels" must be a non-empty list$/],
    ['tunnels as a mapping', 'tunnels: { web: 3000 }\n', /: "tunnels" must be a non-empty list$/],
    ['tunnels as a string', 'tunnels: web\n', /: "tunnels" must be a non-empty list$/],
    ['a tunnel that is a number', 'tunnels: [3000]\n', /: tunnels\[0\] must be a mapping$/],
    ['a tunnel that is null', 'tunnels:\n  -\n', /: tunnels\[0\] must be a mapping$/],
    ['a server without a port', 'server: tunnel.example.com\ntunnels: [{ target: 3000 }]\n', /: "server" must be HOST:PORT, got "tunnel.example.com"$/],
    ['a server with a port out of range', 'server: 127.0.0.1:99999\ntunnels: [{ target: 3000 }]\n', /: "server" must be HOST:PORT/],
    ['a server as a URL', 'server: "https://tunnel.example.com:443"\ntunnels: [{ target: 3000 }]\n', /: "server" must be HOST:PORT/],
    ['a tunnel that is a list', 'tunnels: [[web, 3000]]\n', /: tunnels\[0\] must be a mapping$/],
    ['a name that is not a string', 'tunnels: [{ name: 42, target: 3000 }]\n', /: tunnels\[0\]\.name must be a tunnel name .*, got 42$/],
    ['a null name', 'tunnels: [{ name: null, target: 3000 }]\n', /: tunnels\[0\]\.name must be a tunnel name .*, got null$/],
    ['a name in capitals', 'tunnels: [{ name: Web, target: 3000 }]\n', /: tunnels\[0\]\.name must be a tunnel name .*, got "Web"$/],
    ['a name with a dot', 'tunnels: [{ name: a.b, target: 3000 }]\n', /: tunnels\[0\]\.name must be a tunnel name/],
    ['a name ending in a hyphen', 'tunnels: [{ name: web-, target: 3000 }]\n', /: tunnels\[0\]\.name must be a tunnel name/],
    ['an unknown protocol', 'tunnels: [{ protocol: websocket, target: 3000 }]\n', /: tunnels\[0\]\.protocol must be http or grpc$/],
    ['a protocol in capitals', 'tunnels: [{ protocol: HTTP, target: 3000 }]\n', /: tunnels\[0\]\.protocol must be http or grpc$/],
    ['a null protocol', 'tunnels: [{ protocol: null, target: 3000 }]\n', /: tunnels\[0\]\.protocol must be http or grpc$/],
    ['no target', 'tunnels: [{ name: web }]\n', /: tunnels\[0\]\.target must be PORT or HOST:PORT$/],
    ['a target that is a list', 'tunnels: [{ target: [3000] }]\n', /: tunnels\[0\]\.target must be PORT or HOST:PORT$/],
    ['a target that is a boolean', 'tunnels: [{ target: true }]\n', /: tunnels\[0\]\.target must be PORT or HOST:PORT$/],
    ['a port out of range', 'tunnels: [{ target: 70000 }]\n', /: tunnels\[0\]\.target: "70000" is not a local address/],
    ['port 0', 'tunnels: [{ target: 0 }]\n', /: tunnels\[0\]\.target: "0" is not a local address/],
    ['a fractional port', 'tunnels: [{ target: 3000.5 }]\n', /: tunnels\[0\]\.target: "3000.5" is not a local address/],
    ['a host without a port', 'tunnels: [{ target: localhost }]\n', /: tunnels\[0\]\.target: "localhost" is not a local address/],
    ['a URL as the target', 'tunnels: [{ target: "http://localhost:3000" }]\n', /: tunnels\[0\]\.target: "http:\/\/localhost:3000" is not a local address/],
    ['a bad later tunnel', 'tunnels:\n  - target: 3000\n  - target: 3001\n  - target: nope\n', /: tunnels\[2\]\.target: "nope" is not a local address/],
  ])('refuses %s with a UsageError naming the file', (_what, text, message) => {
    const path = configFile(text);
    const error = usageErrorFrom(path);
    expect(error.message.startsWith(path)).toBe(true);
    expect(error.message).toMatch(message);
  });
});
