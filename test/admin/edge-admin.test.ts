// The edge's admin endpoints against a real server, agents and backends:
// /metrics read through a Prometheus text parser moves with the traffic,
// health and readiness answer, the token guards what it should.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { AdminServer, adminExposureProblem, isLoopback } from '../../src/main/admin/admin-server.js';
import { EdgeMetrics } from '../../src/main/admin/edge-metrics.js';
import { TunnelAgent } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import { rawRequest } from '../conformance/raw-http.js';
import { eventuallyAsync, publicRequest, startBackend, waitForLive, type Backend } from '../helpers/common.js';
import { echoClient, startEchoBackend } from '../helpers/grpc-echo.js';
import { promClientDefaultsLint, promtoolProblems, scrape, type Scrape } from '../helpers/prometheus.js';

const adminToken = 'admin-secret';
let now = 0;
let backend: Backend;
let slowResponses: (() => void)[] = [];
let wsBackend: Backend;
let grpcBackend: Awaited<ReturnType<typeof startEchoBackend>>;
let server: TunnelServer;
let agent: TunnelAgent;
let admin: AdminServer;

function startAdmin(tunnelServer: TunnelServer): Promise<AdminServer> {
  return AdminServer.start({ host: '127.0.0.1', port: 0, token: adminToken, endpoints: new EdgeMetrics(tunnelServer, 'edge-under-test') });
}

const metrics = (): Promise<Scrape> => scrape(`${admin.url}/metrics`, adminToken);
const get = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> => fetch(`${admin.url}${path}`, { headers, method });
/** Every rate-limit bucket full again: the limiter's clock moves only when a test says so. */
const refill = (): void => void (now += 60_000);

beforeAll(async () => {
  backend = await startBackend((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      if (req.url === '/slow') slowResponses.push(() => res.end('slow'));
      else res.end(`got ${size}`);
    });
  });
  wsBackend = await startBackend((_req, res) => res.end('plain'));
  new WebSocketServer({ server: wsBackend.server }).on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  grpcBackend = await startEchoBackend();
  server = new TunnelServer({
    controlAddress: '127.0.0.1:0',
    publicAddress: '127.0.0.1:0',
    domain: 'localhost',
    tokens: ['agent-secret'],
    limits: { ratePerTunnel: 5, maxBodyBytes: 64 * 1024 },
    // Unknown names get 404 from the start (reconnect-grace.test.ts has the grace).
    reconnectGraceMs: 0,
    clock: () => now,
    // Frequent heartbeats for round-trip samples; a wide timeout, so a busy machine never drops the agent between tests.
    config: { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 60_000 },
  });
  await server.start();
  admin = await startAdmin(server);
  agent = new TunnelAgent({
    server: `127.0.0.1:${server.controlPort}`,
    token: 'agent-secret',
    tunnels: [
      { name: 'app', protocol: 'http', target: String(backend.port) },
      { name: 'ws', protocol: 'http', target: String(wsBackend.port) },
      { name: 'rpc', protocol: 'grpc', target: String(grpcBackend.port) },
    ],
  });
  const live = waitForLive(agent, 3);
  agent.start();
  await live;
});

afterAll(async () => {
  agent?.stop();
  await admin?.stop();
  await server?.stop();
  grpcBackend?.stop();
  await wsBackend?.close();
  await backend?.close();
});

