// Bulk both ways at once between real `burrow server` and `burrow http`
// processes, on a fresh tunnel: each end's HTTP/2 stops reading while its
// own write is pending, so with both directions on one connection the two
// ends waited for each other until the heartbeat timeout dropped the session
// (every one of these echoes failed). The data stream's two directions now
// go on connections of their own (data-direction.ts).
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, spawnCliServer, startBackend, type Backend, type CliProcess } from '../helpers/common.js';

const uploads = 16;
const uploadBytes = 8 * 1024 * 1024;

let backend: Backend;
let server: CliProcess;
let agent: CliProcess;
let publicPort: number;

beforeAll(async () => {
  // Echo, streaming: the answer goes back while the upload still comes.
  backend = await startBackend((req, res) => {
    res.writeHead(200, { 'content-length': req.headers['content-length'] });
    req.pipe(res);
  });
  const started = await spawnCliServer(['--token', 'both-ways']);
  server = started.process;
  publicPort = started.publicPort;
  agent = spawnCli(['http', String(backend.port), '--name', 'echo', '--server', started.control, '--no-inspect'], { BURROW_TOKEN: 'both-ways' });
  await agent.waitForLine(/^tunnel echo: /);
});

afterAll(async () => {
  await agent?.kill();
  await server?.kill();
  await backend?.close();
});

interface Echo {
  status: number;
  size: number;
  sha256: string;
}

function echo(body: Buffer, connections: Agent): Promise<Echo> {
  return new Promise((resolve) => {
    const failed = (error: Error): void => resolve({ status: -1, size: 0, sha256: error.message });
    const req = request(
      { port: publicPort, host: '127.0.0.1', method: 'POST', path: '/echo', agent: connections, headers: { host: 'echo.localhost', 'content-length': body.length } },
      (res) => {
        const hash = createHash('sha256');
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          size += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, size, sha256: hash.digest('hex') }));
        res.on('error', failed);
      },
    );
    req.on('error', failed);
    req.end(body);
  });
}

function everything(process: CliProcess): string {
  return [...process.stdoutLines, ...process.stderrLines].join('\n');
}

describe('bulk both ways at once', () => {
  it(`echoes ${uploads} uploads of 8 MiB at once on a fresh tunnel, each whole, with no session lost`, async () => {
    const body = randomBytes(uploadBytes);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const connections = new Agent({ keepAlive: false, maxSockets: uploads });
    const echoes = await Promise.all(Array.from({ length: uploads }, () => echo(body, connections)));
    expect(echoes).toEqual(echoes.map(() => ({ status: 200, size: uploadBytes, sha256 })));
    expect(everything(server)).not.toMatch(/heartbeat timeout/);
    expect(everything(agent)).not.toMatch(/no heartbeat/);
  }, 120_000);
});
