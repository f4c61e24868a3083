// The smallest multiplexed Node tunnel: every request between its two hops
// is a stream of one node:http2 session, as a tunnel's are of its one
// connection (minimal-proxy.mjs instead opens a connection per request in
// flight). Bodies flow by pipe(), the way Node's documentation shows; the
// session has the tunnel's windows, so the default 64 KiB ones do not hold
// it back. Plain JavaScript, run by node alone, like minimal-proxy.mjs.
//
//   node minimal-multiplexed-proxy.mjs service TARGET_PORT   HTTP/2 (h2c) in, HTTP/1.1 to the target
//   node minimal-multiplexed-proxy.mjs public SERVICE_PORT   HTTP/1.1 in, one HTTP/2 session to the service hop
//
// Each prints its port once listening.
import { Agent, createServer, request } from 'node:http';
import { connect, constants, createServer as createHttp2Server } from 'node:http2';

const [role, portArgument] = process.argv.slice(2);
const nextPort = Number(portArgument);
if ((role !== 'service' && role !== 'public') || !Number.isInteger(nextPort) || nextPort <= 0) {
  process.stderr.write('usage: node minimal-multiplexed-proxy.mjs service|public PORT\n');
  process.exit(2);
}

// The tunnel's own windows (src/main/tunnel/config.ts): 1 MiB a stream, 16 MiB the session.
const settings = { initialWindowSize: 1024 * 1024 };
const sessionWindowBytes = 16 * 1024 * 1024;
// Node queues up to a window per stream; its 10 MB default would refuse streams under 1 MiB bodies.
const maxSessionMemory = 1024;
// Connection-specific fields HTTP/2 forbids, and Host, which travels as :authority.
const notForwarded = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

/** HTTP/1.1 headers as HTTP/2 fields, without the pseudo-headers. */
function plainFields(headers) {
  const fields = {};
  for (const [name, value] of Object.entries(headers)) if (!name.startsWith(':') && !notForwarded.has(name)) fields[name] = value;
  return fields;
}

function listen(server) {
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
}

if (role === 'service') {
  const agent = new Agent({ keepAlive: true });
  const server = createHttp2Server({ settings, maxSessionMemory });
  server.on('session', (session) => session.setLocalWindowSize(sessionWindowBytes));
  server.on('stream', (stream, headers) => {
    const upstream = request(
      { host: '127.0.0.1', port: nextPort, method: headers[':method'], path: headers[':path'], headers: { ...plainFields(headers), host: headers[':authority'] }, agent },
      (upstreamRes) => {
        stream.respond({ ':status': upstreamRes.statusCode ?? 502, ...plainFields(upstreamRes.headers) });
        upstreamRes.pipe(stream);
      },
    );
    upstream.on('error', () => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('error', () => upstream.destroy());
    stream.pipe(upstream);
  });
  listen(server);
} else {
  const session = connect(`http://127.0.0.1:${nextPort}`, { settings, maxSessionMemory });
  session.on('connect', () => session.setLocalWindowSize(sessionWindowBytes));
  // The bench owns this process: a lost session ends it rather than leaving a proxy that answers nothing.
  session.on('close', () => process.exit(1));
  session.on('error', () => {});
  const server = createServer((req, res) => {
    const stream = session.request({ ':method': req.method, ':path': req.url, ':authority': req.headers.host ?? '', ...plainFields(req.headers) });
    stream.on('response', (headers) => {
      res.writeHead(headers[':status'], plainFields(headers));
      stream.pipe(res);
    });
    stream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(stream);
  });
  listen(server);
}
