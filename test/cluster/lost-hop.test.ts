// A request forwarded to the edge holding its tunnel, when that edge dies
// before answering: the client hears that the edge holding the tunnel was
// lost (the tunnel offline), not that its local service failed; the
// forwarding edge reaches that edge as the agent reaches a service, and
// worded the failure so, though the user's service was fine all along.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEdgeCluster } from '../../src/main/cluster/redis-edge-cluster.js';
import { TunnelAgent } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import { eventually, publicRequest, spawnCliServer, startBackend, waitForLive, type Backend, type CliProcess } from '../helpers/common.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
let backend: Backend;
let holding: CliProcess;
let forwarding: TunnelServer;
let agent: TunnelAgent;
/** Requests the service has and has not answered: it answers none, so the holding edge dies with one in flight. */
let arrived = 0;

beforeAll(async () => {
  redis = await startRedis();
  backend = await startBackend((req) => {
    arrived++;
    req.resume();
  });
  const edge = await spawnCliServer(['--domain', 'localhost', '--cluster', redis.url]);
  holding = edge.process;
  forwarding = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost', cluster: new RedisEdgeCluster({ url: redis.url, domain: 'localhost', edgeLeaseMs: 1_000 }) });
  await forwarding.start();
  agent = new TunnelAgent({ server: edge.control, tunnels: [{ name: 'app', protocol: 'http', target: String(backend.port) }] });
  const live = waitForLive(agent, 1);
  agent.start();
  await live;
  await eventually(() => forwarding.readiness().ready, 'the forwarding edge ready');
});

afterAll(async () => {
  agent?.stop();
  await forwarding?.stop();
  await holding?.kill('SIGKILL');
  await backend?.close();
  await redis?.stop();
});

describe('a forwarded request whose holding edge dies before answering', () => {
  it('gets 502 saying the edge holding the tunnel was lost, not the local service', async () => {
    const answer = publicRequest({ port: forwarding.publicPort, host: 'app.localhost', path: '/waits' });
    await eventually(() => arrived === 1, 'the request at the service, through both edges');
    await holding.kill('SIGKILL');
    const { status, headers, body } = await answer;
    expect(status).toBe(502);
    expect(headers['x-burrow-error']).toBe('BURROW_E_TUNNEL_OFFLINE');
    expect(body.toString()).toMatch(/^the edge holding the tunnel, at 127\.0\.0\.1:\d+: /);
  });
});
