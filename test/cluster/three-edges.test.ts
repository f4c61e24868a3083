// Three `burrow server --cluster` processes on one Redis, and two agents as
// a user runs them: every tunnel answers through every edge (HTTP with a
// 50 MB streamed body, WebSocket, gRPC bidi), a name another agent holds is
// refused, an edge killed with -9 mid-traffic fails only what was on it,
// and losing Redis stops no traffic.
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { bodyDigest, eventuallyAsync, publicRequest, spawnCli, spawnCliServer, startBackend, type Backend, type CliProcess } from '../helpers/common.js';
import { echoClient, startEchoBackend, type EchoResponse } from '../helpers/grpc-echo.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

interface Edge {
  process: CliProcess;
  control: string;
  publicPort: number;
  admin: string;
}

let redis: RedisServer;
let backend: Backend;
let grpcBackend: Awaited<ReturnType<typeof startEchoBackend>>;
const edges: Edge[] = [];
const agents: CliProcess[] = [];
const started: CliProcess[] = [];

/** POSTs `total` bytes in 1 MiB chunks as they drain; resolves with what the backend says it got, and the hash sent. */
function streamUpload(port: number, total: number): Promise<{ status: number; got: { size: number; sha: string }; sent: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { host: 'app.localhost' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, got: JSON.parse(Buffer.concat(chunks).toString()), sent: hash.digest('hex') }));
    });
    req.on('error', reject);
    let written = 0;
    const pump = (): void => {
      while (written < total) {
        const chunk = randomBytes(Math.min(1024 * 1024, total - written));
        written += chunk.length;
        hash.update(chunk);
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

async function webSocketEcho(port: number): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host: 'app.localhost' } });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const echoed = new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())));
  ws.send(`hello ${port}`);
  const text = await echoed;
  ws.close();
  return text;
}

async function grpcBidi(port: number): Promise<string[]> {
  const client = echoClient(port, 'rpc');
  const call = client.bidi() as grpc.ClientDuplexStream<object, EchoResponse>;
  const replies: string[] = [];
  call.on('data', (reply: EchoResponse) => replies.push(reply.text));
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  for (const text of ['x', 'y']) call.write({ text });
  call.end();
  const { code } = await status;
  client.close();
  return code === grpc.status.OK ? replies : [`status ${code}`];
}

const get = (port: number, path = '/'): Promise<number> => publicRequest({ port, host: 'app.localhost', path }).then((answer) => answer.status);

beforeAll(async () => {
  redis = await startRedis();
  backend = await startBackend((req, res) => void bodyDigest(req).then(({ size, sha256 }) => res.end(JSON.stringify({ size, sha: sha256 }))));
  new WebSocketServer({ server: backend.server }).on('connection', (ws) => ws.on('message', (data) => ws.send(data.toString())));
  grpcBackend = await startEchoBackend();
  for (let i = 0; i < 3; i++) {
    const { process, control, publicPort } = await spawnCliServer(['--cluster', redis.url, '--admin', '127.0.0.1:0']);
    started.push(process);
    const admin = /(http:\/\/\S+)/.exec(await process.waitForLine(/admin on/))![1]!;
    edges.push({ process, control, publicPort, admin });
  }
  // Each agent is given one edge and learns the others.
  for (const [protocol, name, port, edge] of [['http', 'app', backend.port, edges[0]!], ['grpc', 'rpc', grpcBackend.port, edges[1]!]] as const) {
    const agent = spawnCli([protocol, String(port), '--name', name, '--server', edge.control, '--no-inspect']);
    started.push(agent);
    agents.push(agent);
    await agent.waitForLine(new RegExp(`^tunnel ${name}: `));
  }
  await eventuallyAsync(async () => (await Promise.all(edges.map((edge) => get(edge.publicPort)))).every((status) => status === 200), 'app answering through every edge');
});

afterAll(async () => {
  await Promise.all(started.map((p) => p.kill('SIGKILL')));
  grpcBackend?.stop();
  await backend?.close();
  await redis?.stop();
});

describe('three edges, two agents, one Redis', () => {
  it('answer every tunnel through every edge: a 50 MB streamed upload, a WebSocket echo, a gRPC bidi stream', async () => {
    for (const edge of edges) {
      const upload = await streamUpload(edge.publicPort, 50 * 1024 * 1024);
      expect([upload.status, upload.got.size, upload.got.sha]).toEqual([200, 50 * 1024 * 1024, upload.sent]);
      expect(await webSocketEcho(edge.publicPort)).toBe(`hello ${edge.publicPort}`);
      expect(await grpcBidi(edge.publicPort)).toEqual(['echo:x', 'echo:y']);
    }
  });

  it('refuse a name another agent holds, whichever edge it asks', async () => {
    const squatter = spawnCli(['http', String(backend.port), '--name', 'app', '--server', edges[2]!.control, '--no-inspect']);
    started.push(squatter);
    expect(await squatter.exited).toBe(1);
    expect(squatter.stderrLines.join('\n')).toMatch(/tunnel name "app" is already in use by another agent/);
  });

  it('keep every tunnel answering while Redis is down (not ready for new names) and after it is back', async () => {
    const readiness = (): Promise<number[]> => Promise.all(edges.map(async (edge) => (await fetch(`${edge.admin}/readyz`)).status));
    await redis.stop();
    await eventuallyAsync(async () => (await readiness()).every((status) => status === 503), 'every edge not ready');
    for (const edge of edges) expect([await get(edge.publicPort, '/redis-down'), (await grpcBidi(edge.publicPort)).length]).toEqual([200, 2]);
    await redis.start();
    await eventuallyAsync(async () => (await readiness()).every((status) => status === 200), 'every edge ready again');
    for (const edge of edges) expect([await get(edge.publicPort, '/redis-back'), (await grpcBidi(edge.publicPort)).length]).toEqual([200, 2]);
  });

  it('fail only what was in flight on an edge killed with -9; requests started afterwards through the others all succeed', async () => {
    const [victim, ...survivors] = edges as [Edge, Edge, Edge];
    // Traffic through every edge, in flight when the kill comes.
    const inFlight = edges.flatMap((edge) => Array.from({ length: 4 }, (_, i) => publicRequest({ port: edge.publicPort, host: 'app.localhost', path: `/before-${i}` }).then((answer) => answer.status, (error: Error) => error.message)));
    await victim.process.kill('SIGKILL');
    const before = await Promise.all(inFlight);
    // Definite, each: an answer, or the connection to the dead edge broken. None hangs.
    for (const outcome of before) expect(typeof outcome === 'number' || /ECONNRESET|ECONNREFUSED|socket hang up/.test(outcome)).toBe(true);

    const after: (number | string)[] = [];
    for (let i = 0; i < 60; i++) {
      const edge = survivors[i % 2]!;
      after.push(await get(edge.publicPort, `/after-${i}`).catch((error: Error) => error.message));
      if (i % 20 === 0) after.push((await grpcBidi(edge.publicPort)).length === 2 ? 200 : 'grpc failed');
    }
    expect(after.filter((outcome) => outcome !== 200)).toEqual([]);
    // The agents moved their lost connection to the other edge, names kept: both survivors hold both tunnels.
    const held = async (edge: Edge): Promise<string[]> => ((await (await fetch(`${edge.admin}/api/tunnels`)).json()) as { tunnels: { tunnel: string }[] }).tunnels.map((t) => t.tunnel).sort();
    await eventuallyAsync(async () => (await Promise.all(survivors.map(held))).every((names) => names.join() === 'app,rpc'), 'both survivors holding app and rpc');
  });
});
