// `burrow server` hardening flags: named tokens from a file (bad files are
// usage errors; a name outside a token's claims stops the agent with exit 1)
// and the public limits.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { publicRequest, spawnCli, spawnCliServer, startBackend, type CliProcess } from '../helpers/common.js';
import { scratchDirectory } from '../helpers/scratch.js';

const started: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
function cli(args: string[]): CliProcess {
  const p = spawnCli(args);
  started.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.kill()));
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function tokensFile(text: string): string {
  const file = join(scratchDirectory('burrow-tokens-'), 'tokens.yaml');
  writeFileSync(file, text);
  return file;
}

describe('burrow server --tokens-file', () => {
  it.each([
    ['not yaml: [', /not valid YAML/],
    ['tokens: []', /non-empty list/],
    ['tokens:\n  - { name: a, token: short }', /at least 8 characters/],
    ['tokens:\n  - { name: a, token: 12345678 }', /read as a number: quote it \("12345678"\)/],
    ['tokens:\n  - { name: a, token: longenough1, tunnels: ["Bad Name"] }', /not a tunnel name or pattern/],
    ['tokens:\n  - { name: a, token: longenough1 }\n  - { name: a, token: longenough2 }', /used twice/],
    ['tokens:\n  - { name: a, token: longenough1, max_body: -5 }', /max_body must be a positive/],
  ])('refuses %j with exit 2', async (text, message) => {
    const p = cli(['server', '--tokens-file', tokensFile(text), '--control', '127.0.0.1:0', '--public', '127.0.0.1:0']);
    expect(await p.exited).toBe(2);
    expect(p.stderrLines.join('\n')).toMatch(message);
  });

  it('lets each token claim only its names; a refused name stops the agent with exit 1 saying why', async () => {
    const backend = await startBackend((_req, res) => res.end('claimed'));
    cleanups.push(() => backend.close());
    const file = tokensFile('tokens:\n  - { name: alice, token: alice-secret-1, tunnels: ["alice-*"] }\n  - { name: small, token: small-secret-1, tunnels: ["small"], max_body: 100 }\n');
    const { control, publicPort } = await spawnCliServer(['--tokens-file', file, '--max-body', '1000', '--rate-limit', '100'], cli);
    const allowed = cli(['http', String(backend.port), '--name', 'alice-web', '--server', control, '--token', 'alice-secret-1', '--no-inspect']);
    await allowed.waitForLine(/^tunnel alice-web: /);
    expect((await publicRequest({ port: publicPort, host: 'alice-web.localhost' })).body.toString()).toBe('claimed');
    const tooBig = await publicRequest({ port: publicPort, host: 'alice-web.localhost', method: 'POST', body: Buffer.alloc(2_000) });
    expect(tooBig.status).toBe(413);
    // A token's own limit applies to its tunnels, within the server's.
    expect((await publicRequest({ port: publicPort, host: 'alice-web.localhost', method: 'POST', body: Buffer.alloc(500) })).status).toBe(200);
    const small = cli(['http', String(backend.port), '--name', 'small', '--server', control, '--token', 'small-secret-1', '--no-inspect']);
    await small.waitForLine(/^tunnel small: /);
    expect((await publicRequest({ port: publicPort, host: 'small.localhost', method: 'POST', body: Buffer.alloc(500) })).status).toBe(413);
    expect((await publicRequest({ port: publicPort, host: 'small.localhost', method: 'POST', body: Buffer.alloc(50) })).status).toBe(200);

    const refused = cli(['http', String(backend.port), '--name', 'bob', '--server', control, '--token', 'alice-secret-1', '--no-inspect']);
    expect(await refused.exited).toBe(1);
    expect(refused.stderrLines.join('\n')).toMatch(/may not claim "bob"/);
  });
});
