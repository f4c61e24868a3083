// `burrow server` and `burrow http` stopped by a signal with a request under
// way, as a user's Ctrl-C or a service manager's SIGTERM: the request gets
// its answer, the process says what it waits for, a second signal does not
// wait, and --drain-timeout 0 stops at once as before.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, publicRequest, spawnCli, spawnCliServer, startBackend, type Backend, type CliProcess } from '../helpers/common.js';

const started: CliProcess[] = [];
let backend: Backend | undefined;
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.kill('SIGKILL')));
  await backend?.close();
  backend = undefined;
});

/** A service whose every request waits for the test; the held responses in order of arrival. */
async function startHoldingBackend(): Promise<{ port: number; held: ServerResponse[] }> {
  const held: ServerResponse[] = [];
  backend = await startBackend((_req, res) => held.push(res));
  return { port: backend.port, held };
}

async function startTunnel(port: number, agentFlags: string[] = []): Promise<{ server: CliProcess; agent: CliProcess; publicPort: number }> {
  const { process: server, control, publicPort } = await spawnCliServer(['--token', 't'], (args) => {
    const p = spawnCli(args);
    started.push(p);
    return p;
  });
  const agent = spawnCli(['http', String(port), '--name', 'app', '--server', control, '--token', 't', '--no-inspect', ...agentFlags]);
  started.push(agent);
  await agent.waitForLine(/^tunnel app/);
  return { server, agent, publicPort };
}

/** A public request's status, or its error code when it got none. */
function outcome(port: number): Promise<string> {
  return publicRequest({ port, host: 'app.localhost' }).then(
    (response) => `${response.status} ${response.body.toString()}`,
    (error: NodeJS.ErrnoException) => error.code ?? error.message,
  );
}

const drainLine = /stopping: 1 request under way gets up to 10 s to finish \(stop again to cut them now\)/;

/** A tunnel with one request held at the service, and `which` of its processes sent SIGTERM. */
async function stopWithRequestUnderWay(which: 'server' | 'agent', agentFlags: string[] = []) {
  const service = await startHoldingBackend();
  const tunnel = await startTunnel(service.port, agentFlags);
  const answer = outcome(tunnel.publicPort);
  await eventually(() => service.held.length === 1, 'the request to reach the service');
  const stopped = tunnel[which];
  const exited = stopped.kill('SIGTERM');
  const saysItWaits = (): Promise<void> => eventually(() => stopped.stderrLines.some((line) => drainLine.test(line)), `the ${which} to say it waits`);
  return { held: service.held[0]!, answer, stopped, exited, saysItWaits };
}

describe('stopping with a request under way', () => {
  it('the agent lets it finish, says so, and exits 0', async () => {
    const { held, answer, exited, saysItWaits } = await stopWithRequestUnderWay('agent');
    await saysItWaits();
    held.end('finished');
    expect(await answer).toBe('200 finished');
    expect(await exited).toBe(0);
  });

  it('the server lets it finish, says so, and exits 0', async () => {
    const { held, answer, stopped, exited, saysItWaits } = await stopWithRequestUnderWay('server');
    await saysItWaits();
    held.end('finished');
    expect(await answer).toBe('200 finished');
    expect(await exited).toBe(0);
    expect(stopped.stderrLines.some((line) => /server stopped/.test(line))).toBe(true);
  });

  it('a second signal stops at once, cutting it', async () => {
    const { answer, stopped, exited, saysItWaits } = await stopWithRequestUnderWay('server');
    await saysItWaits();
    await stopped.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await answer).not.toMatch(/^200/);
  });

  it('--drain-timeout 0 stops at once, as it did before', async () => {
    const { answer, stopped, exited } = await stopWithRequestUnderWay('agent', ['--drain-timeout', '0']);
    expect(await exited).toBe(0);
    expect(await answer).toMatch(/^502 /);
    expect(stopped.stderrLines.filter((line) => /stopping/.test(line))).toEqual([]);
  });
});
