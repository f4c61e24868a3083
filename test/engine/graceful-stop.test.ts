// Stopping with requests under way (SIGTERM, Ctrl-C): the edge or the agent
// takes no new work, lets what is under way finish within a bound, and only
// then stops. Before, either cut every request in flight (502 or a reset).
import { once } from 'node:events';
import { Agent, type ServerResponse } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { WebSocket, WebSocketServer } from 'ws';
import { AgentState } from '../../src/main/tunnel/agent/agent-state.js';
import { MultiEdgeAgent } from '../../src/main/tunnel/agent/multi-edge-agent.js';
import { TunnelAgent } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import { eventually, publicRequest, startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';
import { echoClient, startEchoBackend } from '../helpers/grpc-echo.js';

/** A service whose /hold requests wait until the test releases them, and whose WebSockets echo. */
interface HeldService {
  backend: Backend;
  /** Resolves with the response of the next /hold request as it arrives. */
  nextHeld(): Promise<ServerResponse>;
  /** Close codes and reasons the service's WebSockets heard. */
  closes: Promise<{ code: number; reason: string }>[];
  /** Handshakes to /slow-handshake, held until the test lets each go on. */
  handshakes: (() => void)[];
  close(): Promise<void>;
}

async function startHeldService(): Promise<HeldService> {
  const waiting: ((res: ServerResponse) => void)[] = [];
  const arrived: ServerResponse[] = [];
  const backend = await startBackend((req, res) => {
    if (req.url !== '/hold') {
      res.end('quick');
      return;
    }
    const taker = waiting.shift();
    if (taker !== undefined) taker(res);
    else arrived.push(res);
  });
  const handshakes: (() => void)[] = [];
  const wss = new WebSocketServer({
    server: backend.server,
    verifyClient: (info, accept) => (info.req.url === '/slow-handshake' ? handshakes.push(() => accept(true)) : accept(true)),
  });
  const closes: Promise<{ code: number; reason: string }>[] = [];
  wss.on('connection', (ws) => {
    ws.on('message', (data, binary) => ws.send(data, { binary }));
    closes.push(new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))));
  });
  return {
    backend,
    nextHeld: () => {
      const first = arrived.shift();
      return first !== undefined ? Promise.resolve(first) : new Promise((resolve) => waiting.push(resolve));
    },
    closes,
    handshakes,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await backend.close();
    },
  };
}

/** An open WebSocket through the tunnel that has echoed one message, and how it closes. */
async function openWebSocket(port: number): Promise<{ closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host: 'app.localhost' } });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => {});
  await once(ws, 'open');
  ws.send('hello');
  await once(ws, 'message');
  return { closed };
}

let service: HeldService | undefined;
let fixture: TunnelFixture | undefined;
afterEach(async () => {
  await fixture?.stop();
  await service?.close();
  fixture = service = undefined;
});

async function start(): Promise<{ service: HeldService; fixture: TunnelFixture }> {
  service = await startHeldService();
  fixture = await startTunnel([{ name: 'app', protocol: 'http', target: String(service.backend.port) }]);
  return { service, fixture };
}

