// After a wake or a network change the agent does not wait for heartbeats to
// time out (here two minutes, longer than any test may run): a resume after
// a long sleep reconnects at once, a network change probes and reconnects
// when the server does not answer, and a probe answered changes nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { AgentState, TunnelAgent, type WakeDecision } from '../../src/main/tunnel/agent/tunnel-agent.js';
import type { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import { agentBehindStallableLink, publicRequest, startBackend, waitForLive, type Backend, type StallableProxy } from '../helpers/common.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  agent: TunnelAgent;
  server: TunnelServer;
  link: StallableProxy;
  backend: Backend;
  states: AgentState[];
}

async function connected(): Promise<Setup> {
  const backend = await startBackend((_req, res) => res.end('awake'));
  cleanups.push(() => backend.close());
  const linked = await agentBehindStallableLink({ heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 120_000 }, backend.port, { wakeDetection: false, networkWatch: false });
  cleanups.push(() => linked.stop());
  const states: AgentState[] = [];
  linked.agent.on('state', (state) => states.push(state));
  return { ...linked, backend, states };
}

describe('waking up', () => {
  it('reconnects at once after a sleep longer than the server waits', async () => {
    const { agent, server, link, states } = await connected();
    link.stall();
    const relive = waitForLive(agent);
    expect(agent.wake('resume', 10 * 60_000)).toBe('reconnect-now');
    await relive;
    expect(states).toEqual([AgentState.Backoff, AgentState.Connecting, AgentState.Ready]);
    expect((await publicRequest({ port: server.publicPort, host: 'app.localhost' })).body.toString()).toBe('awake');
  });

  it('probes after a network change and reconnects when no heartbeat answers', async () => {
    const { agent, server, link, states } = await connected();
    link.stall();
    const decisions: WakeDecision[] = [];
    agent.on('wake', (_signal, decision) => decisions.push(decision));
    const probed = new Promise<boolean>((resolve) => agent.once('probe', resolve));
    const relive = waitForLive(agent);
    expect(agent.wake('network-change')).toBe('probe');
    expect(await probed).toBe(false);
    await relive;
    expect(decisions).toEqual(['probe']);
    expect(states).toEqual([AgentState.Backoff, AgentState.Connecting, AgentState.Ready]);
    expect((await publicRequest({ port: server.publicPort, host: 'app.localhost' })).body.toString()).toBe('awake');
  });

  it('keeps a connection whose server answers the probe', async () => {
    const { agent, states } = await connected();
    const probed = new Promise<boolean>((resolve) => agent.once('probe', resolve));
    expect(agent.wake('unlock')).toBe('probe');
    expect(await probed).toBe(true);
    expect(states).toEqual([]);
    expect(agent.state).toBe(AgentState.Ready);
  });
});
