// Fuzzing the public port with what clients send: random request lines,
// headers, bodies and plain garbage (some of it opening like HTTP/2), over
// raw sockets. Every connection is answered or closed promptly, nothing
// crashes, and ordinary requests keep working. 10,000 cases in CI.
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicRequest, startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';

const cases = Number(process.env.FUZZ_RUNS ?? 10_000);
const perRun = 250;

let fixture: TunnelFixture;
let backend: Backend;

beforeAll(async () => {
  backend = await startBackend((req, res) => {
    req.resume();
    req.on('end', () => res.end('steady'));
  });
  fixture = await startTunnel([{ name: 'steady', protocol: 'http', target: String(backend.port) }], {
    limits: { headerTimeoutMs: 300, idleTimeoutMs: 300, maxBodyBytes: 4_096 },
    config: { requestTimeoutMs: 300 },
    // Unknown names get 404 from the start, as the spread below expects (reconnect-grace.test.ts has the grace).
    reconnectGraceMs: 0,
  });
});

afterAll(async () => {
  await fixture?.stop();
  await backend?.close();
});

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,10}$/);
const anyText = fc.string({ maxLength: 40, unit: 'binary-ascii' });
const printable = fc.string({ maxLength: 40, unit: fc.constantFrom(...' !"#$%&()*+,-./0123456789:;<=>?@ABCXYZabcxyz[]{}~'.split('')) });
// Mostly well-formed enough to reach a tunnel, often not.
const mostly = <T,>(likely: fc.Arbitrary<T>, rest: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ weight: 4, arbitrary: likely }, { weight: 1, arbitrary: rest });
const hostHeader = mostly(fc.constantFrom('steady.localhost', 'nobody.localhost'), anyText);
const requestText = fc
  .record({
    method: mostly(fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'OPTIONS', 'DELETE'), fc.oneof(token, fc.constantFrom('CONNECT', 'PRI'))),
    path: mostly(fc.webPath().map((p) => p || '/'), anyText),
    version: mostly(fc.constant('HTTP/1.1'), fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/9', '')),
    host: hostHeader,
    headers: fc.array(mostly(fc.tuple(token, printable), fc.tuple(anyText, anyText)), { maxLength: 4 }),
    framing: fc.constantFrom('none', 'length', 'chunked', 'both', 'wrong-length'),
    body: fc.uint8Array({ maxLength: 6_000 }),
  })
  .map(({ method, path, version, host, headers, framing, body }) => {
    const lines = [`${method} ${path} ${version}`, `Host: ${host}`, ...headers.map(([name, value]) => `${name}: ${value}`)];
    const data = Buffer.from(body);
    let payload: Buffer = data;
    if (framing === 'length' || framing === 'both') lines.push(`Content-Length: ${data.length}`);
    if (framing === 'wrong-length') lines.push(`Content-Length: ${data.length + 7}`);
    if (framing === 'chunked' || framing === 'both') {
      lines.push('Transfer-Encoding: chunked');
      payload = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n0\r\n\r\n')]);
    }
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
  });
const garbage = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 512 }).map((a) => Buffer.from(a)),
  fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from(a)])),
);
const clientBytes = fc.oneof({ weight: 4, arbitrary: requestText }, { weight: 1, arbitrary: garbage });

/**
 * Sends the bytes and resolves with the answer: a response head, or what came
 * before the server closed; 'hung' when neither happens in 10 s. (No
 * half-close: Node's HTTP server, like ours, aborts a request whose client
 * half-closes.)
 */
function exchange(bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(fixture.publicPort, '127.0.0.1');
    let received = '';
    const done = (answer: string): void => {
      clearTimeout(hung);
      socket.destroy();
      resolve(answer);
    };
    const hung = setTimeout(() => done('hung'), 10_000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.startsWith('HTTP/') && received.includes('\r\n\r\n')) done(received);
    });
    socket.on('error', () => {});
    socket.on('close', () => done(received));
    socket.write(bytes);
  });
}

describe('fuzzing public clients', () => {
  it(`answers or closes every one of ${cases} random connections`, async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(clientBytes, { minLength: perRun, maxLength: perRun }), async (batch) => {
        const answers = await Promise.all(batch.map(exchange));
        for (const answer of answers) {
          const key = answer === 'hung' ? 'hung' : (answer.slice(0, 12) || 'closed');
          seen.set(key, (seen.get(key) ?? 0) + 1);
        }
        // An HTTP/1.x response, an HTTP/2 SETTINGS frame (type 4) for a preface, or a plain close.
        return answers.every((answer) => answer !== 'hung' && (answer === '' || answer.startsWith('HTTP/1.1 ') || answer.startsWith('HTTP/1.0 ') || answer.charCodeAt(3) === 4));
      }),
      { numRuns: Math.ceil(cases / perRun), endOnFailure: true, seed: Number(process.env.FUZZ_SEED ?? Date.now()) },
    );
    // A spread of outcomes: garbage refused, unknown hosts 404, real requests served.
    expect(seen.get('HTTP/1.1 400') ?? 0).toBeGreaterThan(0);
    expect(seen.get('HTTP/1.1 404') ?? 0).toBeGreaterThan(0);
    expect(seen.get('HTTP/1.1 200') ?? 0).toBeGreaterThan(0);
    await expect.poll(() => fixture.server.inflightRequests).toBe(0);
    expect((await publicRequest({ port: fixture.publicPort, host: 'steady.localhost' })).body.toString()).toBe('steady');
  });
});
