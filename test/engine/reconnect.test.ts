// The agent survives the server going away and coming back, and the control
// stream survives a broken data stream.
import { afterEach, describe, expect, it } from 'vitest';
import { AgentState, TunnelAgent } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import { agentBehindStallableLink, eventually, holdPort, publicRequest, startBackend, waitForLive, type Backend } from '../helpers/common.js';

let backend: Backend | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await backend?.close();
  backend = undefined;
});

async function startServer(controlPort: number, publicPort: number): Promise<TunnelServer> {
  const server = new TunnelServer({
    controlAddress: `127.0.0.1:${controlPort}`,
    publicAddress: `127.0.0.1:${publicPort}`,
    domain: 'localhost',
    tokens: ['t0ken'],
  });
  await server.start();
  cleanups.push(() => server.stop());
  return server;
}

describe('reconnection', () => {
  it('reconnects after a server restart and traffic flows again, on the same name', async () => {
    backend = await startBackend((req, res) => res.end(`hello ${req.url}`));
    const first = await startServer(0, 0);
    // The restarted server takes the ports the first one was given.
    const [controlPort, publicPort] = [first.controlPort, first.publicPort];
    const agent = new TunnelAgent({ server: `127.0.0.1:${controlPort}`, token: 't0ken', tunnels: [{ name: 'app', protocol: 'http', target: String(backend.port) }] });
    cleanups.push(() => agent.stop());
    const live = waitForLive(agent);
    agent.start();
    await live;
    expect((await publicRequest({ port: publicPort, host: 'app.localhost', path: '/one' })).body.toString()).toBe('hello /one');

    const states: AgentState[] = [];
    agent.on('state', (state) => states.push(state));
    await first.stop();
    await eventually(() => agent.state === AgentState.Backoff, 'the agent to notice the server is gone');

    const relive = waitForLive(agent);
    await startServer(controlPort, publicPort);
    await relive;
    expect(states).toContain(AgentState.Connecting);
    expect(agent.state).toBe(AgentState.Ready);
    expect((await publicRequest({ port: publicPort, host: 'app.localhost', path: '/two' })).body.toString()).toBe('hello /two');
  });

  it('keeps retrying when the server is not up yet at start', async () => {
    backend = await startBackend((_req, res) => res.end('late but fine'));
    const control = await holdPort();
    const agent = new TunnelAgent({ server: `127.0.0.1:${control.port}`, token: 't0ken', tunnels: [{ name: 'app', protocol: 'http', target: String(backend.port) }] });
    cleanups.push(() => agent.stop());
    const details: string[] = [];
    agent.on('state', (state, detail) => state === AgentState.Backoff && details.push(detail));
    agent.start();
    await eventually(() => details.length >= 2, 'two failed attempts');
    expect(details[0]).toMatch(/cannot reach the server/);
    const live = waitForLive(agent);
    await control.release();
    const server = await startServer(control.port, 0);
    await live;
    expect((await publicRequest({ port: server.publicPort, host: 'app.localhost' })).body.toString()).toBe('late but fine');
  });

  it('keeps the control stream and the tunnel when the data stream breaks, then reopens the data stream', async () => {
    let release: (() => void) | undefined;
    backend = await startBackend((req, res) => {
      if (req.url === '/hang') release = () => res.end('too late');
      else res.end('ok');
    });
    const server = await startServer(0, 0);
    const publicPort = server.publicPort;
    const agent = new TunnelAgent({ server: `127.0.0.1:${server.controlPort}`, token: 't0ken', tunnels: [{ name: 'app', protocol: 'http', target: String(backend.port) }] });
    cleanups.push(() => agent.stop());
    const live = waitForLive(agent);
    agent.start();
    await live;
    const states: AgentState[] = [];
    agent.on('state', (state) => states.push(state));
    let relisted = 0;
    agent.on('tunnel-live', () => relisted++);

    const hanging = publicRequest({ port: publicPort, host: 'app.localhost', path: '/hang' });
    await eventually(() => release !== undefined, 'the request to reach the backend');
    expect(server.dropDataStream('app')).toBe(true);

    const failed = await hanging;
    expect(failed.status).toBe(502);
    expect(failed.headers['x-burrow-error']).toBe('BURROW_E_DATA_STREAM_LOST');
    await eventually(() => agent.inflightRequests === 0, 'the agent to drop the broken request');
    release!();

    await eventually(() => server.agentCount === 1, 'the session to stay');
    let res = await publicRequest({ port: publicPort, host: 'app.localhost' });
    for (let tries = 0; res.status !== 200 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      res = await publicRequest({ port: publicPort, host: 'app.localhost' });
    }
    expect(res.body.toString()).toBe('ok');
    // The control stream never dropped: no reconnect, no re-registration.
    expect(states).toEqual([]);
    expect(relisted).toBe(0);
  });

  it('declares a hung link dead by heartbeat timeout on both sides, then reconnects', async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    // Fifteen heartbeats within the timeout: only a link that is really silent misses them all.
    const linked = await agentBehindStallableLink({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1_500 }, backend.port);
    cleanups.push(() => linked.stop());
    const { server, agent, link } = linked;
    // Heartbeats keep a healthy session up past the timeout.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(server.agentCount).toBe(1);
    expect(agent.state).toBe(AgentState.Ready);

    const serverSaw = new Promise<string>((resolve) => server.once('agent-disconnected', (_id, reason) => resolve(reason)));
    const agentSaw = new Promise<string>((resolve) =>
      agent.on('state', (state, detail) => state === AgentState.Backoff && resolve(detail)),
    );
    const relive = waitForLive(agent);
    link.stall();
    expect(await serverSaw).toMatch(/heartbeat timeout/);
    expect(await agentSaw).toMatch(/no heartbeat/);
    // New connections through the relay are forwarded again.
    await relive;
    expect(agent.state).toBe(AgentState.Ready);
  });

  it('closes the connections of a link declared dead, at both ends', { timeout: 60_000 }, async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    const linked = await agentBehindStallableLink({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1_500 }, backend.port);
    cleanups.push(() => linked.stop());
    const { server, agent, link } = linked;
    const relive = waitForLive(agent);
    link.stall();
    await relive;
    // The relay passes no close on: each end has to close its side itself. The server's side
    // stayed open for good, with whatever was queued on it (its calls were only ended).
    // Each within its keepalive's interval and timeout (the agent's are the default heartbeats').
    await eventually(() => link.stalledOpen === 0, 'both ends to close the dead connections', 30_000);
    expect(server.agentCount).toBe(1);
    expect((await publicRequest({ port: server.publicPort, host: 'app.localhost' })).body.toString()).toBe('ok');
  });
});
