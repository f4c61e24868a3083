// The bench's smallest multiplexed Node tunnel (bench/minimal-multiplexed-proxy.mjs)
// must forward faithfully, or its rows would compare Burrow with a proxy
// that drops bytes: whole 1 MiB bodies both ways, status and headers, and
// requests in flight together over its one session, through a real backend.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyDigest, spawnNode, startBackend, type Backend, type CliProcess } from '../helpers/common.js';

const script = 'bench/minimal-multiplexed-proxy.mjs';
const oneMiB = Buffer.from(Array.from({ length: 1024 * 1024 }, (_, i) => (i * 7) & 0xff));
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

let backend: Backend;
const hops: CliProcess[] = [];
let publicPort = 0;

async function startHop(role: 'service' | 'public', port: number): Promise<number> {
  const hop = spawnNode([script, role, String(port)]);
  hops.push(hop);
  return Number(await hop.waitForLine(/^\d+$/, 10_000));
}

beforeAll(async () => {
  backend = await startBackend((req, res) => {
    if (req.url === '/1mib') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-backend': 'yes' });
      res.end(oneMiB);
    } else if (req.method === 'POST') {
      void bodyDigest(req).then((digest) => res.end(JSON.stringify({ ...digest, host: req.headers.host })));
    } else {
      res.writeHead(404).end('no such page');
    }
  });
  publicPort = await startHop('public', await startHop('service', backend.port));
});

afterAll(async () => {
  for (const hop of hops) await hop.kill();
  await backend?.close();
});

function send(method: string, path: string, body?: Buffer): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: publicPort, method, path, headers: { host: 'bench.localhost' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the bench\'s smallest multiplexed Node tunnel', () => {
  it('carries 1 MiB bodies both ways whole, eight at once', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? send('GET', '/1mib') : send('POST', '/sink', oneMiB))));
    for (const [i, result] of results.entries()) {
      expect(result.status).toBe(200);
      if (i % 2 === 0) {
        expect(result.headers['x-backend']).toBe('yes');
        expect(sha256(result.body)).toBe(sha256(oneMiB));
      } else {
        expect(JSON.parse(result.body.toString())).toEqual({ size: oneMiB.length, sha256: sha256(oneMiB), host: 'bench.localhost' });
      }
    }
  });

  it('passes the backend\'s status and body through', async () => {
    const result = await send('GET', '/missing');
    expect(result.status).toBe(404);
    expect(result.body.toString()).toBe('no such page');
  });

  it('refuses to start without a role and a port', async () => {
    const hop = spawnNode([script, 'sideways', 'x']);
    expect(await hop.exited).toBe(2);
    expect(hop.stderrLines.join('\n')).toMatch(/usage: node minimal-multiplexed-proxy\.mjs service\|public PORT/);
  });
});
