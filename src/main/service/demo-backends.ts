// Local services to tunnel to when trying Burrow out: an HTTP echo that
// answers with what it received.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoBackends {
  httpPort: number;
  close(): Promise<void>;
}

export async function startDemoBackends(host = '127.0.0.1'): Promise<DemoBackends> {
  const http = createHttpEcho();
  await new Promise<void>((resolve) => http.listen(0, host, resolve));
  return {
    httpPort: (http.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

/** Echoes method, path and headers as JSON; POST/PUT bodies are streamed back as they arrive. */
function createHttpEcho(): Server {
  return createServer((req, res) => {
    if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
      req.pipe(res);
      return;
    }
    const body = JSON.stringify({ method: req.method, path: req.url, headers: req.headers, at: new Date().toISOString() }, null, 2);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
}
