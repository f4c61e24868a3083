// A local HTTP/1.1 service that reports what it received as JSON (method,
// target, headers, body digest, trailers) and can answer with trailers.
import { createHash } from 'node:crypto';
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

/**
 * /trailers answers chunked with a Trailer header and two trailers;
 * /status/N answers N with no body; anything else answers the JSON description.
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
      const status = /^\/status\/(\d{3})$/.exec(req.url ?? '');
      if (status !== null) {
        res.writeHead(Number(status[1]), { etag: '"v1"' });
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
