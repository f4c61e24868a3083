// A peer that stops reading (a stopped process, Ctrl-Z in its terminal)
// with bodies on their way to it: once its heartbeats are overdue, the other
// end cuts their connections. Ending its calls, closing its client or
// destroying their HTTP/2 session left each socket open for as long as a
// write to it was in progress, which such a peer never lets finish: the
// connection and all queued on it stayed.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { agentBehindStallableLink, eventually, eventuallyAsync, startBackend, type Backend, type LinkedAgent } from '../helpers/common.js';
import { tcpState } from '../helpers/tcp-state.js';

let backend: Backend | undefined;
let linked: LinkedAgent | undefined;

afterEach(async () => {
  await linked?.stop();
  await backend?.close();
  linked = backend = undefined;
});

/** An upload of `bytes` that never ends, until the tunnel fails it. */
function endlessUpload(port: number, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers: { host: 'app.localhost', 'content-length': bytes + 1 } }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', () => resolve());
    });
    req.on('error', () => resolve());
    req.write(Buffer.alloc(bytes));
  });
}

/** A download of `bytes` that the test never reads to its end. */
function unreadDownload(port: number, bytes: number): void {
  const req = request({ port, host: '127.0.0.1', path: `/bytes/${bytes}`, headers: { host: 'app.localhost' } }, (res) => res.on('error', () => {}));
  req.on('error', () => {});
  req.end();
}

describe('a peer that stops reading', () => {
  it('an agent: has its connections cut by the edge at the heartbeat timeout, with what was queued on them', { timeout: 60_000 }, async () => {
    backend = await startBackend((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    linked = await agentBehindStallableLink({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1_500 }, backend.port);
    const { server, link } = linked;
    const serverSaw = new Promise<string>((resolve) => server.once('agent-disconnected', (_id, reason) => resolve(reason)));
    const frozen = link.freeze().toTarget;
    // Far more than the kernel's buffers take: the edge's writes to the agent stay in progress.
    const uploads = Array.from({ length: 16 }, () => endlessUpload(server.publicPort, 4 * 1024 * 1024));
    expect(await serverSaw).toMatch(/heartbeat timeout/);
    await Promise.all(uploads);
    // The edge no longer holds its end of any of them (FIN_WAIT1: the kernel has what was queued, on its own).
    await eventuallyAsync(async () => {
      const states = await Promise.all(frozen.map((port) => tcpState(server.controlPort, port)));
      return states.every((state) => state !== 'ESTABLISHED');
    }, 'the edge to let go of the frozen connections', 30_000);
  });

  it('a server: has the agent cut its connections at the heartbeat timeout, with the answers queued on them', { timeout: 60_000 }, async () => {
    let asked = 0;
    backend = await startBackend((req, res) => {
      asked++;
      res.writeHead(200);
      // Far more than the kernel's buffers take, written as fast as the agent reads.
      const block = Buffer.alloc(64 * 1024);
      const write = (): void => {
        while (!res.destroyed && res.write(block));
        if (!res.destroyed) res.once('drain', write);
      };
      write();
      req.on('close', () => res.destroy());
    });
    linked = await agentBehindStallableLink({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1_500 }, backend.port);
    const { agent, server, link } = linked;
    for (let i = 0; i < 16; i++) unreadDownload(server.publicPort, 1 << 30);
    await eventually(() => asked === 16, 'the service to get every download');
    const agentSaw = new Promise<void>((resolve) => agent.on('state', (_state, detail) => /no heartbeat/.test(detail) && resolve()));
    const frozen = link.freeze().fromClient;
    await agentSaw;
    await eventuallyAsync(async () => {
      const states = await Promise.all(frozen.map((port) => tcpState(port, link.port)));
      return states.every((state) => state !== 'ESTABLISHED');
    }, 'the agent to let go of the frozen connections', 30_000);
  });
});
