// HTTP through the tunnel: methods, bodies, headers, trailers and the
// definite public errors.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { bodyDigest, startBackend, startTunnel, publicRequest, eventually, type Backend, type TunnelFixture } from '../helpers/common.js';

let backend: Backend | undefined;
let tunnel: TunnelFixture | undefined;

afterEach(async () => {
  await tunnel?.stop();
  await backend?.close();
  tunnel = backend = undefined;
});

/** Answers with JSON describing the request it received, body hashed. */
async function startInspectingBackend(): Promise<Backend> {
  return startBackend((req, res) => {
    void bodyDigest(req).then(({ size, sha256 }) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          rawHeaders: req.rawHeaders,
          transferEncoding: req.headers['transfer-encoding'] ?? null,
          size,
          sha256,
        }),
      );
    });
  });
}

describe('HTTP through the tunnel', () => {
  // Found with a raw HTTP/2 client: a small body of known length was held back with its head until all of it came,
  // so a slow 5-byte body reached the client late, and one that never came, never (a 502 after a while).
  it('sends the head of a small response at once when its body comes later, then the body', async () => {
    let headSeen: () => void = () => {};
    const clientHasHead = new Promise<void>((resolve) => (headSeen = resolve));
    let bodySent = false;
    backend = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-length': '5' });
      res.flushHeaders();
      // The body waits for the client to have the head (or a while, so that a test that fails does not hang).
      void Promise.race([clientHasHead, new Promise((resolve) => setTimeout(resolve, 5_000))]).then(() => {
        bodySent = true;
        res.end('hello');
      });
    });
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const outcome = await new Promise<{ headBeforeBody: boolean; body: string }>((resolve, reject) => {
      const req = request({ port: tunnel!.publicPort, path: '/slow-small', headers: { host: 'app.localhost' } }, (res) => {
        const headBeforeBody = !bodySent;
        headSeen();
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ headBeforeBody, body }));
      });
      req.on('error', reject).end();
    });
    expect(outcome).toEqual({ headBeforeBody: true, body: 'hello' });
  });

  it('forwards GET, POST and PUT with their bodies, query strings and ordered duplicate headers', async () => {
    backend = await startInspectingBackend();
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const host = `app.localhost:${tunnel.publicPort}`;

    const get = await publicRequest({ port: tunnel.publicPort, host, path: '/items?x=1&y=%20', headers: ['X-Dup', 'one', 'X-Dup', 'two', 'Accept', 'text/plain'] });
    expect(get.status).toBe(200);
    const seenGet = JSON.parse(get.body.toString());
    expect(seenGet.method).toBe('GET');
    expect(seenGet.url).toBe('/items?x=1&y=%20');
    const pairs: string[][] = [];
    for (let i = 0; i < seenGet.rawHeaders.length; i += 2) pairs.push([seenGet.rawHeaders[i], seenGet.rawHeaders[i + 1]]);
    const dupes = pairs.filter(([name]) => name === 'X-Dup').map(([, value]) => value);
    expect(dupes).toEqual(['one', 'two']);
    // Names keep their case, except Host, which the local HTTP client (undici) writes itself.
    expect(pairs.find(([name]) => name.toLowerCase() === 'host')?.[1]).toBe(host);
    expect(pairs.find(([name]) => name === 'Accept')?.[1]).toBe('text/plain');
    expect(pairs.find(([name]) => name === 'X-Forwarded-For')?.[1]).toBe('127.0.0.1');
    expect(pairs.find(([name]) => name === 'X-Forwarded-Proto')?.[1]).toBe('http');

    for (const method of ['POST', 'PUT']) {
      const body = Buffer.from(`${method} body `.repeat(5000));
      const res = await publicRequest({ port: tunnel.publicPort, host, method, path: '/upload', body, headers: { 'content-type': 'text/plain' } });
      const seen = JSON.parse(res.body.toString());
      expect(seen.method).toBe(method);
      expect(seen.size).toBe(body.length);
      expect(seen.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    }
  });

  it('streams a chunked upload of unknown length', async () => {
    backend = await startInspectingBackend();
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000 + i, i));
    const result = await new Promise<{ size: number; sha256: string; transferEncoding: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: tunnel!.publicPort, method: 'POST', path: '/chunked', headers: { host: 'app.localhost' } },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve(JSON.parse(text)));
        },
      );
      req.on('error', reject);
      for (const part of parts) req.write(part);
      req.end();
    });
    const all = Buffer.concat(parts);
    expect(result.transferEncoding).toBe('chunked');
    expect(result.size).toBe(all.length);
    expect(result.sha256).toBe(createHash('sha256').update(all).digest('hex'));
  });

  it('passes status, response headers and trailers back', async () => {
    backend = await startBackend((_req, res) => {
      res.writeHead(201, 'Made It', [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Trailer', 'X-Checksum']]);
      res.write('partial ');
      res.addTrailers({ 'X-Checksum': 'abc123' });
      res.end('done');
    });
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const res = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost' });
    expect(res.status).toBe(201);
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.body.toString()).toBe('partial done');
    expect(res.trailers['x-checksum']).toBe('abc123');
  });

  it('answers HEAD and 204 without a body', async () => {
    backend = await startBackend((req, res) => {
      if (req.url === '/empty') {
        res.writeHead(204);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-length': '11' });
      res.end(req.method === 'HEAD' ? undefined : 'hello there');
    });
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const head = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost', method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('11');
    expect(head.body.length).toBe(0);
    const empty = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost', path: '/empty' });
    expect(empty.status).toBe(204);
  });
});

