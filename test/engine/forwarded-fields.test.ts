// X-Forwarded-For, -Proto and -Host as the service reads them: from a client
// the edge does not trust, only the edge's account of it (a client cannot
// claim https or another address, nor in Forwarded, X-Real-IP and the like);
// from a trusted proxy (loopback unless told otherwise), theirs and then
// the edge's. Over HTTP/1.1, HTTP/2 and WebSocket alike; a gRPC caller's
// metadata is its own either way.
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { ConfigSync } from '../../src/main/gen/burrow/v1/tunnel.js';
import { ForwardedFieldTrust } from '../../src/main/tunnel/server/forwarded-fields.js';
import { publicRequest, startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';
import { echoClient, startEchoBackend } from '../helpers/grpc-echo.js';

/** What a client claims about itself, in the fields services read it from. */
const claims = {
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'bank.example',
  'x-forwarded-port': '443',
  forwarded: 'for=203.0.113.7;proto=https',
  'x-real-ip': '203.0.113.7',
  'true-client-ip': '203.0.113.7',
  'client-ip': '203.0.113.7',
  // What CGI-style servers (Rack, WSGI, ASGI) read as X-Forwarded-Proto.
  'X-Forwarded_Proto': 'https',
};
const otherClaims = { port: '443', forwarded: claims.forwarded, realIp: '203.0.113.7', trueClientIp: '203.0.113.7', clientIp: '203.0.113.7', underscored: 'https' };
const noOtherClaims = { port: undefined, forwarded: undefined, realIp: undefined, trueClientIp: undefined, clientIp: undefined, underscored: undefined };

type Seen = Record<'for' | 'proto' | 'host' | keyof typeof otherClaims, unknown>;
const seenIn = (headers: IncomingHttpHeaders): Seen => ({
  for: headers['x-forwarded-for'],
  proto: headers['x-forwarded-proto'],
  host: headers['x-forwarded-host'],
  port: headers['x-forwarded-port'],
  forwarded: headers.forwarded,
  realIp: headers['x-real-ip'],
  trueClientIp: headers['true-client-ip'],
  clientIp: headers['client-ip'],
  underscored: headers['x-forwarded_proto'],
});

let backend: Backend;
let grpcBackend: Awaited<ReturnType<typeof startEchoBackend>>;
const seen: Seen[] = [];
const tunnels: TunnelFixture[] = [];

beforeAll(async () => {
  backend = await startBackend((req, res) => {
    seen.push(seenIn(req.headers));
    res.end('ok');
  });
  new WebSocketServer({ server: backend.server }).on('connection', (ws, req) => {
    seen.push(seenIn(req.headers));
    ws.close();
  });
  grpcBackend = await startEchoBackend();
});
afterAll(async () => {
  for (const tunnel of tunnels) await tunnel.stop();
  grpcBackend.stop();
  await backend.close();
});

async function edgeTrusting(trustForwardedFrom: string[] | undefined, config: Partial<ConfigSync> = {}): Promise<number> {
  const tunnel = await startTunnel(
    [
      { name: 'app', protocol: 'http', target: String(backend.port) },
      { name: 'rpc', protocol: 'grpc', target: String(grpcBackend.port) },
    ],
    { trustForwardedFrom, config },
  );
  tunnels.push(tunnel);
  return tunnel.publicPort;
}

async function overHttp1(port: number): Promise<Seen> {
  expect((await publicRequest({ port, host: 'app.localhost', headers: claims })).status).toBe(200);
  return seen.at(-1)!;
}

async function overHttp2(port: number): Promise<Seen> {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    // Over cleartext, claiming https in :scheme as well.
    const stream = session.request({ ':authority': 'app.localhost', ':path': '/', ':scheme': 'https', ...claims });
    const status = await new Promise((resolve, reject) => {
      stream.on('response', (headers) => resolve(headers[':status']));
      stream.on('error', reject);
    });
    expect(status).toBe(200);
    stream.resume();
    await new Promise((resolve) => stream.on('end', resolve));
    return seen.at(-1)!;
  } finally {
    session.close();
  }
}