describe('edge admin endpoints', () => {
  it('answers health and readiness openly and wants the token for metrics and tunnels', async () => {
    expect([(await get('/healthz')).status, await (await get('/healthz')).json()]).toEqual([200, { alive: true }]);
    expect([(await get('/readyz')).status, await (await get('/readyz')).json()]).toEqual([200, { ready: true }]);
    for (const path of ['/metrics', '/api/tunnels']) {
      const bare = await get(path);
      expect([bare.status, bare.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="burrow admin"']);
      expect((await get(path, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await get(path, { authorization: `Bearer ${adminToken}` })).status).toBe(200);
    }
    const posted = await get('/metrics', {}, 'POST');
    expect([posted.status, posted.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    expect((await get('/nothing-here')).status).toBe(404);
    // Node's parser lets a target through that is no URL; it is the client's mistake, not a 500.
    const noUrl = await rawRequest(Number(new URL(admin.url).port), 'GET http://[/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(noUrl.status).toBe(400);
    expect((await rawRequest(Number(new URL(admin.url).port), 'GET // HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).status).toBe(404);
    const text = await (await get('/metrics', { authorization: `Bearer ${adminToken}` })).text();
    expect(text).toContain('# TYPE burrow_requests_total counter');
  });

  it("exposes metrics that Prometheus's promtool parses and finds nothing wrong with", async () => {
    refill();
    await publicRequest({ port: server.publicPort, host: 'app.localhost' });
    await publicRequest({ port: server.publicPort, host: 'nobody.localhost' });
    const text = await (await get('/metrics', { authorization: `Bearer ${adminToken}` })).text();
    expect(promtoolProblems(text).filter((line) => !promClientDefaultsLint.test(line))).toEqual([]);
    expect(promtoolProblems('burrow_broken{ 1\n')).not.toEqual([]);
  });

  it('counts requests by tunnel, protocol and status class, with bytes each way and latency', async () => {
    refill();
    const before = await metrics();
    const answers = await Promise.all([0, 1, 2].map(() => publicRequest({ port: server.publicPort, host: 'app.localhost', method: 'POST', body: Buffer.alloc(1000) })));
    expect(answers.map((answer) => [answer.status, answer.body.toString()])).toEqual(Array(3).fill([200, 'got 1000']));
    expect((await publicRequest({ port: server.publicPort, host: 'nobody.localhost' })).status).toBe(404);
    const after = await metrics();
    const app = { tunnel: 'app', protocol: 'http', status_class: '2xx' };
    expect(after.value('burrow_requests_total', app) - before.value('burrow_requests_total', app)).toBe(3);
    const delta = (name: string, labels: Record<string, string>): number => after.value(name, labels) - before.value(name, labels);
    expect(delta('burrow_request_bytes_total', { tunnel: 'app', direction: 'in' })).toBe(3000);
    expect(delta('burrow_request_bytes_total', { tunnel: 'app', direction: 'out' })).toBe(3 * 'got 1000'.length);
    expect(after.count('burrow_request_duration_seconds', { tunnel: 'app', protocol: 'http' }) - before.count('burrow_request_duration_seconds', { tunnel: 'app', protocol: 'http' })).toBe(3);
    expect(delta('burrow_requests_total', { tunnel: '_none', protocol: 'http', status_class: '4xx' })).toBe(1);
    expect(delta('burrow_rejections_total', { reason: 'no_tunnel' })).toBe(1);
    expect(after.type('burrow_request_duration_seconds')).toBe('HISTOGRAM');
    // Process metrics come with the prefix too.
    expect(after.has('burrow_process_resident_memory_bytes')).toBe(true);
  });

  it('counts gRPC calls by the status the caller got, and WebSocket sessions as 101 with their message bytes', async () => {
    refill();
    const before = await metrics();
    const client = echoClient(server.publicPort, 'rpc');
    const unary = (request: object): Promise<number> =>
      new Promise((resolve) => client.unary(request, (error: grpc.ServiceError | null) => resolve(error?.code ?? grpc.status.OK)));
    expect(await unary({ text: 'hi' })).toBe(grpc.status.OK);
    expect(await unary({ failWith: grpc.status.NOT_FOUND })).toBe(grpc.status.NOT_FOUND);
    client.close();

    const ws = new WebSocket(`ws://127.0.0.1:${server.publicPort}/`, { headers: { host: 'ws.localhost' } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const echoed = new Promise((resolve) => ws.once('message', resolve));
    ws.send('twelve bytes');
    await echoed;
    ws.close();
    await new Promise((resolve) => ws.once('close', resolve));

    const wsLabels = { tunnel: 'ws', protocol: 'websocket', status_class: '1xx' };
    await eventuallyAsync(async () => (await metrics()).value('burrow_requests_total', wsLabels) > before.value('burrow_requests_total', wsLabels), 'the WebSocket session counted');
    const after = await metrics();
    const delta = (name: string, labels: Record<string, string>): number => after.value(name, labels) - before.value(name, labels);
    expect(delta('burrow_grpc_calls_total', { tunnel: 'rpc', grpc_status: 'OK' })).toBe(1);
    expect(delta('burrow_grpc_calls_total', { tunnel: 'rpc', grpc_status: 'NOT_FOUND' })).toBe(1);
    expect(delta('burrow_requests_total', { tunnel: 'rpc', protocol: 'grpc', status_class: '2xx' })).toBe(2);
    expect(delta('burrow_requests_total', wsLabels)).toBe(1);
    expect(delta('burrow_request_bytes_total', { tunnel: 'ws', direction: 'in' })).toBeGreaterThanOrEqual('twelve bytes'.length);
  });

  it('counts rejections by reason: rate, limits, tokens and names', async () => {
    refill();
    const before = await metrics();
    const burst = await Promise.all(Array.from({ length: 8 }, () => publicRequest({ port: server.publicPort, host: 'app.localhost' })));
    expect(burst.filter((answer) => answer.status === 429)).toHaveLength(3);
    refill();
    expect((await publicRequest({ port: server.publicPort, host: 'app.localhost', method: 'POST', body: Buffer.alloc(65 * 1024) })).status).toBe(413);

    const impostor = new TunnelAgent({ server: `127.0.0.1:${server.controlPort}`, token: 'wrong', tunnels: [] });
    const fatal = new Promise((resolve) => impostor.once('fatal', resolve));
    impostor.start();
    await fatal;
    const squatter = new TunnelAgent({ server: `127.0.0.1:${server.controlPort}`, token: 'agent-secret', tunnels: [{ name: 'app', protocol: 'http', target: '1' }] });
    const refused = new Promise<string>((resolve) => squatter.once('tunnel-error', (_name, code) => resolve(code)));
    squatter.start();
    expect(await refused).toBe('BURROW_E_NAME_TAKEN');
    squatter.stop();

    const after = await metrics();
    const delta = (reason: string): number => after.value('burrow_rejections_total', { reason }) - before.value('burrow_rejections_total', { reason });
    expect([delta('rate_limited'), delta('body_too_large'), delta('unauthenticated'), delta('name_taken')]).toEqual([3, 1, 1, 1]);
    expect(after.value('burrow_requests_total', { tunnel: 'app', protocol: 'http', status_class: '4xx' })).toBeGreaterThanOrEqual(4);
  });

  it('shows agents, tunnels and requests in flight, heartbeat round trips and data-stream reconnects', async () => {
    refill();
    const slow = publicRequest({ port: server.publicPort, host: 'app.localhost', path: '/slow' });
    await eventuallyAsync(async () => (await metrics()).value('burrow_requests_in_flight', { tunnel: 'app' }) === 1, 'the slow request in flight');
    const listed = (await (await get('/api/tunnels', { authorization: `Bearer ${adminToken}` })).json()) as { tunnels: { tunnel: string; agent: string; edge: string; since: string; protocol: string; counters: Record<string, number> }[] };
    const app = listed.tunnels.find((tunnel) => tunnel.tunnel === 'app')!;
    expect(listed.tunnels.map((tunnel) => tunnel.tunnel).sort()).toEqual(['app', 'rpc', 'ws']);
    expect(app).toMatchObject({ agent: agent.agentId, edge: 'edge-under-test', protocol: 'http', counters: { inFlight: 1 } });
    expect(app.counters.requests).toBeGreaterThanOrEqual(3);
    expect(Date.parse(app.since)).not.toBeNaN();
    slowResponses.forEach((respond) => respond());
    slowResponses = [];
    expect((await slow).body.toString()).toBe('slow');

    const scrape1 = await metrics();
    expect([scrape1.value('burrow_agents_connected'), scrape1.value('burrow_tunnels_registered'), scrape1.value('burrow_requests_in_flight', { tunnel: 'app' })]).toEqual([1, 3, 0]);
    await eventuallyAsync(async () => (await metrics()).count('burrow_heartbeat_round_trip_seconds') > 0, 'a heartbeat round trip measured');
    const reconnectsBefore = scrape1.value('burrow_data_stream_reconnects_total');
    server.dropDataStream('app');
    await eventuallyAsync(async () => (await metrics()).value('burrow_data_stream_reconnects_total') === reconnectsBefore + 1, 'the data stream reconnect counted');
  });

  it('says not ready once its server stops accepting agents', async () => {
    const other = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost' });
    await other.start();
    const otherAdmin = await startAdmin(other);
    try {
      expect((await fetch(`${otherAdmin.url}/readyz`)).status).toBe(200);
      await other.stop();
      const answer = await fetch(`${otherAdmin.url}/readyz`);
      expect([answer.status, await answer.json()]).toEqual([503, { ready: false, reason: 'the server is not accepting agents (starting or stopping)' }]);
      expect((await fetch(`${otherAdmin.url}/healthz`)).status).toBe(200);
    } finally {
      await otherAdmin.stop();
    }
  });

  it('serves only on loopback unless a token guards it', async () => {
    expect(['127.0.0.1', 'localhost', '::1', '[::1]', '127.8.9.10'].map(isLoopback)).toEqual([true, true, true, true, true]);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com'].map(isLoopback)).toEqual([false, false, false, false]);
    expect(adminExposureProblem('0.0.0.0', undefined)).toMatch(/not a loopback address: give --admin-token/);
    expect(adminExposureProblem('0.0.0.0', 'T')).toBeUndefined();
    // Refused before it binds anything.
    await expect(AdminServer.start({ host: '0.0.0.0', port: 0, endpoints: { registry: { contentType: '', metrics: async () => '' }, readiness: () => ({ ready: true }), tunnels: () => [] } })).rejects.toThrow(/not a loopback address/);
  });
});