function connectionRefused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('an edge stopping with requests under way', () => {
  it('finishes the request under way, takes no new connection, says it is not ready, and stops once it has', async () => {
    const { service, fixture } = await start();
    const answer = publicRequest({ port: fixture.publicPort, host: 'app.localhost', path: '/hold' });
    const held = await service.nextHeld();
    const events: string[] = [];
    const drained = fixture.server.drain(60_000).then(() => events.push('stopped'));
    expect(fixture.server.readiness()).toEqual({ ready: false, reason: expect.stringMatching(/stopping/) });
    expect(await connectionRefused(fixture.publicPort)).toBe('ECONNREFUSED');
    held.end('finished late');
    const response = await answer;
    events.push('answered');
    await drained;
    expect({ status: response.status, body: response.body.toString(), connection: response.headers.connection }).toEqual({ status: 200, body: 'finished late', connection: 'close' });
    expect(events).toEqual(['answered', 'stopped']);
  });

  it('closes an idle kept-alive connection at once, and a busy one after its answer', async () => {
    const { service, fixture } = await start();
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // One request answered on it: the connection now waits for the next head.
      expect((await publicRequest({ port: fixture.publicPort, host: 'app.localhost', agent: keepAlive })).status).toBe(200);
      const idleSocket = Object.values(keepAlive.freeSockets).flat()[0]!;
      const idleClosed = once(idleSocket, 'close');
      const answer = publicRequest({ port: fixture.publicPort, host: 'app.localhost', path: '/hold' });
      const held = await service.nextHeld();
      const drained = fixture.server.drain(60_000);
      await idleClosed;
      held.end('done');
      expect((await answer).body.toString()).toBe('done');
      await drained;
    } finally {
      keepAlive.destroy();
    }
  });

  it('sends an HTTP/2 client GOAWAY and finishes its stream under way', async () => {
    const { service, fixture } = await start();
    const session = connectHttp2(`http://127.0.0.1:${fixture.publicPort}`);
    session.on('error', () => {});
    try {
      const stream = session.request({ ':authority': 'app.localhost', ':path': '/hold' });
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      const ended = once(stream, 'end');
      const held = await service.nextHeld();
      const goaway = once(session, 'goaway');
      const drained = fixture.server.drain(60_000);
      await goaway;
      held.end('after goaway');
      await ended;
      expect(Buffer.concat(chunks).toString()).toBe('after goaway');
      await drained;
    } finally {
      session.destroy();
    }
  });

  it('closes WebSockets as going away (1001) at both ends, without waiting for them', async () => {
    const { service, fixture } = await start();
    const { closed } = await openWebSocket(fixture.publicPort);
    // The drain's bound is far beyond the test's: it ends because the WebSocket closed.
    await fixture.server.drain(600_000);
    expect(await closed).toEqual({ code: 1001, reason: 'the tunnel server is shutting down' });
    expect((await service.closes[0]!).code).toBe(1001);
  });

  it('closes a WebSocket still in its handshake as going away once it opens', async () => {
    const { service, fixture } = await start();
    const ws = new WebSocket(`ws://127.0.0.1:${fixture.publicPort}/slow-handshake`, { headers: { host: 'app.localhost' } });
    ws.on('error', () => {});
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await eventually(() => service.handshakes.length === 1, 'the handshake to reach the service');
    // The drain's bound is far beyond the test's: it ends because the WebSocket, once open, closed.
    const drained = fixture.server.drain(600_000);
    service.handshakes[0]!();
    await drained;
    expect(await closed).toEqual({ code: 1001, reason: 'the tunnel server is shutting down' });
  });

  it('serves a connection whose request had begun to come as it began, and ends once it has', async () => {
    const { fixture } = await start();
    const socket = connect(fixture.publicPort, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1').on('data', (text: string) => (answer += text));
    const closed = once(socket, 'close');
    // Two bytes that could begin an HTTP/2 preface or a PROPFIND: the edge cannot tell which yet.
    socket.write('PR');
    // Read by the edge (its own count, not this socket's): a connection nothing has come on yet is closed as idle.
    const edgeSockets = (fixture.server as unknown as { publicListener: { sockets: { values(): Socket[] } } }).publicListener.sockets;
    await eventually(() => edgeSockets.values().some((each) => each.bytesRead === 2), 'the first bytes to reach the edge');
    const drained = fixture.server.drain(600_000);
    socket.write('OPFIND / HTTP/1.1\r\nHost: app.localhost\r\n\r\n');
    await closed;
    await drained;
    expect(answer).toMatch(/^HTTP\/1\.1 200 [^]*\r\nConnection: close\r\n[^]*quick$/);
  });

  it('cuts what is still under way when its time is up', async () => {
    const { service, fixture } = await start();
    const answer = publicRequest({ port: fixture.publicPort, host: 'app.localhost', path: '/hold' }).then(
      (response) => `status ${response.status}`,
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    await service.nextHeld();
    // Told as the edge stopping (503, to be tried again elsewhere), and counted as cut.
    expect(await fixture.server.drain(50)).toBe(1);
    expect(await answer).toBe('status 503');
  });

  it('cuts a gRPC stream past its time as UNAVAILABLE, its status written before the connection goes (it read INTERNAL)', async () => {
    const backend = await startEchoBackend();
    const grpcTunnel = await startTunnel([{ name: 'rpc', protocol: 'grpc', target: String(backend.port) }]);
    const client = echoClient(grpcTunnel.publicPort, 'rpc');
    try {
      // A stream that never ends (its messages keep coming), cut as the drain's time is up.
      const call = (client.serverStream as (request: object) => grpc.ClientReadableStream<unknown>)({ count: 0 });
      const status = new Promise<number>((resolve) => call.on('status', (each: grpc.StatusObject) => resolve(each.code)));
      call.on('error', () => {});
      await once(call, 'data');
      expect(await grpcTunnel.server.drain(50)).toBe(1);
      expect(await status).toBe(grpc.status.UNAVAILABLE);
    } finally {
      client.close();
      await grpcTunnel.stop();
      backend.stop();
    }
  });

  it('stops at once with nothing under way', async () => {
    const { fixture } = await start();
    const events: string[] = [];
    // The bound would outlast the test: stopping must not wait for it.
    await fixture.server.drain(600_000);
    events.push('stopped');
    expect(events).toEqual(['stopped']);
    expect(await connectionRefused(fixture.publicPort)).toBe('ECONNREFUSED');
  });
});

describe('an agent stopping with requests under way', () => {
  let edge: TunnelServer | undefined;
  let agent: MultiEdgeAgent | undefined;
  afterEach(async () => {
    agent?.stop();
    await edge?.stop();
    await service?.close();
    edge = agent = service = undefined;
  });

  async function startAgent(): Promise<{ service: HeldService; edge: TunnelServer; agent: MultiEdgeAgent }> {
    service = await startHeldService();
    edge = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost' });
    await edge.start();
    agent = new MultiEdgeAgent({ servers: [`127.0.0.1:${edge.controlPort}`], tunnels: [{ name: 'app', protocol: 'http', target: String(service.backend.port) }], wakeDetection: false, networkWatch: false });
    const live = once(agent, 'tunnel-live');
    agent.start();
    await live;
    return { service, edge, agent };
  }

  it('finishes the request under way while new ones are told the tunnel is offline', async () => {
    const { service, edge, agent } = await startAgent();
    const dataStreamEvents: string[] = [];
    edge.on('data-stream', (_agentId, event) => dataStreamEvents.push(event));
    const answer = publicRequest({ port: edge.publicPort, host: 'app.localhost', path: '/hold' });
    const held = await service.nextHeld();
    let underWay = -1;
    const drained = agent.drain(60_000, (count) => (underWay = count));
    await eventually(() => underWay !== -1, 'the drain to begin');
    expect(underWay).toBe(1);
    // The edge hears of it on the agent's control stream: poll until it has, each answer a definite one.
    let later = await publicRequest({ port: edge.publicPort, host: 'app.localhost' });
    while (later.status === 200) later = await publicRequest({ port: edge.publicPort, host: 'app.localhost' });
    expect({ status: later.status, code: later.headers['x-burrow-error'] }).toEqual({ status: 502, code: 'BURROW_E_TUNNEL_OFFLINE' });
    held.end('finished late');
    const response = await answer;
    await drained;
    expect({ status: response.status, body: response.body.toString() }).toEqual({ status: 200, body: 'finished late' });
    expect(agent.state).toBe(AgentState.Closed);
    expect(edge.pendingExchanges).toBe(0);
    // Its data stream ended as a goodbye: the edge does not log it as lost, waiting for it to come back.
    expect(dataStreamEvents).not.toContain('lost');
  });

  it('loses no request the edge sent as the agent withdrew: each is answered, or told the tunnel is offline', async () => {
    const { service, edge, agent } = await startAgent();
    // The service answers /hold too, at once: every request here is quick.
    service.backend.server.removeAllListeners('request');
    let served = 0;
    service.backend.server.on('request', (_req, res) => {
      served++;
      res.end('served');
    });
    const outcomes = new Set<string>();
    // Twenty clients, each asking again as soon as it is answered, until the tunnel is offline: requests keep
    // reaching the edge while the agent withdraws, some of them on their way to it as the edge hears of it.
    const client = async (): Promise<void> => {
      for (;;) {
        const outcome = await publicRequest({ port: edge.publicPort, host: 'app.localhost' }).then(
          (response) => `${response.status} ${response.headers['x-burrow-error'] ?? response.body.toString()}`,
          (error: NodeJS.ErrnoException) => error.code ?? error.message,
        );
        outcomes.add(outcome);
        if (outcome !== '200 served') return;
      }
    };
    const clients = Array.from({ length: 20 }, client);
    await eventually(() => served >= 200, 'traffic under way');
    // Bounded far beyond the test: the drain ends when the edge has said every request it sent is here and they are done.
    await agent.drain(600_000);
    await Promise.all(clients);
    expect([...outcomes].sort()).toEqual(['200 served', '502 BURROW_E_TUNNEL_OFFLINE']);
  });

  it('hears from each edge that no request is on its way once it has unregistered its tunnels', async () => {
    const { edge } = await startAgent();
    const link = new TunnelAgent({ server: `127.0.0.1:${edge.controlPort}`, tunnels: [{ name: 'other', protocol: 'http', target: '1' }] });
    try {
      const live = once(link, 'tunnel-live');
      link.start();
      await live;
      // Past the test's own bound: only the edge's answer ends the wait.
      await link.withdraw(600_000);
      const answer = await publicRequest({ port: edge.publicPort, host: 'other.localhost' });
      expect(answer.headers['x-burrow-error']).toBe('BURROW_E_TUNNEL_OFFLINE');
    } finally {
      link.stop();
    }
  });

  it('delivers the last bytes of an answer that ends as it stops', async () => {
    const { service, edge, agent } = await startAgent();
    const body = Buffer.alloc(3 * 1024 * 1024, 7);
    const answer = publicRequest({ port: edge.publicPort, host: 'app.localhost', path: '/hold' });
    const held = await service.nextHeld();
    const drained = agent.drain(60_000);
    // All of it in one write, in the turn the drain looks: its last messages are still queued for the data stream.
    held.end(body);
    const response = await answer;
    await drained;
    expect(response.body.equals(body)).toBe(true);
  });

  it('closes WebSockets as going away (1001) at both ends, without waiting for them', async () => {
    const { service, edge, agent } = await startAgent();
    const { closed } = await openWebSocket(edge.publicPort);
    await agent.drain(600_000);
    expect(await closed).toEqual({ code: 1001, reason: 'the tunnel agent is shutting down' });
    expect(await service.closes[0]!).toEqual({ code: 1001, reason: 'the tunnel agent is shutting down' });
  });
});
