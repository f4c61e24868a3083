// A public request arriving at an edge that holds no stream for its tunnel
// goes on, once, to an edge that does: HTTP streamed both ways, WebSocket
// frames and gRPC streams and trailers as through the tunnel itself. The
// hop's mark is the edges' own: a client cannot forge it, no service sees it.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { RedisEdgeCluster } from '../../src/main/cluster/redis-edge-cluster.js';
import { TunnelAgent } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { edgeHopHeader } from '../../src/main/tunnel/server/edge-forwarder.js';
import type { PublicRequestRecord } from '../../src/main/tunnel/server/public-request-record.js';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import type { TrafficEvent } from '../../src/shared/traffic.js';
import { rawRequest } from '../conformance/raw-http.js';
import { bodyDigest, eventually, eventuallyAsync, publicRequest, startBackend, waitForLive, type Backend } from '../helpers/common.js';
import { echoClient, startEchoBackend, type EchoResponse } from '../helpers/grpc-echo.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
let backend: Backend;
let grpcBackend: Awaited<ReturnType<typeof startEchoBackend>>;
let holding: TunnelServer;
let forwarding: TunnelServer;
/** A forwarding edge that trusts no client's X-Forwarded-* fields. */
let distrusting: TunnelServer;
let agent: TunnelAgent;
/** The forwarding edge's cluster membership: its address and the cluster's secret sign its marks. */
let forwardingCluster: RedisEdgeCluster;
const seenHeaders: IncomingHttpHeaders[] = [];

/** Below the services' own (Node's 16 KiB), so that the edges' limit is what a head meets first. */
const headerLimit = 8 * 1024;

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  redis = await startRedis();
  backend = await startBackend((req, res) => {
    seenHeaders.push(req.headers);
    void bodyDigest(req).then(({ size, sha256 }) => res.end(JSON.stringify({ size, sha: sha256, path: req.url })));
  });
  new WebSocketServer({ server: backend.server }).on('connection', (ws, req) => {
    seenHeaders.push(req.headers);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  grpcBackend = await startEchoBackend();
  const edge = async (trustForwardedFrom?: string[], joined?: (cluster: RedisEdgeCluster) => void): Promise<TunnelServer> => {
    const cluster = new RedisEdgeCluster({ url: redis.url, domain: 'localhost', edgeLeaseMs: 1_000 });
    joined?.(cluster);
    const limits = { maxHeaderBytes: headerLimit };
    // A name no edge holds is unknown from the start (reconnect-grace.test.ts has the grace).
    const server = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost', cluster, trustForwardedFrom, limits, reconnectGraceMs: 0 });
    await server.start();
    return server;
  };
  [holding, forwarding, distrusting] = [await edge(), await edge(undefined, (cluster) => (forwardingCluster = cluster)), await edge(['none'])];
  agent = new TunnelAgent({
    server: `127.0.0.1:${holding.controlPort}`,
    tunnels: [
      { name: 'app', protocol: 'http', target: String(backend.port) },
      { name: 'rpc', protocol: 'grpc', target: String(grpcBackend.port) },
    ],
  });
  const live = waitForLive(agent, 2);
  agent.start();
  await live;
  // The forwarding edge knows the holding one (its lease is renewed every third of a second).
  await eventually(() => forwarding.readiness().ready && distrusting.readiness().ready, 'the forwarding edges ready');
});

afterAll(async () => {
  agent?.stop();
  await distrusting?.stop();
  await forwarding?.stop();
  await holding?.stop();
  grpcBackend?.stop();
  await backend?.close();
  await redis?.stop();
});

