// The floor any Node tunnel stands on: the smallest keep-alive reverse proxy
// Node's own http module makes. `node minimal-proxy.mjs TARGET_PORT` prints
// its port. The bench runs two chained (a tunnel is two hops: server, then
// agent) in front of the same backend. Plain JavaScript, run by node alone,
// so its memory is Node's own (tsx would add ~35 MB).
import { Agent, createServer, request } from 'node:http';

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
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
