// A real redis-server (Debian's) for cluster tests: on a free loopback port,
// persistence off, stopped by PID; it can be stopped and started again on
// the same port, as an outage would.
import { createServer, type AddressInfo } from 'node:net';
import { repoRoot } from './common.js';
import { spawnWithLines, type LineProcess } from './processes.js';

export interface RedisServer {
  port: number;
  url: string;
  /** Stops it (SIGKILL: nothing flushed, as a crash). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

async function portFreeNow(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function spawnRedis(port: number): LineProcess {
  // No persistence: nothing written to disk, nothing read back after a restart.
  return spawnWithLines('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice'], { cwd: repoRoot });
}

/** redis-server on `port()`, once it accepts connections; tried `attempts` times, `pauseMs` apart, when it cannot bind. */
async function spawnReady(port: () => Promise<number>, attempts: number, pauseMs: number): Promise<{ process: LineProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const chosen = await port();
    const candidate = spawnRedis(chosen);
    try {
      await candidate.waitForLine(/Ready to accept connections/, 20_000);
      return { process: candidate, port: chosen };
    } catch (error) {
      await candidate.kill('SIGKILL');
      if (attempt === attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

export async function startRedis(): Promise<RedisServer> {
  // The port is free when probed; another process may take it before redis binds it: try another.
  const first = await spawnReady(portFreeNow, 5, 0);
  const { port } = first;
  let current: LineProcess | undefined = first.process;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await current?.kill('SIGKILL');
      current = undefined;
    },
    start: async () => {
      // The port was this one's a moment ago; the OS may hold it briefly after the kill.
      if (current === undefined) current = (await spawnReady(async () => port, 20, 250)).process;
    },
  };
}
