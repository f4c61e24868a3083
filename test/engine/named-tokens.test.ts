// Named tokens: each may claim only its own tunnel names; a bare token may
// claim any. Real server and agents on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelAgent, type TunnelSpec } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import { publicRequest, startBackend, type Backend } from '../helpers/common.js';

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function serverWithTokens(): Promise<{ server: TunnelServer; backend: Backend }> {
  const backend = await startBackend((req, res) => res.end(`hello from ${req.headers.host}`));
  stops.push(() => backend.close());
  const server = new TunnelServer({
    controlAddress: '127.0.0.1:0',
    publicAddress: '127.0.0.1:0',
    domain: 'localhost',
    tokens: [{ label: 'alice', token: 'alice-secret', names: ['alice', 'alice-*'] }, { label: 'ci', token: 'ci-secret', names: ['ci-build'] }, 'admin-secret'],
  });
  await server.start();
  stops.push(() => server.stop());
  return { server, backend };
}

type Outcome = { live: string } | { error: string; message: string };

/** Starts an agent with one tunnel and reports what became of it. */
function register(server: TunnelServer, token: string, spec: TunnelSpec): Promise<Outcome> {
  const agent = new TunnelAgent({ server: `127.0.0.1:${server.controlPort}`, token, tunnels: [spec] });
  stops.push(() => agent.stop());
  return new Promise((resolve) => {
    agent.once('tunnel-live', (tunnel) => resolve({ live: tunnel.name }));
    agent.once('tunnel-error', (_name, code, message) => resolve({ error: code, message }));
    agent.once('fatal', (error) => resolve({ error: error.code, message: error.message }));
    agent.start();
  });
}

describe('named tokens', () => {
  it('lets a token claim names matching its patterns and nothing else', async () => {
    const { server, backend } = await serverWithTokens();
    const target = String(backend.port);
    expect(await register(server, 'alice-secret', { name: 'alice', protocol: 'http', target })).toEqual({ live: 'alice' });
    expect(await register(server, 'alice-secret', { name: 'alice-api', protocol: 'http', target })).toEqual({ live: 'alice-api' });
    const refused = await register(server, 'alice-secret', { name: 'ci-build', protocol: 'http', target });
    expect(refused).toMatchObject({ error: 'BURROW_E_NAME_NOT_ALLOWED' });
    expect((refused as { message: string }).message).toContain('alice, alice-*');
    expect(await register(server, 'ci-secret', { name: 'ci-build', protocol: 'http', target })).toEqual({ live: 'ci-build' });
    // The refusal took nothing from anyone: the name serves its owner's backend.
    const res = await publicRequest({ port: server.publicPort, host: 'ci-build.localhost' });
    expect(res.body.toString()).toBe('hello from ci-build.localhost');
  });

  it('picks a name inside the token\'s pattern when none is asked for, and refuses when the patterns allow none', async () => {
    const { server, backend } = await serverWithTokens();
    const picked = await register(server, 'alice-secret', { protocol: 'http', target: String(backend.port) });
    expect(picked).toMatchObject({ live: expect.stringMatching(/^alice-[0-9a-f]{8}$/) });
    expect(await register(server, 'ci-secret', { protocol: 'http', target: String(backend.port) })).toMatchObject({ error: 'BURROW_E_NAME_NOT_ALLOWED' });
  });

  it('a bare token claims any name; an unknown token is refused', async () => {
    const { server, backend } = await serverWithTokens();
    expect(await register(server, 'admin-secret', { name: 'anything', protocol: 'http', target: String(backend.port) })).toEqual({ live: 'anything' });
    expect(await register(server, 'nobody', { name: 'x', protocol: 'http', target: String(backend.port) })).toMatchObject({ error: 'BURROW_E_UNAUTHENTICATED' });
  });

  it('rejects malformed token specs at start', () => {
    expect(() => new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost', tokens: [{ token: 't', names: ['Bad Name'] }] })).toThrow(/not a tunnel name pattern/);
    expect(() => new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost', tokens: [''] })).toThrow(/empty/);
  });
});
