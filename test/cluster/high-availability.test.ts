// One agent on several edges of a cluster: it learns the edges from the one
// it was given, holds `ha` of them (2 by default), every one serving its
// tunnels under the same name, and moves to another edge when one is lost.
import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisEdgeCluster } from '../../src/main/cluster/redis-edge-cluster.js';
import { MultiEdgeAgent } from '../../src/main/tunnel/agent/multi-edge-agent.js';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import { eventually, publicRequest, startBackend, type Backend } from '../helpers/common.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
let backend: Backend;
const running: { stop(): unknown }[] = [];

async function startEdges(count: number): Promise<TunnelServer[]> {
  const edges: TunnelServer[] = [];
  for (let i = 0; i < count; i++) {
    const server = new TunnelServer({
      controlAddress: '127.0.0.1:0',
      publicAddress: '127.0.0.1:0',
      domain: 'localhost',
      cluster: new RedisEdgeCluster({ url: redis.url, domain: 'localhost', edgeLeaseMs: 1_000 }),
    });
    await server.start();
    running.push(server);
    edges.push(server);
  }
  return edges;
}

const control = (edge: TunnelServer): string => `127.0.0.1:${edge.controlPort}`;
const serving = (edges: TunnelServer[], name: string): TunnelServer[] => edges.filter((edge) => edge.tunnels().some((tunnel) => tunnel.name === name));

function startAgent(servers: string[], ha?: number, name = 'app'): MultiEdgeAgent {
  const agent = new MultiEdgeAgent({ servers, ha, tunnels: [{ name, protocol: 'http', target: String(backend.port) }], wakeDetection: false, networkWatch: false });
  running.push(agent);
  agent.start();
  return agent;
}

beforeAll(async () => {
  redis = await startRedis();
  backend = await startBackend((req, res) => res.end(`ok ${req.url}`));
});

afterEach(async () => {
  for (const each of running.splice(0).reverse()) await each.stop();
});

afterAll(async () => {
  await backend?.close();
  await redis?.stop();
});

