// Shared fixtures for engine tests: real servers and clients on 127.0.0.1
// with ephemeral ports, torn down by the test that made them.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, createServer, request, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TunnelAgent, type TunnelSpec } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { TunnelServer, type TunnelServerOptions } from '../../src/main/tunnel/server/tunnel-server.js';

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
  return new Promise((resolve) => {
    let seen = 0;
    const onLive = (): void => {
      if (++seen < count) return;
      agent.off('tunnel-live', onLive);
      resolve();
    };
    agent.on('tunnel-live', onLive);
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

export interface CliProcess {
  child: ChildProcess;
  stdoutLines: string[];
  stderrLines: string[];
  /** Resolves with the first stdout line matching, rejects if the process exits first. */
  waitForLine(pattern: RegExp): Promise<string>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `burrow ARGS` as a child process. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  return spawnNode([`${repoRoot}/bin/burrow.js`, ...args], env);
}

/** Runs `node ARGS` as a child process, its output collected by line. */
export function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const collectLines = (stream: NodeJS.ReadableStream, into: string[], notify: boolean): void => {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      buffer += text;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        into.push(line);
        if (!notify) continue;
        for (const waiter of [...waiters]) {
          if (waiter.pattern.test(line)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    });
  };
  collectLines(child.stdout!, stdoutLines, true);
  collectLines(child.stderr!, stderrLines, false);
  return {
    child,
    stdoutLines,
    stderrLines,
    exited,
    waitForLine: (pattern) => {
      const seen = stdoutLines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then((code) =>
          reject(new Error(`burrow ${args.join(' ')} exited (${code}) before printing ${pattern}; stderr: ${stderrLines.join(' | ')}`)),
        );
      });
    },
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Resident set size of a process we started, in bytes (Linux). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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
  close(): Promise<void>;
}

/** A TCP relay to 127.0.0.1:targetPort that can be made to go silent. */
export async function startStallableProxy(targetPort: number): Promise<StallableProxy> {
  const sockets = new Set<Socket>();
  const stalled = new WeakSet<Socket>();
  const server = createNetServer((inbound) => {
    const outbound = connect(targetPort, '127.0.0.1');
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
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