describe('HTTP edge cases the local client must handle', () => {
  it('uploads a body sent with Expect: 100-continue', async () => {
    backend = await startInspectingBackend();
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const body = Buffer.alloc(200_000, 'e');
    const seen = await new Promise<{ status: number; json: { size: number; sha256: string; rawHeaders: string[] } }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: tunnel!.publicPort, method: 'POST', path: '/upload', headers: { host: 'app.localhost', expect: '100-continue', 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }));
        },
      );
      req.on('error', reject);
      req.on('continue', () => req.end(body));
    });
    expect(seen.status).toBe(200);
    expect(seen.json.size).toBe(body.length);
    expect(seen.json.sha256).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('forwards the final response after an interim 103 Early Hints', async () => {
    backend = await startBackend((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.end('final');
    });
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const res = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost' });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('final');
  });

  it('cuts the public response and logs the failure when the local service dies mid-body', async () => {
    backend = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-length': String(1024 * 1024) });
      res.write(Buffer.alloc(256 * 1024, 'p'), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    const errors: { code: string; message: string }[] = [];
    tunnel.agent.on('traffic', (event) => {
      if (event.kind === 'request-error') errors.push(event);
    });
    const outcome = await new Promise<{ status: number; complete: boolean; received: number }>((resolve) => {
      const req = request({ host: '127.0.0.1', port: tunnel!.publicPort, path: '/', headers: { host: 'app.localhost' } }, (res) => {
        let received = 0;
        res.on('data', (chunk: Buffer) => (received += chunk.length));
        res.on('close', () => resolve({ status: res.statusCode!, complete: res.complete, received }));
      });
      req.on('error', () => resolve({ status: 0, complete: false, received: 0 }));
      req.end();
    });
    expect(outcome.status).toBe(200);
    expect(outcome.complete).toBe(false);
    expect(outcome.received).toBeLessThan(1024 * 1024);
    await eventually(() => errors.length > 0, 'the agent to log the failed request');
    expect(errors[0]!.code).toBe('BURROW_E_LOCAL_FAILED');
    expect(errors[0]!.message).toMatch(/closed the response before its end/);
  });
});

