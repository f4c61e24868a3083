// Edges sharing one domain through a real redis-server: tunnel names are
// claimed cluster-wide (held while an agent is on some live edge, free once
// it leaves or its edge's lease runs out), rate limits hold across edges,
// and losing Redis stops new claims only, until it is back.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisEdgeCluster } from '../../src/main/cluster/redis-edge-cluster.js';
import { TunnelAgent, type TunnelSpec } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { TunnelServer, type TunnelServerOptions } from '../../src/main/tunnel/server/tunnel-server.js';
import { eventually, eventuallyAsync, publicRequest, spawnCli, spawnCliServer, startBackend, type Backend } from '../helpers/common.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
let backend: Backend;
const running: { stop(): unknown }[] = [];

interface Edge {
  server: TunnelServer;
  cluster: RedisEdgeCluster;
}

async function startEdge(options: Partial<TunnelServerOptions> = {}, edgeLeaseMs = 1_000): Promise<Edge> {
  const cluster = new RedisEdgeCluster({ url: redis.url, domain: 'localhost', edgeLeaseMs });
  const server = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost', cluster, ...options });
  await server.start();
  running.push(server);
  return { server, cluster };
}

type Registration = { live: true; name: string } | { live: false; code: string; message: string };

/** An agent with one tunnel on one edge, and how its registration went. */
async function agentOn(edge: Edge, tunnel: TunnelSpec, agentId?: string): Promise<{ agent: TunnelAgent; registration: Registration }> {
  const agent = new TunnelAgent({ server: `127.0.0.1:${edge.server.controlPort}`, tunnels: [tunnel], agentId });
  running.push(agent);
  const registration = new Promise<Registration>((resolve) => {
    agent.once('tunnel-live', (live) => resolve({ live: true, name: live.name }));
    agent.on('tunnel-error', (_name, code, message) => code !== 'BURROW_E_TUNNEL_OFFLINE' && resolve({ live: false, code, message }));
  });
  agent.start();
  return { agent, registration: await registration };
}

const get = (edge: Edge, name: string): Promise<number> => publicRequest({ port: edge.server.publicPort, host: `${name}.localhost` }).then((answer) => answer.status);

beforeAll(async () => {
  redis = await startRedis();
  backend = await startBackend((_req, res) => res.end('ok'));
});

afterEach(async () => {
  for (const each of running.splice(0).reverse()) await each.stop();
});

afterAll(async () => {
  await backend?.close();
  await redis?.stop();
});

