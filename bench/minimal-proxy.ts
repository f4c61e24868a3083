// The floor any Node tunnel stands on: the smallest keep-alive reverse proxy
// Node's own http module makes. `node minimal-proxy.ts TARGET_PORT` prints
// its port. The bench runs one, and two chained (a tunnel is two hops:
// server, then agent), in front of the same backend.
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const targetPort = Number(process.argv[2]);
const agent = new Agent({ keepAlive: true });

const server = createServer((req, res) => {
  const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers, agent }, (upstreamRes) => {
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
    upstreamRes.pipe(res);
  });
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