async function overWebSocket(port: number): Promise<Seen> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host: 'app.localhost', ...claims } });
  await new Promise((resolve, reject) => {
    ws.on('close', resolve);
    ws.on('error', reject);
  });
  return seen.at(-1)!;
}

const clients = [
  ['HTTP/1.1', overHttp1],
  ['HTTP/2', overHttp2],
  ['WebSocket', overWebSocket],
] as const;

describe('from a client the edge does not trust', () => {
  let port: number;
  beforeAll(async () => {
    port = await edgeTrusting(['none']);
  });

  it.each(clients)('over %s the service reads only the edge’s account of the client', async (_label, client) => {
    expect(await client(port)).toEqual({ for: '127.0.0.1', proto: 'http', host: 'app.localhost', ...noOtherClaims });
  });

  it('passes a gRPC caller’s X-Forwarded-For metadata on as it came (no agent adds one to gRPC calls)', async () => {
    const client = echoClient(port, 'rpc');
    const metadata = new grpc.Metadata();
    metadata.set('x-forwarded-for', '198.51.100.9');
    await new Promise((resolve) => client.unary({ text: 'who' }, metadata, resolve));
    client.close();
    expect(grpcBackend.log.metadata.at(-1)?.get('x-forwarded-for')).toEqual(['198.51.100.9']);
  });
});

describe('from a trusted proxy (loopback, by default)', () => {
  let port: number;
  beforeAll(async () => {
    port = await edgeTrusting(undefined);
  });

  it.each(clients)('over %s the service reads the proxy’s fields, then the edge’s', async (_label, client) => {
    expect(await client(port)).toEqual({ for: '203.0.113.7, 127.0.0.1', proto: 'https, http', host: 'bank.example, app.localhost', ...otherClaims });
  });
});

describe('behind an edge that does not say it took a client’s fields off (before 2026-12-03)', () => {
  let port: number;
  beforeAll(async () => {
    // An edge that lets the client's claims through, as older edges did for every client, and says nothing of it.
    port = await edgeTrusting(undefined, { vouchesForwardedFields: false });
  });

  it.each(clients)('over %s the agent takes them off itself: the service reads only its account of the client', async (_label, client) => {
    expect(await client(port)).toEqual({ for: '127.0.0.1', proto: 'http', host: 'app.localhost', ...noOtherClaims });
  });
});

describe('ForwardedFieldTrust', () => {
  it('trusts the addresses, ranges and named ranges it is given, IPv4-mapped IPv6 included', () => {
    const trust = new ForwardedFieldTrust(['10.1.2.3, 192.168.0.0/16', '2001:db8::/32', 'loopback']);
    for (const address of ['10.1.2.3', '192.168.9.9', '::ffff:192.168.9.9', '2001:db8::1', '127.0.0.1', '::ffff:127.0.0.1', '::1']) expect(trust.trusts(address), address).toBe(true);
    for (const address of ['10.1.2.4', '172.16.0.1', '2001:db9::1', '', undefined, 'not an address']) expect(trust.trusts(address), String(address)).toBe(false);
    expect(new ForwardedFieldTrust().trusts('127.0.0.1')).toBe(true);
    expect(new ForwardedFieldTrust(['none']).trusts('127.0.0.1')).toBe(false);
    expect(new ForwardedFieldTrust(['private']).trusts('172.31.255.255')).toBe(true);
  });

  it.each(['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/8/8', 'example.com', '', 'loopback,', 'none,loopback', '::1/129', 'constructor'])('refuses %j, saying what it takes', (spec) => {
    expect(() => new ForwardedFieldTrust([spec])).toThrow(/not an address|"none" trusts no peer/);
  });
});
