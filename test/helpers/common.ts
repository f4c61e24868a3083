// Shared fixtures for engine tests: real servers and clients on 127.0.0.1
// with ephemeral ports, torn down by the test that made them.
import { createHash } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ConfigSync } from '../../src/main/gen/burrow/v1/tunnel.js';
import { TunnelAgent, type TunnelAgentOptions, type TunnelSpec } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { TunnelServer, type TunnelServerOptions } from '../../src/main/tunnel/server/tunnel-server.js';
import { rssBytes, spawnWithLines, type LineProcess } from './processes.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface Backend {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function startBackend(handler: RequestListener): Promise<Backend> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A body whose every byte depends on its place: a misplaced, lost or doubled piece shows. */
export function patternedBody(length: number): Buffer {
  const data = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;
  return data;
}

export const sha256Hex = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * The size and SHA-256 of a request body, once all of it has arrived. A body
 * cut short never settles: the backends that use it then never answer, and
 * no rejection goes unhandled.
 */
export function bodyDigest(req: IncomingMessage): Promise<{ size: number; sha256: string }> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    req.on('end', () => resolve({ size, sha256: hash.digest('hex') }));
  });
}

export interface TunnelFixture {
  server: TunnelServer;
  agent: TunnelAgent;
  publicPort: number;
  stop(): Promise<void>;
}

/** An in-process server and an agent with the given tunnels, all live. */
export async function startTunnel(
  tunnels: TunnelSpec[],
  serverOptions: Partial<TunnelServerOptions> = {},
  token?: string,
): Promise<TunnelFixture> {
  const server = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost', ...serverOptions });
  await server.start();
  const agent = new TunnelAgent({ server: `127.0.0.1:${server.controlPort}`, token, tunnels });
  const live = waitForLive(agent, tunnels.length);
  agent.start();
  await live;
  return {
    server,
    agent,
    publicPort: server.publicPort,
    stop: async () => {
      agent.stop();
      await server.stop();
    },
  };
}

export function waitForLive(agent: TunnelAgent, count = 1): Promise<void> {
  return nthEvent(agent, 'tunnel-live', count);
}

/** Resolves once `emitter` has emitted `event` `count` times from now. */
export function nthEvent(emitter: { on(event: string, listener: () => void): unknown; off(event: string, listener: () => void): unknown }, event: string, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const listener = (): void => {
      if (++seen < count) return;
      emitter.off(event, listener);
      resolve();
    };
    emitter.on(event, listener);
  });
}

export interface PublicResponse {
  status: number;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  trailers: IncomingMessage['trailers'];
  body: Buffer;
}

export interface PublicRequestOptions {
  port: number;
  host: string;
  method?: string;
  path?: string;
  headers?: Record<string, string | string[]> | string[];
  body?: Buffer | string;
  agent?: Agent | false;
}

