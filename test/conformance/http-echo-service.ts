// A local HTTP/1.1 service that reports what it received as JSON (method,
// target, headers, body digest, trailers) and can answer with trailers or
// with a body of any size.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  host: string | undefined;
  /** How the body was framed on the way in. */
  framing: 'chunked' | 'length' | 'none';
  bodyBytes: number;
  bodySha256: string;
  trailers: Record<string, string>;
  /** Header names in order, lower case, without those every hop sets itself. */
  headerNames: string[];
}

export interface HttpEchoService {
  port: number;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

const perHop = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

function describe(req: IncomingMessage, body: Buffer): ReceivedRequest {
  const framing = req.headers['transfer-encoding'] !== undefined ? 'chunked' : req.headers['content-length'] !== undefined ? 'length' : 'none';
  return {
    method: req.method ?? '',
    url: req.url ?? '',
    host: req.headers.host,
    framing,
    bodyBytes: body.length,
    bodySha256: createHash('sha256').update(body).digest('hex'),
    trailers: req.trailers as Record<string, string>,
    headerNames: req.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase()).filter((name) => !perHop.has(name)),
  };
}

/** The largest body /bytes/N answers. */
export const maxAnsweredBytes = 17 * 1024 * 1024;
/** Pieces a chunked answer is written in: a prime, so pieces straddle every power-of-two boundary. */
const answerPieceBytes = 7919;

/** The first `size` bytes of the same random content /bytes/N answers, for digests to compare with. */
export const answeredBytes = ((): ((size: number) => Buffer) => {
  let content: Buffer | undefined;
  return (size) => (content ??= randomBytes(maxAnsweredBytes)).subarray(0, size);
})();

/**
 * /trailers answers chunked with a Trailer header and two trailers;
 * /status/N answers N with no body (/status/N?length=L with a
 * Content-Length of L); /cookies/N sets N cookies of ~115 bytes each (a
 * head of N times that); /early-hints sends 103 Early Hints with two Link
 * headers, then 200; /bytes/N answers N bytes of
 * answeredBytes with a Content-Length, /bytes/N/chunked the same chunked;
 * anything else answers the JSON description.
 */
export async function startHttpEcho(): Promise<HttpEchoService> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen = describe(req, Buffer.concat(chunks));
      received.push(seen);
      if (req.url === '/trailers') {
        res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum, x-count' });
        res.write('first part\n');
        res.write('second part\n');
        res.addTrailers({ 'x-checksum': 'abc123', 'x-count': '2' });
        res.end();
        return;
      }
      const status = /^\/status\/(\d{3})(?:\?length=(\d+))?$/.exec(req.url ?? '');
      if (status !== null) {
        // With a length: the Content-Length a 304 may carry for the body it does not send.
        res.writeHead(Number(status[1]), { etag: '"v1"', ...(status[2] !== undefined && { 'content-length': status[2] }) });
        res.end();
        return;
      }
      if (req.url === '/early-hints') {
        res.writeEarlyHints({ link: ['</style.css>; rel=preload; as=style', '</app.js>; rel=preload; as=script'] });
        // The final answer a moment later, as a service that hints before it works.
        setTimeout(() => res.end('after hints'), 20);
        return;
      }
      const cookies = /^\/cookies\/(\d+)$/.exec(req.url ?? '');
      if (cookies !== null) {
        const count = Number(cookies[1]);
        res.setHeader('set-cookie', Array.from({ length: count }, (_, i) => `session-part-${i}=${'c'.repeat(90)}; Path=/; HttpOnly`));
        res.end(`${count} cookies`);
        return;
      }
      const bytes = /^\/bytes\/(\d+)(\/chunked)?$/.exec(req.url ?? '');
      if (bytes !== null && Number(bytes[1]) <= maxAnsweredBytes) {
        const content = answeredBytes(Number(bytes[1]));
        if (bytes[2] === undefined) {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': content.length });
          res.end(content);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let at = 0; at < content.length; at += answerPieceBytes) res.write(content.subarray(at, at + answerPieceBytes));
        res.end();
        return;
      }
      const body = JSON.stringify(seen);
      res.writeHead(200, { 'content-type': 'application/json', 'x-echo': 'yes' });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