describe('edges sharing one Redis', () => {
  it('refuse a name another agent holds on another edge, and give it out once that agent leaves', async () => {
    const [one, two, three] = [await startEdge(), await startEdge(), await startEdge()];
    const first = await agentOn(one, { name: 'alpha', protocol: 'http', target: String(backend.port) });
    expect(first.registration).toEqual({ live: true, name: 'alpha' });
    const second = await agentOn(two, { name: 'alpha', protocol: 'http', target: String(backend.port) });
    expect(second.registration).toMatchObject({ live: false, code: 'BURROW_E_NAME_TAKEN', message: expect.stringContaining(`on edge ${one.cluster.self}`) });
    second.agent.stop();
    expect((await agentOn(three, { name: 'beta', protocol: 'http', target: String(backend.port) })).registration).toEqual({ live: true, name: 'beta' });
    expect([await get(one, 'alpha'), await get(three, 'beta')]).toEqual([200, 200]);

    first.agent.stop();
    await eventually(() => one.server.tunnels().length === 0, 'alpha gone from its edge');
    // Released when its agent left: another agent may have it on another edge.
    await eventuallyAsync(async () => {
      const taker = await agentOn(two, { name: 'alpha', protocol: 'http', target: String(backend.port) });
      if (!taker.registration.live) taker.agent.stop();
      return taker.registration.live;
    }, 'alpha claimed on another edge');
  });

  it('let the same agent hold its name on several edges, each serving it', async () => {
    const edges = [await startEdge(), await startEdge()];
    const agentId = 'one-agent-two-edges';
    for (const edge of edges) expect((await agentOn(edge, { name: 'gamma', protocol: 'http', target: String(backend.port) }, agentId)).registration).toEqual({ live: true, name: 'gamma' });
    expect(await Promise.all(edges.map((edge) => get(edge, 'gamma')))).toEqual([200, 200]);
    const squatter = await agentOn(edges[0]!, { name: 'gamma', protocol: 'http', target: String(backend.port) });
    expect(squatter.registration).toMatchObject({ live: false, code: 'BURROW_E_NAME_TAKEN' });
  });

  it('free the names of an edge killed with -9 once its lease runs out', async () => {
    const survivor = await startEdge();
    const { process: doomed, control } = await spawnCliServer(['--cluster', redis.url]);
    running.push({ stop: () => doomed.kill('SIGKILL') });
    const agent = spawnCli(['http', String(backend.port), '--name', 'delta', '--server', control, '--no-inspect']);
    running.push({ stop: () => agent.kill('SIGKILL') });
    await agent.waitForLine(/^tunnel delta: /);
    expect((await survivor.cluster.edges()).map((edge) => edge.advertise).sort()).toEqual([control, survivor.cluster.self].sort());
    // A crash: no release, no goodbye; only the lease stops being renewed.
    await doomed.kill('SIGKILL');
    await agent.kill('SIGKILL');
    await eventuallyAsync(async () => {
      const taker = await agentOn(survivor, { name: 'delta', protocol: 'http', target: String(backend.port) });
      if (!taker.registration.live) taker.agent.stop();
      return taker.registration.live;
    }, 'delta claimed once the dead edge lease ran out');
    // The list is read on Redis's clock at its own moment; the dead edge leaves it when its lease has run out there too.
    await eventuallyAsync(async () => (await survivor.cluster.edges()).map((edge) => edge.advertise).join() === survivor.cluster.self, 'the dead edge gone from the live edges');
  });

  // Found by the cluster audit: the restarted edge renewed its lease, so its last run's claims held for good, and other edges forwarded to it (404) or refused the name.
  it('free the names of an edge killed with -9 and started again on the same address, which its new run does not hold', async () => {
    const join = async (): Promise<RedisEdgeCluster> => {
      const cluster = new RedisEdgeCluster({ url: redis.url, domain: 'localhost', advertise: '127.0.0.1:1', edgeLeaseMs: 1_000 });
      await cluster.join({ control: '127.0.0.1:1', publicPort: 1 });
      return cluster;
    };
    const survivor = await startEdge();
    const doomed = await join();
    const internals = doomed as unknown as { timer: NodeJS.Timeout; redis: { disconnect(): void } };
    // A crash: its timer and connection gone with the process, nothing released.
    const crash = (): void => {
      clearInterval(internals.timer);
      internals.redis.disconnect();
    };
    running.push({ stop: crash });
    await eventually(() => doomed.reachable, 'the doomed edge to reach Redis');
    expect(await doomed.claim('epsilon', { tokenLabel: '', agentId: 'gone' }, 1)).toEqual({ ok: true });
    const holderList = async (): Promise<string | undefined> => {
      const holders = await survivor.cluster.holders('epsilon');
      return holders === undefined || holders === 'unknown' ? holders : holders.edges.map((edge) => edge.advertise).join();
    };
    await eventuallyAsync(async () => (await holderList()) === '127.0.0.1:1', 'the name held by the doomed edge');
    crash();
    // Started again on the same address: its lease is renewed, the name is not.
    const restarted = await join();
    running.push({ stop: () => restarted.leave() });
    await eventuallyAsync(async () => (await holderList()) === undefined, 'the name to have no live holder');
    expect(await survivor.cluster.claim('epsilon', { tokenLabel: '', agentId: 'new' }, 1)).toEqual({ ok: true });
    expect((await survivor.cluster.edges()).map((edge) => edge.advertise)).toContain('127.0.0.1:1');
  });

  // Found by the cluster audit: every clean stop of an edge logged that Redis was unreachable.
  it('say nothing of Redis being unreachable when an edge leaves by itself', async () => {
    const cluster = new RedisEdgeCluster({ url: redis.url, domain: 'localhost', advertise: '127.0.0.1:2', edgeLeaseMs: 1_000 });
    const heard: boolean[] = [];
    cluster.on('reachability', (reachable) => heard.push(reachable));
    await cluster.join({ control: '127.0.0.1:2', publicPort: 2 });
    await eventually(() => cluster.reachable, 'the edge to reach Redis');
    await cluster.leave();
    // It knows it is away from Redis (a review: it went on saying reachable), without a warning.
    await eventually(() => !cluster.reachable, 'the edge to know it has left Redis');
    expect(heard).toEqual([true]);
    // Joined again, it hears of Redis again.
    await cluster.join({ control: '127.0.0.1:2', publicPort: 2 });
    await eventually(() => cluster.reachable, 'the edge to reach Redis again');
    await cluster.leave();
    expect(heard).toEqual([true, true]);
  });

  it('hold a rate limit across edges: one bucket per tunnel for the whole cluster', async () => {
    const limits = { ratePerTunnel: 2 };
    const edges = [await startEdge({ limits }), await startEdge({ limits }), await startEdge({ limits })];
    for (const edge of edges) await agentOn(edge, { name: 'rated', protocol: 'http', target: String(backend.port) }, 'rated-agent');
    const started = performance.now();
    const statuses = await Promise.all(Array.from({ length: 15 }, (_, i) => get(edges[i % 3]!, 'rated')));
    const seconds = (performance.now() - started) / 1000;
    const allowed = statuses.filter((status) => status === 200).length;
    // A burst of 2, refilled at 2 a second while the burst lasted: never 2 per edge.
    expect(allowed).toBeGreaterThanOrEqual(2);
    expect(allowed).toBeLessThanOrEqual(2 + Math.floor(seconds * 2));
    expect(statuses.filter((status) => status === 429)).toHaveLength(15 - allowed);
  });

  it('keep serving what they hold while Redis is down, refuse new names clearly, start without it, and pick up when it is back', async () => {
    const [one, two] = [await startEdge(), await startEdge()];
    expect((await agentOn(one, { name: 'steady', protocol: 'http', target: String(backend.port) })).registration.live).toBe(true);
    await redis.stop();
    await eventually(() => !one.server.readiness().ready && !two.server.readiness().ready, 'both edges not ready');
    expect(one.server.readiness().reason).toMatch(/shared state is unreachable/);
    expect(await get(one, 'steady')).toBe(200);
    // An edge started during the outage comes up, not ready, and joins when Redis is back.
    const late = await startEdge();
    expect(late.server.readiness().ready).toBe(false);
    // It cannot tell who holds a name: not a definite 404 (the cluster audit saw one from each edge just started), a 503 to ask again.
    const asked = await publicRequest({ port: late.server.publicPort, host: 'steady.localhost' });
    expect([asked.status, asked.headers['x-burrow-error'], asked.headers['retry-after']]).toEqual([503, 'BURROW_E_CLUSTER_UNAVAILABLE', '1']);

    const waiting = await agentOn(two, { name: 'newcomer', protocol: 'http', target: String(backend.port) });
    expect(waiting.registration).toMatchObject({ live: false, code: 'BURROW_E_CLUSTER_UNAVAILABLE', message: expect.stringMatching(/unreachable; names can be claimed again once it is back/) });
    const live = new Promise((resolve) => waiting.agent.once('tunnel-live', resolve));

    await redis.start();
    // The agent asks again by itself; the edge that held "steady" claims it again in the empty Redis.
    await live;
    await eventually(() => [one, two, late].every((edge) => edge.server.readiness().ready), 'every edge ready');
    await eventuallyAsync(async () => (await late.cluster.edges()).length === 3, 'the late edge announced');
    expect(await get(two, 'newcomer')).toBe(200);
    await eventuallyAsync(async () => {
      const squatter = await agentOn(two, { name: 'steady', protocol: 'http', target: String(backend.port) });
      squatter.agent.stop();
      return !squatter.registration.live && squatter.registration.code === 'BURROW_E_NAME_TAKEN';
    }, 'steady held again cluster-wide');
  });
});