/** A request to the public port with the given Host header, body read fully. */
export function publicRequest(options: PublicRequestOptions): Promise<PublicResponse> {
  return new Promise((resolve, reject) => {
    const headers = Array.isArray(options.headers)
      ? ['Host', options.host, ...options.headers]
      : { host: options.host, ...options.headers };
    const req = request(
      { host: '127.0.0.1', port: options.port, method: options.method ?? 'GET', path: options.path ?? '/', headers, agent: options.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, trailers: res.trailers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export type CliProcess = LineProcess;

/** Runs `burrow ARGS` as a child process. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  return spawnNode([`${repoRoot}/bin/burrow.js`, ...args], env);
}

/** Runs `node ARGS` as a child process, its output collected by line. */
export function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  return spawnWithLines(`node ${args.join(' ')}`, process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env } });
}

export { rssBytes };

export interface CliServer {
  process: CliProcess;
  /** host:port agents connect to, as the server printed it. */
  control: string;
  publicPort: number;
}

/** `burrow server ARGS` on ports the OS picks (nothing to race for), with the addresses it printed. */
export async function spawnCliServer(args: string[], spawn: (args: string[]) => CliProcess = spawnCli): Promise<CliServer> {
  const server = spawn(['server', '--control', '127.0.0.1:0', '--public', '127.0.0.1:0', ...args]);
  const control = /connect to (\S+)/.exec(await server.waitForLine(/agents connect to/))![1]!;
  const publicPort = Number(/:(\d+)$/.exec(await server.waitForLine(/public traffic on/))![1]);
  return { process: server, control, publicPort };
}

/** A loopback port nothing listens on: connections to it are refused. */
export async function closedPort(): Promise<number> {
  const holder = createNetServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as AddressInfo;
  await new Promise<void>((resolve) => holder.close(() => resolve()));
  return port;
}

/**
 * A port held for a server that is not up yet: connections to it are
 * reset, as to a server that is down. `release` frees it for that server.
 */
export async function holdPort(): Promise<{ port: number; release(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const holder = createNetServer((socket) => socket.destroy());
  holder.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  return {
    port: (holder.address() as AddressInfo).port,
    release: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        holder.close(() => resolve());
      }),
  };
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs` with `what`. */
export async function eventually(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface StallableProxy {
  port: number;
  /** Stops forwarding on the connections open now, in both directions, keeping them open (a hung link). Later connections work. */
  stall(): void;
  /**
   * Like stall(), and reads nothing more from either end either, as a peer
   * that stopped: what they write waits in their queues. Returns, for each
   * connection, the local port of its socket to the target (`toTarget`) and
   * the client's own port (`fromClient`).
   */
  freeze(): { toTarget: number[]; fromClient: number[] };
  /** Connections it has taken so far. */
  readonly accepted: number;
  /** Sockets of stalled connections that their far ends have not closed yet (agent's and server's side apart). */
  readonly stalledOpen: number;
  close(): Promise<void>;
}

/**
 * A TCP relay to 127.0.0.1:targetPort that can be made to go silent; given
 * several ports, each connection goes to the next in turn, as through a TCP
 * load balancer.
 */
export async function startStallableProxy(...targetPorts: number[]): Promise<StallableProxy> {
  const sockets = new Set<Socket>();
  const stalled = new WeakSet<Socket>();
  const toTarget = new WeakSet<Socket>();
  let accepted = 0;
  const server = createNetServer((inbound) => {
    const outbound = connect(targetPorts[accepted++ % targetPorts.length]!, '127.0.0.1');
    toTarget.add(outbound);
    for (const [from, to] of [
      [inbound, outbound],
      [outbound, inbound],
    ]) {
      sockets.add(from);
      from.on('data', (chunk: Buffer) => stalled.has(from) || to.write(chunk));
      // A hung link passes nothing on, not even a close: the far side must notice by itself.
      from.on('error', () => stalled.has(from) || to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        if (!stalled.has(from)) to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stall: () => sockets.forEach((socket) => stalled.add(socket)),
    freeze: () => {
      const frozen = [...sockets];
      for (const socket of frozen) {
        stalled.add(socket);
        socket.pause();
      }
      return {
        toTarget: frozen.filter((socket) => toTarget.has(socket)).map((socket) => socket.localPort!),
        fromClient: frozen.filter((socket) => !toTarget.has(socket)).map((socket) => socket.remotePort!),
      };
    },
    get accepted() {
      return accepted;
    },
    get stalledOpen() {
      return [...sockets].filter((socket) => stalled.has(socket)).length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface LinkedAgent {
  server: TunnelServer;
  agent: TunnelAgent;
  /** The relay between them: stall() makes it a hung link. */
  link: StallableProxy;
  stop(): Promise<void>;
}

/** A server with `config`, and an agent with one tunnel `app` to `backendPort`, live, reaching the server through a stallable relay. */
export async function agentBehindStallableLink(config: Partial<ConfigSync>, backendPort: number, agentOptions: Partial<TunnelAgentOptions> = {}): Promise<LinkedAgent> {
  const server = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost', config });
  await server.start();
  const link = await startStallableProxy(server.controlPort);
  const agent = new TunnelAgent({ server: `127.0.0.1:${link.port}`, tunnels: [{ name: 'app', protocol: 'http', target: String(backendPort) }], ...agentOptions });
  const live = waitForLive(agent);
  agent.start();
  await live;
  return {
    server,
    agent,
    link,
    stop: async () => {
      agent.stop();
      await link.close();
      await server.stop();
    },
  };
}

/** Like eventually, for a predicate that has to ask something over the network. */
export async function eventuallyAsync(predicate: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
