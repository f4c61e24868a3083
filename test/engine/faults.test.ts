// kill -9 in the middle of traffic: the agent (a real `burrow` process), then
// the local service (a real process too). Every public client in flight gets
// a definite end (an error status, a cut connection, a close or a gRPC
// status), nothing is left pending on the server, and traffic resumes.
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { benchEchoService } from '../../bench/grpc-service.js';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import { publicRequest, repoRoot, spawnCli, spawnNode, type CliProcess } from '../helpers/common.js';
import { scratchDirectory } from '../helpers/scratch.js';

const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

interface Rig {
  server: TunnelServer;
  backend: CliProcess;
  startAgent(): Promise<CliProcess>;
}

/** An in-process server, the benchmark's local service as a process, and a way to start `burrow` agents. */
async function rig(): Promise<Rig> {
  const server = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost' });
  await server.start();
  stops.push(() => server.stop());
  const backend = spawnNode(['--import', 'tsx', join(repoRoot, 'bench/backend.ts')]);
  stops.push(() => backend.kill('SIGKILL'));
  const ports = JSON.parse(await backend.waitForLine(/^\{/)) as { http: number; grpc: number };
  const config = join(scratchDirectory('burrow-faults-'), 'burrow.yaml');
  writeFileSync(config, `server: 127.0.0.1:${server.controlPort}\ntunnels:\n  - { name: f, protocol: http, target: ${ports.http} }\n  - { name: fg, protocol: grpc, target: ${ports.grpc} }\n`);
  const startAgent = async (): Promise<CliProcess> => {
    const agent = spawnCli(['start', '--config', config, '--no-inspect']);
    stops.push(() => agent.kill('SIGKILL'));
    await Promise.all([agent.waitForLine(/^tunnel f: /), agent.waitForLine(/^tunnel fg: /)]);
    return agent;
  };
  return { server, backend, startAgent };
}

type Outcome = string;

/** A 10 GiB download; resolves with how it ended once at least 1 MB has arrived and then it stops. */
function download(port: number): { started: Promise<void>; ended: Promise<Outcome> } {
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const ended = new Promise<Outcome>((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: `/stream/${10 * 2 ** 30}`, headers: { host: 'f.localhost' } }, (res) => {
      let received = 0;
      res.on('data', (chunk: Buffer) => (received += chunk.length) > 1e6 && markStarted());
      res.on('end', () => resolve('complete'));
      res.on('close', () => resolve(res.complete ? 'complete' : 'cut'));
    });
    req.on('error', () => resolve('cut'));
    req.end();
  });
  return { started, ended };
}

/** An upload that never ends by itself; resolves with the status or 'cut'. */
function endlessUpload(port: number): { started: Promise<void>; ended: Promise<Outcome> } {
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  let sent = 0;
  const body = new Readable({
    read() {
      setTimeout(() => {
        sent += 64 * 1024;
        if (sent > 1e6) markStarted();
        this.push(Buffer.alloc(64 * 1024, 'u'));
      }, 2);
    },
  });
  const ended = new Promise<Outcome>((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/sink', headers: { host: 'f.localhost', 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      resolve(`status ${res.statusCode} ${res.headers['x-burrow-error'] ?? ''}`.trim());
    });
    req.on('error', () => resolve('cut'));
    body.pipe(req);
  });
  void ended.then(() => body.destroy());
  return { started, ended };
}

/** An open WebSocket that has echoed once; resolves with how it closed. */
async function openWebSocket(port: number): Promise<{ ended: Promise<Outcome> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host: 'f.localhost' } });
  ws.on('error', () => {});
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send('hello');
  await new Promise((resolve) => ws.once('message', resolve));
  return { ended: new Promise((resolve) => ws.once('close', (code) => resolve(`closed ${code}`))) };
}

/** A gRPC server stream of two billion messages; resolves with its final status once messages flow. */
function grpcStream(port: number): { started: Promise<void>; ended: Promise<Outcome> } {
  const Client = grpc.makeGenericClientConstructor(benchEchoService, 'Echo');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'fg.localhost' }) as unknown as grpc.Client & {
    serverStream(request: Buffer): grpc.ClientReadableStream<Buffer>;
  };
  const request = Buffer.alloc(4 + 16, 's');
  request.writeUInt32BE(2_000_000_000, 0);
  const call = client.serverStream(request);
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  let count = 0;
  call.on('data', () => ++count === 100 && markStarted());
  const ended = new Promise<Outcome>((resolve) => {
    call.on('error', (error: grpc.ServiceError) => resolve(`grpc ${grpc.status[error.code]}`));
    call.on('end', () => resolve('grpc end'));
  });
  void ended.then(() => client.close());
  return { started, ended };
}

describe('kill -9', () => {
  it('of the agent mid-download, mid-upload, mid-WebSocket and mid-gRPC-stream: each client gets a definite end; a new agent takes over', async () => {
    const { server, startAgent } = await rig();
    const agent = await startAgent();
    const port = server.publicPort;
    const down = download(port);
    const up = endlessUpload(port);
    const ws = await openWebSocket(port);
    const rpc = grpcStream(port);
    await Promise.all([down.started, up.started, rpc.started]);

    agent.child.kill('SIGKILL');
    const outcomes = await Promise.all([down.ended, up.ended, ws.ended, rpc.ended]);
    expect(outcomes[0]).toBe('cut');
    expect(outcomes[1]).toMatch(/^(cut|status 502 BURROW_E_(TUNNEL_OFFLINE|DATA_STREAM_LOST))$/);
    expect(outcomes[2]).toMatch(/^closed (1001|1006|1011|1012)$/);
    expect(outcomes[3]).toBe('grpc UNAVAILABLE');
    await vi.waitFor(() => expect(server.pendingExchanges + server.inflightRequests).toBe(0));
    // Its names answer 502 (known, offline) until an agent comes back.
    expect((await publicRequest({ port, host: 'f.localhost', path: '/small' })).headers['x-burrow-error']).toBe('BURROW_E_TUNNEL_OFFLINE');

    await startAgent();
    expect((await publicRequest({ port, host: 'f.localhost', path: '/small' })).body.toString()).toBe('ok');
  });

  it('of the local service mid-download, mid-upload, mid-WebSocket and mid-gRPC-stream: definite ends, the agent stays, and later requests get 502', async () => {
    const { server, backend, startAgent } = await rig();
    const agent = await startAgent();
    const port = server.publicPort;
    const down = download(port);
    const up = endlessUpload(port);
    const ws = await openWebSocket(port);
    const rpc = grpcStream(port);
    await Promise.all([down.started, up.started, rpc.started]);

    backend.child.kill('SIGKILL');
    const outcomes = await Promise.all([down.ended, up.ended, ws.ended, rpc.ended]);
    expect(outcomes[0]).toBe('cut');
    expect(outcomes[1]).toMatch(/^(cut|status 502 BURROW_E_LOCAL_\w+)$/);
    expect(outcomes[2]).toMatch(/^closed (1001|1006|1011)$/);
    expect(outcomes[3]).toMatch(/^grpc (UNAVAILABLE|INTERNAL|CANCELLED)$/);
    await vi.waitFor(() => expect(server.pendingExchanges + server.inflightRequests).toBe(0));

    const after = await publicRequest({ port, host: 'f.localhost', path: '/small' });
    expect(after.status).toBe(502);
    expect(after.headers['x-burrow-error']).toBe('BURROW_E_LOCAL_UNREACHABLE');
    expect(agent.child.exitCode).toBeNull();
  });
});
