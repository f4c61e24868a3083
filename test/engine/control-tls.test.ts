// TLS between agent and server: the agent verifies the server's certificate
// unless told not to, and says clearly when it cannot.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentState, TunnelAgent } from '../../src/main/tunnel/agent/tunnel-agent.js';
import type { BurrowError } from '../../src/main/tunnel/errors.js';
import { makeDevCertificate, type DevCertificate } from '../../src/main/tunnel/server/dev-certificate.js';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import { publicRequest, startBackend, waitForLive, type Backend } from '../helpers/common.js';
import { scratchDirectory } from '../helpers/scratch.js';

let cert: DevCertificate;
let otherCert: DevCertificate;
let backend: Backend;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  cert = await makeDevCertificate('localhost', scratchDirectory('burrow-tls-'));
  otherCert = await makeDevCertificate('localhost', scratchDirectory('burrow-tls-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tlsServer(): Promise<TunnelServer> {
  backend = await startBackend((req, res) => res.end(`over tls ${req.url}`));
  cleanups.push(() => backend.close());
  const server = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost', controlTls: cert, tokens: ['t'] });
  await server.start();
  cleanups.push(() => server.stop());
  return server;
}

function agentFor(server: TunnelServer, tls: ConstructorParameters<typeof TunnelAgent>[0]['tls']): TunnelAgent {
  const agent = new TunnelAgent({ server: `127.0.0.1:${server.controlPort}`, token: 't', tls, tunnels: [{ name: 'sec', protocol: 'http', target: String(backend.port) }] });
  cleanups.push(() => agent.stop());
  return agent;
}

describe('control port TLS', () => {
  it('connects when the agent trusts the server certificate (--ca) and carries traffic', async () => {
    const server = await tlsServer();
    const agent = agentFor(server, { ca: cert.cert });
    const live = waitForLive(agent);
    agent.start();
    await live;
    const res = await publicRequest({ port: server.publicPort, host: 'sec.localhost', path: '/x' });
    expect(res.body.toString()).toBe('over tls /x');
  });

  it('connects with --insecure without verifying', async () => {
    const server = await tlsServer();
    const agent = agentFor(server, { insecure: true });
    const live = waitForLive(agent);
    agent.start();
    await live;
    expect(agent.state).toBe(AgentState.Ready);
  });

  it('stops with a clear TLS error when the certificate is not trusted', async () => {
    const server = await tlsServer();
    for (const tls of [{}, { ca: otherCert.cert }]) {
      const agent = agentFor(server, tls);
      const fatal = new Promise<BurrowError>((resolve) => agent.once('fatal', resolve));
      agent.start();
      const error = await fatal;
      expect(error.code).toBe('BURROW_E_TLS_VERIFY');
      expect(error.message).toMatch(/--ca FILE|--insecure/);
      expect(agent.state).toBe(AgentState.Closed);
    }
  });
});