describe('an agent on several edges', () => {
  it('learns the other edges from the one it was given and holds two of them, each serving its tunnel', async () => {
    const edges = await startEdges(3);
    await eventually(() => edges.every((edge) => edge.readiness().ready), 'edges ready');
    const agent = startAgent([control(edges[0]!)]);
    await eventually(() => serving(edges, 'app').length === 2 && agent.connectedEdges.length === 2, 'the tunnel on two edges');
    expect(agent.connectedEdges).toContain(control(edges[0]!));
    for (const edge of serving(edges, 'app')) expect((await publicRequest({ port: edge.publicPort, host: 'app.localhost', path: '/x' })).body.toString()).toBe('ok /x');
    // One agent, one owner: the same agent id on both edges.
    expect(new Set(serving(edges, 'app').map((edge) => edge.tunnels()[0]!.agentId))).toEqual(new Set([agent.agentId]));
  });

  it('holds as many edges as --ha says', async () => {
    const edges = await startEdges(3);
    const agent = startAgent(edges.map(control), 3);
    await eventually(() => serving(edges, 'app').length === 3 && agent.connectedEdges.length === 3, 'the tunnel on all three edges');
    expect(agent.connectedEdges.sort()).toEqual(edges.map(control).sort());
  });

  it('names an unnamed tunnel once: every edge serves it under the name the first one picked', async () => {
    const edges = await startEdges(2);
    const agent = new MultiEdgeAgent({ servers: edges.map(control), tunnels: [{ protocol: 'http', target: String(backend.port) }], wakeDetection: false, networkWatch: false });
    running.push(agent);
    agent.start();
    await eventually(() => edges.every((edge) => edge.tunnels().length === 1) && agent.connectedEdges.length === 2, 'the tunnel on both edges');
    const names = edges.map((edge) => edge.tunnels()[0]!.name);
    expect(names[0]).toBe(names[1]);
    expect(agent.liveTunnels.map((tunnel) => tunnel.name)).toEqual([names[0]]);
  });

  it('moves to a third edge when one it holds goes away, keeping its name, while the other keeps serving', async () => {
    const edges = await startEdges(3);
    const agent = startAgent(edges.slice(0, 2).map(control));
    await eventually(() => serving(edges, 'app').length === 2, 'the tunnel on two edges');
    const [lost, kept] = serving(edges, 'app') as [TunnelServer, TunnelServer];
    const spare = edges.find((edge) => edge !== lost && edge !== kept)!;
    const errors: string[] = [];
    agent.on('tunnel-error', (_name, code) => errors.push(code));
    await lost.stop();
    // The edge still held: never a failed request while the agent moves.
    for (let i = 0; serving([spare], 'app').length === 0; i++) {
      expect((await publicRequest({ port: kept.publicPort, host: 'app.localhost', path: `/${i}` })).status).toBe(200);
      if (i > 2_000) throw new Error('the agent never moved to the spare edge');
    }
    // The edge registered the tunnel; the agent hears so a moment later.
    await eventually(() => agent.connectedEdges.length === 2, 'the agent connected to the spare edge');
    expect(agent.connectedEdges.sort()).toEqual([control(kept), control(spare)].sort());
    expect((await publicRequest({ port: spare.publicPort, host: 'app.localhost' })).status).toBe(200);
    // Served by an edge all along: the app never heard the tunnel went offline.
    expect(errors).toEqual([]);
  });

  // Found by the cluster audit: with both its edges down it moved between them with no wait, on 1.5 cores for the whole outage.
  it('waits out its backoff on a lost edge when the edge it could move to is down too, and serves from the spare meanwhile', async () => {
    const edges = await startEdges(3);
    const agent = startAgent(edges.slice(0, 2).map(control));
    await eventually(() => serving(edges, 'app').length === 2, 'the tunnel on two edges');
    const spare = edges[2]!;
    const known = (agent as unknown as { known: string[] }).known;
    await eventually(() => known.includes(control(spare)), 'the agent to learn of the spare edge');
    const connects: string[] = [];
    const internals = agent as unknown as { connect(edge: string): void };
    const connect = internals.connect.bind(agent);
    internals.connect = (edge: string) => {
      connects.push(edge);
      connect(edge);
    };
    await Promise.all(edges.slice(0, 2).map((edge) => edge.stop()));
    await eventually(() => serving([spare], 'app').length === 1, 'the agent to move to the spare edge');
    expect((await publicRequest({ port: spare.publicPort, host: 'app.localhost', path: '/moved' })).body.toString()).toBe('ok /moved');
    // Three seconds of the outage: a move now and then (one edge each 2 s at most), not a loop.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(connects.length).toBeLessThanOrEqual(6);
    expect(connects).toContain(control(spare));
  });

  it('opens no connection to a spare edge while it stops: one would register its tunnel there again', async () => {
    const edges = await startEdges(3);
    const held: ServerResponse[] = [];
    const holding = await startBackend((_req, res) => held.push(res));
    const agent = new MultiEdgeAgent({ servers: edges.slice(0, 2).map(control), tunnels: [{ name: 'stopping', protocol: 'http', target: String(holding.port) }], wakeDetection: false, networkWatch: false });
    running.push(agent);
    try {
      agent.start();
      await eventually(() => serving(edges, 'stopping').length === 2, 'the tunnel on two edges');
      const [kept, lost] = serving(edges, 'stopping') as [TunnelServer, TunnelServer];
      const answer = publicRequest({ port: kept.publicPort, host: 'stopping.localhost' });
      await eventually(() => held.length === 1, 'the request to reach the service');
      let began = false;
      const drained = agent.drain(600_000, () => (began = true));
      await eventually(() => began, 'the drain to begin');
      await lost.stop();
      // Its connection to the lost edge given up (and, before, another opened in its place at once).
      const links = (agent as unknown as { links: Map<string, unknown> }).links;
      await eventually(() => !links.has(control(lost)), 'the agent to give up the lost edge');
      expect([...links.keys()]).toEqual([control(kept)]);
      held[0]!.end('finished');
      expect((await answer).body.toString()).toBe('finished');
      await drained;
    } finally {
      await holding.close();
    }
  });
});
