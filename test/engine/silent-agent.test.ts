// An agent that stops reading (a stopped process, Ctrl-Z in its terminal)
// with uploads on their way to it: once its heartbeats are overdue, the edge
// cuts its connections. Ending its calls, or destroying their HTTP/2 session,
// left each socket open for as long as a write to it was in progress, which
// such a peer never lets finish: the connection and all queued on it stayed.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { agentBehindStallableLink, eventuallyAsync, startBackend, type Backend, type LinkedAgent } from '../helpers/common.js';
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

describe('an agent that stops reading', () => {
  it('has its connections cut by the edge at the heartbeat timeout, with what was queued on them', { timeout: 60_000 }, async () => {
    backend = await startBackend((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    linked = await agentBehindStallableLink({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1_500 }, backend.port);
    const { server, link } = linked;
    const serverSaw = new Promise<string>((resolve) => server.once('agent-disconnected', (_id, reason) => resolve(reason)));
    const frozen = link.freeze();
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
});
