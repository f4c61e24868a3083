// The data stream as one call for each direction, each on a connection of
// its own (data-direction.ts), and as one call for both with a server from
// before that.
import { createHash, randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelAgent } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { dataDirectionKey } from '../../src/main/tunnel/data-direction.js';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import { TunnelClient } from '../../src/main/tunnel/tunnel-codec.js';
import { agentBehindStallableLink, publicRequest, startBackend, startStallableProxy, waitForLive, type Backend, type LinkedAgent } from '../helpers/common.js';

let backend: Backend | undefined;
let linked: LinkedAgent | undefined;

afterEach(async () => {
  await linked?.stop();
  await backend?.close();
  linked = backend = undefined;
});

/** An echo service, and an agent for it behind a relay that counts the agent's connections. */
async function echoBehindRelay(takesUplink: boolean): Promise<LinkedAgent> {
  backend = await startBackend((req, res) => {
    res.writeHead(200);
    req.pipe(res);
  });
  return agentBehindStallableLink({ takesUplink }, backend.port);
}

async function startServer(): Promise<TunnelServer> {
  const server = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost' });
  await server.start();
  return server;
}

async function echoes(port: number): Promise<void> {
  const body = randomBytes(3 * 1024 * 1024 + 1);
  const answer = await publicRequest({ port, host: 'app.localhost', method: 'POST', path: '/', body });
  expect(answer.status).toBe(200);
  expect(createHash('sha256').update(answer.body).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
}

describe('data stream directions', () => {
  it('sends the agent\'s answers on a connection of their own, with a server that takes an uplink', async () => {
    linked = await echoBehindRelay(true);
    await echoes(linked.server.publicPort);
    // The control stream and the downlink share one; the uplink has its own.
    expect(linked.link.accepted).toBe(2);
  });

  it('keeps both directions on one call and one connection with a server from before uplinks', async () => {
    linked = await echoBehindRelay(false);
    await echoes(linked.server.publicPort);
    expect(linked.link.accepted).toBe(1);
  });

  it('keeps both directions on one connection when the uplink\'s reaches another server (a load balancer before several)', async () => {
    backend = await startBackend((req, res) => {
      res.writeHead(200);
      req.pipe(res);
    });
    const [first, second] = await Promise.all([startServer(), startServer()]);
    // Connections go to the two servers in turn, as through a TCP load balancer: the uplink's to the one without our session.
    const balancer = await startStallableProxy(first.controlPort, second.controlPort);
    const agent = new TunnelAgent({ server: `127.0.0.1:${balancer.port}`, tunnels: [{ name: 'app', protocol: 'http', target: String(backend.port) }] });
    const lost: string[] = [];
    agent.on('data-stream', (event, detail) => event === 'lost' && lost.push(detail));
    const live = waitForLive(agent);
    agent.start();
    try {
      await live;
      await echoes(first.publicPort);
      expect(lost).toEqual([expect.stringMatching(/uplink's connection reached another server/)]);
    } finally {
      agent.stop();
      await balancer.close();
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('refuses a data call whose direction no version sends', async () => {
    linked = await echoBehindRelay(true);
    const client = new TunnelClient(`127.0.0.1:${linked.server.controlPort}`, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set(dataDirectionKey, 'sideways');
    const call = client.proxy(metadata);
    const error = await new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    client.close();
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/downlink.*uplink/);
  });
});