describe('a request at an edge that does not hold its tunnel', () => {
  it('goes on to the edge that does, a streamed body intact, and the mark of the hop reaches no service', async () => {
    expect(forwarding.tunnels()).toEqual([]);
    const body = randomBytes(8 * 1024 * 1024 + 17);
    const answer = await publicRequest({ port: forwarding.publicPort, host: 'app.localhost', method: 'POST', path: '/upload', body });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toEqual({ size: body.length, sha: sha(body), path: '/upload' });
    expect(seenHeaders.at(-1)![edgeHopHeader]).toBeUndefined();
  });

  // The forwarding edge asks Redis who holds the tunnel before it reads the body: by then it has all come.
  it.each([
    ['that turns out empty (no length, then an empty DATA frame that ends it)', '', false],
    ['of 5 bytes ended in the same frame, without a length', 'hello', false],
    ['of 5 bytes ended in the same frame, with its length', 'hello', true],
  ])('goes on with an HTTP/2 body %s', async (_label, text, withLength) => {
    const session = connect(`http://127.0.0.1:${forwarding.publicPort}`);
    session.on('error', () => {});
    try {
      const head = { ':method': 'POST', ':path': '/empty', ':authority': 'app.localhost', ...(withLength && { 'content-length': String(text.length) }) };
      const stream = session.request(head, { endStream: false });
      stream.end(Buffer.from(text));
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      const status = await new Promise<number>((resolve) => stream.once('response', (headers) => resolve(Number(headers[':status']))));
      await new Promise((resolve) => stream.once('end', resolve));
      expect({ status, answer: JSON.parse(Buffer.concat(chunks).toString()) }).toEqual({ status: 200, answer: { size: text.length, sha: sha(Buffer.from(text)), path: '/empty' } });
    } finally {
      session.destroy();
    }
  });

  it("records the client's HTTP version for the inspector, not the hop's between the edges", async () => {
    const versions = new Map<string, string | undefined>();
    const listener = (event: TrafficEvent): void => {
      if (event.kind === 'request-start') versions.set(event.path, event.httpVersion);
    };
    agent.on('traffic', listener);
    try {
      const session = connect(`http://127.0.0.1:${forwarding.publicPort}`);
      session.on('error', () => {});
      await new Promise<void>((resolve, reject) => session.request({ ':path': '/over-h2', ':authority': 'app.localhost' }).on('error', reject).on('end', resolve).resume());
      session.destroy();
      await rawRequest(forwarding.publicPort, 'GET /over-h1.0 HTTP/1.0\r\nHost: app.localhost\r\n\r\n');
      await eventually(() => versions.size === 2, 'both requests to reach the agent');
      expect(Object.fromEntries(versions)).toEqual({ '/over-h2': '2.0', '/over-h1.0': '1.0' });
    } finally {
      agent.off('traffic', listener);
    }
  });

  it.each(['HTTP', 'WebSocket'])('tells the service who the client is once over %s, as the holding edge alone would, not the forwarding edge as a second client', async (protocol) => {
    // A proxy on loopback, which edges trust by default, says who its client is.
    const headers = { 'x-forwarded-for': '203.0.113.7' };
    const forwardedFields = async (port: number): Promise<unknown> => {
      if (protocol === 'HTTP') {
        expect((await publicRequest({ port, host: 'app.localhost', path: '/who', headers })).status).toBe(200);
      } else {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/who`, { headers: { host: 'app.localhost', ...headers } });
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
        ws.close();
        await new Promise((resolve) => ws.once('close', resolve));
      }
      const seen = seenHeaders.at(-1)!;
      return { for: seen['x-forwarded-for'], proto: seen['x-forwarded-proto'], host: seen['x-forwarded-host'] };
    };
    const direct = await forwardedFields(holding.publicPort);
    expect(direct).toEqual({ for: '203.0.113.7, 127.0.0.1', proto: 'http', host: 'app.localhost' });
    expect(await forwardedFields(forwarding.publicPort)).toEqual(direct);
    // An edge that does not trust the client drops its claim; the holding edge goes by that edge's account alone.
    expect(await forwardedFields(distrusting.publicPort)).toEqual({ for: '127.0.0.1', proto: 'http', host: 'app.localhost' });
  });

  it('keeps one trace id on both edges: the access logs of the hop and of the holding edge match', async () => {
    // This request's records, not those of an earlier test's WebSocket ending meanwhile.
    const traces = (server: TunnelServer): Promise<string> =>
      new Promise((resolve) => {
        const ended = (record: PublicRequestRecord): void => {
          if (record.path !== '/traced') return;
          server.off('request-end', ended);
          resolve(record.traceId);
        };
        server.on('request-end', ended);
      });
    const [atForwarding, atHolding] = [traces(forwarding), traces(holding)];
    expect((await publicRequest({ port: forwarding.publicPort, host: 'app.localhost', path: '/traced' })).status).toBe(200);
    const [forwardedTrace, heldTrace] = await Promise.all([atForwarding, atHolding]);
    expect(forwardedTrace).toMatch(/^[\da-f]{32}$/);
    expect(heldTrace).toBe(forwardedTrace);
  });

  it('is not fooled by a client forging the mark: the request is forwarded as any other, the forgery dropped', async () => {
    const answer = await publicRequest({ port: forwarding.publicPort, host: 'app.localhost', path: '/forged', headers: { [edgeHopHeader]: `${forwarding.controlPort} 00ff` } });
    expect(answer.status).toBe(200);
    expect(seenHeaders.at(-1)![edgeHopHeader]).toBeUndefined();
    // Straight to the holding edge, a forged mark is dropped as well.
    expect((await publicRequest({ port: holding.publicPort, host: 'app.localhost', path: '/forged', headers: { [edgeHopHeader]: 'x y' } })).status).toBe(200);
    expect(seenHeaders.at(-1)![edgeHopHeader]).toBeUndefined();
  });

  it.each([
    ['an edge from before the trust rule (no vouched word): the holding edge drops them, its client not being trusted', '', { for: '198.51.100.20', realIp: undefined }],
    ['an edge that applied the trust rule: they go on', ' vouched', { for: '203.0.113.7, 198.51.100.20', realIp: '203.0.113.7' }],
  ])('X-Forwarded-* fields forwarded by %s', async (_label, flags, seen) => {
    // The mark a forwarding edge makes (edge-forwarder.ts), and its account of a client at 198.51.100.20 after the client's own claims.
    const self = forwardingCluster.self;
    const signature = createHmac('sha256', forwardingCluster.edgeSecret).update(`burrow edge hop ${self}`).digest('hex');
    const headers = { [edgeHopHeader]: `${self} ${signature} - client${flags}`, 'x-real-ip': '203.0.113.7', 'x-forwarded-for': ['203.0.113.7', '198.51.100.20'], 'x-forwarded-proto': ['https', 'http'] };
    expect((await publicRequest({ port: holding.publicPort, host: 'app.localhost', path: '/hop-claims', headers })).status).toBe(200);
    const last = seenHeaders.at(-1)!;
    expect({ for: last['x-forwarded-for'], realIp: last['x-real-ip'] }).toEqual(seen);
  });

  it('takes a head at the header limit as the holding edge does: the fields the hop adds do not count against it', async () => {
    // Node counts a head as its target and each field's name and value.
    const limit = headerLimit;
    const http1Head = (port: number, path: string, bytes: number): Promise<number> => {
      const fixed = path.length + 'host'.length + 'app.localhost'.length + 'connection'.length + 'close'.length + 'x-big'.length;
      const head = `GET ${path} HTTP/1.1\r\nhost: app.localhost\r\nconnection: close\r\nx-big: ${'v'.repeat(bytes - fixed)}\r\n\r\n`;
      return rawRequest(port, head).then((response) => response.status);
    };
    const webSocketHead = (port: number, bytes: number): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/socket`, { headers: { host: 'app.localhost', 'x-big': 'v'.repeat(bytes) } });
        ws.once('open', () => (ws.close(), resolve(101)));
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('error', () => resolve(-1));
      });
    // HTTP/2 counts each field's name and value and 32 bytes more.
    const grpcHead = (port: number, bytes: number): Promise<string> =>
      new Promise((resolve) => {
        const session = connect(`http://127.0.0.1:${port}`);
        session.on('error', () => {});
        const fields = { ':method': 'POST', ':path': '/echo.Echo/Unary', ':scheme': 'http', ':authority': 'rpc.localhost', 'content-type': 'application/grpc', te: 'trailers' };
        const fixed = Object.entries(fields).reduce((sum, [name, value]) => sum + name.length + value.length + 32, 0) + 'x-big'.length + 32;
        const stream = session.request({ ...fields, 'x-big': 'v'.repeat(bytes - fixed) }, { endStream: true });
        stream.on('error', () => {});
        const ended = (outcome: string): void => (session.close(), resolve(outcome));
        stream.once('response', (headers) => stream.once('trailers', (trailers) => ended(`${headers[':status']} ${trailers['grpc-status']} ${trailers['grpc-message']}`)).once('end', () => ended(`${headers[':status']} ${headers['grpc-status']} ${headers['grpc-message']}`)));
        stream.resume();
        stream.once('close', () => ended(`reset ${stream.rstCode}`));
      });
    for (const [edge, port] of [['holding', holding.publicPort], ['forwarding', forwarding.publicPort]] as const) {
      expect([edge, await http1Head(port, '/under', limit - 1), await http1Head(port, '/at', limit)]).toEqual([edge, 200, 431]);
      expect([edge, await webSocketHead(port, limit - 200)]).toEqual([edge, 101]);
      // The call reaches the service (which knows no such method) under the limit; at it, the edge refuses it.
      expect([edge, await grpcHead(port, limit), await grpcHead(port, limit + 1)]).toEqual([edge, expect.stringMatching(/^200 12 /), expect.stringMatching(/^200 8 /)]);
    }
  });

  it('answers 404 for a name no edge holds, without a loop', async () => {
    const answer = await publicRequest({ port: forwarding.publicPort, host: 'nobody.localhost' });
    expect([answer.status, answer.headers['x-burrow-error']]).toEqual([404, 'BURROW_E_NO_TUNNEL']);
  });

  // Found by the cluster audit: an edge restarted on a holder's address (its names not back), forwarded to, answered 404, a definite "no such tunnel", which the forwarding edge passed on.
  it('is answered 502 offline by an edge it was forwarded to that does not hold its tunnel, not 404', async () => {
    const self = forwardingCluster.self;
    const signature = createHmac('sha256', forwardingCluster.edgeSecret).update(`burrow edge hop ${self}`).digest('hex');
    const answer = await publicRequest({ port: holding.publicPort, host: 'ghost.localhost', path: '/', headers: { [edgeHopHeader]: `${self} ${signature} - client vouched` } });
    expect([answer.status, answer.headers['x-burrow-error']]).toEqual([502, 'BURROW_E_TUNNEL_OFFLINE']);
    expect(answer.body.toString()).toContain('tunnel ghost is not held by the edge it was forwarded to');
    // Asked directly, the same edge knows no such tunnel.
    expect((await publicRequest({ port: holding.publicPort, host: 'ghost.localhost', path: '/' })).status).toBe(404);
  });

  // Found by the cluster audit: while a tunnel's only agent restarted, the edge that held it answered 502 offline and
  // the others 404, a definite "no such tunnel", once they saw no holder.
  it('is answered 502 offline, as at the edge that held it, once its agent is gone from every edge', async () => {
    const brief = new TunnelAgent({ server: `127.0.0.1:${holding.controlPort}`, tunnels: [{ name: 'brief', protocol: 'http', target: String(backend.port) }] });
    const live = waitForLive(brief, 1);
    brief.start();
    await live;
    expect((await publicRequest({ port: forwarding.publicPort, host: 'brief.localhost' })).status).toBe(200);
    brief.stop();
    await eventuallyAsync(async () => (await forwardingCluster.holders('brief')) === undefined, 'the forwarding edge to see no holder of brief');
    const answers = await Promise.all([holding, forwarding].map((edge) => publicRequest({ port: edge.publicPort, host: 'brief.localhost' })));
    expect(answers.map((answer) => [answer.status, answer.headers['x-burrow-error']])).toEqual([
      [502, 'BURROW_E_TUNNEL_OFFLINE'],
      [502, 'BURROW_E_TUNNEL_OFFLINE'],
    ]);
  });

  it('carries WebSocket frames both ways', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${forwarding.publicPort}/socket`, { headers: { host: 'app.localhost' }, maxPayload: 8 * 1024 * 1024 });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    for (const payload of [Buffer.from('hello'), randomBytes(2 * 1024 * 1024)]) {
      const echoed = new Promise<Buffer>((resolve) => ws.once('message', (data: Buffer) => resolve(data)));
      ws.send(payload, { binary: true });
      expect(sha(await echoed)).toBe(sha(payload));
    }
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.close(4001, 'bye');
    expect(await closed).toBe(4001);
  });

  it('carries a gRPC bidirectional stream with its trailers, and a failing call its status', async () => {
    const client = echoClient(forwarding.publicPort, 'rpc');
    const call = client.bidi() as grpc.ClientDuplexStream<object, EchoResponse>;
    const replies: string[] = [];
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('data', (reply: EchoResponse) => replies.push(reply.text));
    for (const text of ['a', 'b', 'c']) call.write({ text });
    call.end();
    expect([replies, (await status).code]).toEqual([['echo:a', 'echo:b', 'echo:c'], grpc.status.OK]);
    const unaryStatus = await new Promise<grpc.StatusObject>((resolve) => (client.unary({ text: 'hi' }, () => {}) as grpc.ClientUnaryCall).on('status', resolve));
    expect([unaryStatus.code, unaryStatus.metadata.get('x-trailer')]).toEqual([grpc.status.OK, ['from-backend']]);
    const failed = await new Promise<grpc.ServiceError | null>((resolve) => client.unary({ failWith: grpc.status.NOT_FOUND }, (error: grpc.ServiceError | null) => resolve(error)));
    expect(failed?.code).toBe(grpc.status.NOT_FOUND);
    client.close();
  });

  it('passes a gRPC caller’s own X-Forwarded-For on as the holding edge does (no edge adds one to gRPC calls)', async () => {
    const seenFor = async (port: number): Promise<unknown> => {
      const client = echoClient(port, 'rpc');
      const metadata = new grpc.Metadata();
      metadata.set('x-forwarded-for', '198.51.100.9');
      await new Promise((resolve) => client.unary({ text: 'who' }, metadata, resolve));
      client.close();
      return grpcBackend.log.metadata.at(-1)?.get('x-forwarded-for');
    };
    const direct = await seenFor(holding.publicPort);
    expect(direct).toEqual(['198.51.100.9']);
    expect(await seenFor(forwarding.publicPort)).toEqual(direct);
  });
});