describe('public errors', () => {
  it('answers 404 for a host with no tunnel', async () => {
    backend = await startInspectingBackend();
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }], { reconnectGraceMs: 0 });
    const res = await publicRequest({ port: tunnel.publicPort, host: 'other.localhost' });
    expect(res.status).toBe(404);
    expect(res.headers['x-burrow-error']).toBe('BURROW_E_NO_TUNNEL');
    const wrongDomain = await publicRequest({ port: tunnel.publicPort, host: 'app.example.com' });
    expect(wrongDomain.status).toBe(404);
  });

  it('answers 502 when the local service refuses the connection', async () => {
    const gone = await startBackend(() => {});
    const port = gone.port;
    await gone.close();
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(port) }]);
    const res = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost' });
    expect(res.status).toBe(502);
    expect(res.headers['x-burrow-error']).toBe('BURROW_E_LOCAL_UNREACHABLE');
    expect(res.body.toString()).toMatch(/refused/);
  });

  it('answers 502 when the tunnel is known but its agent is offline', async () => {
    backend = await startInspectingBackend();
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
    tunnel.agent.stop();
    await eventually(() => tunnel!.server.agentCount === 0, 'the server to drop the agent');
    const res = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost' });
    expect(res.status).toBe(502);
    expect(res.headers['x-burrow-error']).toBe('BURROW_E_TUNNEL_OFFLINE');
  });

  it('answers 504 when the local service does not respond in time', async () => {
    backend = await startBackend(() => {
      /* never answers */
    });
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }], { config: { requestTimeoutMs: 300 } });
    const res = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost' });
    expect(res.status).toBe(504);
    expect(res.headers['x-burrow-error']).toBe('BURROW_E_TIMEOUT');
    await eventually(() => tunnel!.agent.inflightRequests === 0, 'the agent to drop the timed-out request');
  });

  it('answers 503 with Retry-After over the concurrency limit, and serves again after', async () => {
    const release: (() => void)[] = [];
    backend = await startBackend((req, res) => {
      if (req.url === '/hold') release.push(() => res.end('held'));
      else res.end('ok');
    });
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }], { limits: { maxInflightPerAgent: 2 } });
    const held = [1, 2].map(() => publicRequest({ port: tunnel!.publicPort, host: 'app.localhost', path: '/hold' }));
    await eventually(() => release.length === 2, 'two held requests to reach the backend');
    const over = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost' });
    expect(over.status).toBe(503);
    expect(over.headers['retry-after']).toBe('1');
    expect(over.headers['x-burrow-error']).toBe('BURROW_E_OVER_CAPACITY');
    for (const r of release) r();
    expect((await Promise.all(held)).map((r) => r.body.toString())).toEqual(['held', 'held']);
    const after = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost' });
    expect(after.status).toBe(200);
    // With Content-Length the client is done before the end-of-stream message lands.
    await eventually(() => tunnel!.server.inflightRequests === 0, 'the in-flight count to return to zero');
  });
});

describe('slow public clients', () => {
  it('answers 408 to a client that stalls mid-body, and frees its slot', async () => {
    // A service that answers once it has the whole body (one that answers at once does so through the tunnel too).
    backend = await startBackend((req, res) => req.resume().on('end', () => res.end('never reached')));
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }], { config: { requestTimeoutMs: 300 } });
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: tunnel!.publicPort, method: 'POST', path: '/', headers: { host: 'app.localhost', 'content-length': '100' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('only part of it'); // and never the rest
    });
    expect(status).toBe(408);
    await eventually(() => tunnel!.server.inflightRequests === 0, 'the slot to be freed');
  });

  // The wait for a response head counts from the request's last progress, not
  // from its head (a slow upload, or a service reading one slowly, got 504).
  it('waits for the response to an upload that keeps coming for longer than the request timeout', async () => {
    backend = await startBackend((req, res) => {
      let size = 0;
      req.on('data', (chunk: Buffer) => (size += chunk.length));
      req.on('end', () => res.end(`got ${size}`));
    });
    tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }], { config: { requestTimeoutMs: 1_000 } });
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: tunnel!.publicPort, method: 'POST', path: '/', headers: { host: 'app.localhost' } }, (res) => {
        let text = `${res.statusCode} `;
        res.setEncoding('latin1');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      // Ten pieces, 150 ms apart: 1.5 s of upload, chunked (streamed, not held with the head).
      let pieces = 0;
      const next = (): void => {
        if (++pieces > 10) req.end();
        else req.write(Buffer.alloc(1_000), () => setTimeout(next, 150));
      };
      next();
    });
    expect(answer).toBe('200 got 10000');
  });
});
