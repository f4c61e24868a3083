// `burrow server` and `burrow http` stopped by a signal with a request under
// way, as a user's Ctrl-C or a service manager's SIGTERM: the request gets
// its answer, the process says what it waits for, a second signal does not
// wait, and --drain-timeout 0 stops at once as before.
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { connect as connectHttp2, type IncomingHttpHeaders } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, publicRequest, spawnCli, spawnCliServer, startBackend, type Backend, type CliProcess } from '../helpers/common.js';
import { startEchoBackend } from '../helpers/grpc-echo.js';

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
  it('the agent lets it finish, says so, is not ready meanwhile, and exits 0', async () => {
    const { held, answer, stopped, exited, saysItWaits } = await stopWithRequestUnderWay('agent', ['--admin', '127.0.0.1:0']);
    await saysItWaits();
    const admin = /(http:\/\/\S+)/.exec(stopped.stdoutLines.find((line) => line.startsWith('admin:'))!)![1]!;
    expect((await fetch(`${admin}/readyz`)).status).toBe(503);
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

  it('a second signal stops at once, cutting it with an answer that says so, and says how many it cut', async () => {
    const { answer, stopped, exited, saysItWaits } = await stopWithRequestUnderWay('server');
    await saysItWaits();
    await stopped.kill('SIGINT');
    expect(await exited).toBe(0);
    // Not an empty reply from a process gone: 503, to be tried again elsewhere.
    expect(await answer).toBe('503 the tunnel server is stopping\n');
    expect(stopped.stderrLines.some((line) => /stopped: 1 request was still under way, and cut/.test(line))).toBe(true);
  });

  it('the agent past its --drain-timeout cuts what is left and says so', async () => {
    const { answer, stopped, exited } = await stopWithRequestUnderWay('agent', ['--drain-timeout', '200']);
    expect(await exited).toBe(0);
    expect(await answer).toMatch(/^502 /);
    expect(stopped.stderrLines).toContain('burrow: stopped: 1 request was still under way, and cut');
  });

  it('--drain-timeout 0 stops at once, as it did before', async () => {
    const { answer, stopped, exited } = await stopWithRequestUnderWay('agent', ['--drain-timeout', '0']);
    expect(await exited).toBe(0);
    expect(await answer).toMatch(/^502 /);
    expect(stopped.stderrLines.filter((line) => /stopping/.test(line))).toEqual([]);
  });

  it('a gRPC stream the server cuts ends UNAVAILABLE, its status written before the connection goes (it read INTERNAL)', async () => {
    const echo = await startEchoBackend();
    try {
      const { process: server, control, publicPort } = await spawnCliServer(['--token', 't', '--drain-timeout', '0'], (args) => {
        const p = spawnCli(args);
        started.push(p);
        return p;
      });
      const agent = spawnCli(['grpc', String(echo.port), '--name', 'rpc', '--server', control, '--token', 't', '--no-inspect']);
      started.push(agent);
      await agent.waitForLine(/^tunnel rpc/);
      // Read as HTTP/2 frames, not through a gRPC client, which reads a stream reset with no status as UNAVAILABLE too.
      const session = connectHttp2(`http://127.0.0.1:${publicPort}`);
      session.on('error', () => {});
      try {
        const stream = session.request({ ':method': 'POST', ':path': '/burrow.test.v1.EchoService/ServerStream', ':authority': 'rpc.localhost', 'content-type': 'application/grpc', te: 'trailers' });
        stream.on('error', () => {});
        // One message, StreamRequest { count: 0 }: a stream that never ends.
        stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, 0x00]));
        const trailers = new Promise<IncomingHttpHeaders>((resolve) => stream.once('trailers', resolve).once('close', () => resolve({})));
        await once(stream, 'data');
        expect(await server.kill('SIGTERM')).toBe(0);
        expect((await trailers)['grpc-status']).toBe(String(grpc.status.UNAVAILABLE));
      } finally {
        session.destroy();
      }
    } finally {
      echo.stop();
    }
  });
});
