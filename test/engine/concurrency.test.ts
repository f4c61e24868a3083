// Many requests share one Proxy stream: none may wait on another.
import { createHash } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, publicRequest, startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';

let backend: Backend | undefined;
let tunnel: TunnelFixture | undefined;

afterEach(async () => {
  await tunnel?.stop();
  await backend?.close();
  tunnel = backend = undefined;
});

describe('concurrency', () => {
  it('completes fast requests while slow ones are pending, each response matching its request (500 at once)', async () => {
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let slowArrived = 0;
    backend = await startBackend((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const reply = `${req.method} ${req.url} ${body}`;
        if (req.url!.startsWith('/slow/')) {
          slowArrived++;
          void gate.then(() => res.end(reply));
        } else res.end(reply);
      });
    });
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const requests = Array.from({ length: 500 }, (_, i) => {
      const kind = i % 2 === 0 ? 'slow' : 'fast';
      const method = i % 3 === 0 ? 'POST' : 'GET';
      const body = method === 'POST' ? `payload-${i}` : '';
      return { kind, expected: `${method} /${kind}/${i} ${body}`, pending: publicRequest({ port: tunnel!.publicPort, host: 'app.localhost', method, path: `/${kind}/${i}`, body }) };
    });
    let slowDone = 0;
    for (const r of requests) if (r.kind === 'slow') void r.pending.then(() => slowDone++);

    const fast = await Promise.all(requests.filter((r) => r.kind === 'fast').map(async (r) => ({ r, res: await r.pending })));
    for (const { r, res } of fast) expect(res.body.toString()).toBe(r.expected);
    expect(slowDone).toBe(0);
    await eventually(() => slowArrived === 250, 'all slow requests to reach the backend');

    openGate();
    const slow = await Promise.all(requests.filter((r) => r.kind === 'slow').map(async (r) => ({ r, res: await r.pending })));
    for (const { r, res } of slow) {
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe(r.expected);
    }
    await eventually(() => tunnel!.server.inflightRequests === 0 && tunnel!.agent.inflightRequests === 0, 'in-flight counts to reach zero');
  });

  it('a very slow reader of a large download does not hold up small requests, and its backend is paused', async () => {
    const total = 64 * 1024 * 1024;
    const block = Buffer.alloc(64 * 1024, 7);
    let produced = 0;
    /** The backend has a write it cannot finish until the pipeline drains: backpressure reached it. */
    let waitingForDrain = false;
    backend = await startBackend((req, res) => {
      if (req.url !== '/big') {
        res.end(`small ${req.url}`);
        return;
      }
      res.writeHead(200, { 'content-length': String(total) });
      const pump = (): void => {
        while (produced < total) {
          produced += block.length;
          if (!res.write(block)) {
            waitingForDrain = true;
            res.once('drain', () => {
              waitingForDrain = false;
              pump();
            });
            return;
          }
        }
        res.end();
      };
      pump();
    });
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);

    let received = 0;
    const hash = createHash('sha256');
    let slowResponse!: IncomingMessage;
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: tunnel!.publicPort, path: '/big', headers: { host: 'app.localhost' } }, (res) => {
        slowResponse = res;
        res.once('data', (chunk: Buffer) => {
          received += chunk.length;
          hash.update(chunk);
          res.pause(); // the slow reader stops reading here
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
    // Let the pipeline fill until backpressure holds the backend, past at least a credit window.
    await eventually(() => waitingForDrain && produced > 1024 * 1024, 'the backend to be held by backpressure', 20_000);

    const small = await Promise.all(Array.from({ length: 50 }, (_, i) => publicRequest({ port: tunnel!.publicPort, host: 'app.localhost', path: `/s${i}` })));
    small.forEach((res, i) => expect(res.body.toString()).toBe(`small /s${i}`));
    expect(received).toBeLessThan(total);
    // Bounded buffering: what the backend produced is far from all of it (true at any moment, so whenever it is read).
    expect(produced).toBeLessThan(24 * 1024 * 1024);

    await new Promise<void>((resolve) => {
      slowResponse.on('data', (chunk: Buffer) => {
        received += chunk.length;
        hash.update(chunk);
      });
      slowResponse.on('end', resolve);
      slowResponse.resume();
    });
    expect(received).toBe(total);
    const expected = createHash('sha256');
    for (let i = 0; i < total / block.length; i++) expected.update(block);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
  });
});
