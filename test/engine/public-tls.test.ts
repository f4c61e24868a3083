// The public port over TLS: ALPN chooses HTTP/1.1 (plain requests and
// WebSocket upgrades) or h2 (gRPC) on the same port.
import { once } from 'node:events';
import { request, type RequestOptions } from 'node:https';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import selfsigned from 'selfsigned';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import { startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';

let pems: { cert: string; private: string };
let backend: Backend | undefined;
let tunnel: TunnelFixture | undefined;
let grpcBackend: grpc.Server | undefined;

beforeAll(async () => {
  pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    // Node refuses a wildcard right under a one-label domain, so name each host.
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'web.localhost' }, { type: 2, value: 'rpc.localhost' }] }],
  });
});

afterEach(async () => {
  await tunnel?.stop();
  await backend?.close();
  grpcBackend?.forceShutdown();
  tunnel = backend = grpcBackend = undefined;
});

const passthrough = (b: Buffer): Buffer => b;
const echoService = {
  echo: {
    path: '/burrow.test.Raw/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: passthrough,
    requestDeserialize: passthrough,
    responseSerialize: passthrough,
    responseDeserialize: passthrough,
  },
} satisfies grpc.ServiceDefinition;

describe('public TLS', () => {
  it('serves HTTPS, WSS and gRPC over TLS on one port, with https public URLs', async () => {
    backend = await startBackend((req, res) => res.end(`secure ${req.url} ${req.headers['x-forwarded-proto']}`));
    const wss = new WebSocketServer({ server: backend.server });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    grpcBackend = new grpc.Server();
    grpcBackend.addService(echoService, {
      echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.concat([Buffer.from('rpc:'), call.request])),
    });
    const grpcPort = await new Promise<number>((resolve, reject) =>
      grpcBackend!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    tunnel = await startTunnel(
      [
        { name: 'web', protocol: 'http', target: String(backend.port) },
        { name: 'rpc', protocol: 'grpc', target: String(grpcPort) },
      ],
      { publicTls: { cert: pems.cert, key: pems.private } },
    );
    const port = tunnel.publicPort;
    expect(tunnel.agent.liveTunnels.map((t) => t.publicUrl).sort()).toEqual([`https://rpc.localhost:${port}`, `https://web.localhost:${port}`]);

    // An HTTP/1.1 client that also offers h2 must still get HTTP/1.1 semantics when it asks for them.
    const { body, alpn } = await new Promise<{ body: string; alpn: unknown }>((resolve, reject) => {
      const options: RequestOptions & { ALPNProtocols: string[] } = {
        host: '127.0.0.1',
        port,
        path: '/hi',
        servername: 'web.localhost',
        headers: { host: 'web.localhost' },
        ca: pems.cert,
        ALPNProtocols: ['http/1.1'],
      };
      request(
        options,
        (res) => {
          const negotiated = (res.socket as { alpnProtocol?: unknown }).alpnProtocol;
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ body: text, alpn: negotiated }));
        },
      )
        .on('error', reject)
        .end();
    });
    expect(alpn).toBe('http/1.1');
    expect(body).toBe('secure /hi https');

    // ws passes TLS options such as servername through to tls.connect.
    const wsOptions: ClientOptions & { servername: string } = { headers: { host: 'web.localhost' }, servername: 'web.localhost', ca: pems.cert };
    const ws = new WebSocket(`wss://127.0.0.1:${port}/chat`, wsOptions);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send('over tls');
    const echoed = await new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    expect(echoed).toBe('over tls');
    ws.close();

    const Client = grpc.makeGenericClientConstructor(echoService, 'Raw');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(pems.cert)), {
      'grpc.ssl_target_name_override': 'rpc.localhost',
      'grpc.default_authority': 'rpc.localhost',
    });
    const reply = await new Promise<Buffer>((resolve, reject) =>
      (client as unknown as { echo: (req: Buffer, cb: (e: Error | null, r: Buffer) => void) => void }).echo(Buffer.from('hello'), (e, r) => (e ? reject(e) : resolve(r))),
    );
    client.close();
    expect(reply.toString()).toBe('rpc:hello');
  });
});

// Port checks, load balancers' TCP health checks and scanners connect and
// close before any handshake; slow or stalled clients stop halfway. Node
// reports both as tlsClientError and leaves the socket open.
describe('public TLS connections that never finish a handshake', () => {
  const silentClient = (port: number): Socket => connect(port, '127.0.0.1').on('error', () => {});

  it('are closed by the edge: at once when the client closes, at the head timeout when it stalls or says nothing after ALPN h2', async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    tunnel = await startTunnel([{ name: 'web', protocol: 'http', target: String(backend.port) }], { publicTls: { cert: pems.cert, key: pems.private }, limits: { headerTimeoutMs: 300 } });
    // Closes its side (FIN) before saying anything: the edge's side stayed open (CLOSE-WAIT) for good.
    const closer = silentClient(tunnel.publicPort);
    await once(closer, 'connect');
    closer.end();
    // Half of a ClientHello's record header, then nothing.
    const staller = silentClient(tunnel.publicPort);
    await once(staller, 'connect');
    staller.write(Buffer.from([0x16, 0x03, 0x01]));
    // Its handshake done with ALPN h2, then not a byte of HTTP/2: held for the idle timeout (60 s) before.
    const mute = tlsConnect({ port: tunnel.publicPort, host: '127.0.0.1', servername: 'web.localhost', ALPNProtocols: ['h2'], rejectUnauthorized: false }).on('error', () => {});
    await once(mute, 'secureConnect');
    // Reads what the edge says (its SETTINGS, then GOAWAY), so that its close can be seen.
    mute.resume();
    // A socket closes only once both sides have: each resolves when the edge has closed its side.
    await Promise.all([once(closer, 'close'), once(staller, 'close'), once(mute, 'close')]);
    expect([closer.destroyed, staller.destroyed, mute.destroyed]).toEqual([true, true, true]);
  });

  it('do not hold up stopping the server', async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    tunnel = await startTunnel([{ name: 'web', protocol: 'http', target: String(backend.port) }], { publicTls: { cert: pems.cert, key: pems.private } });
    const staller = silentClient(tunnel.publicPort);
    await once(staller, 'connect');
    const closed = once(staller, 'close');
    const stopping = tunnel.stop();
    tunnel = undefined;
    await Promise.all([stopping, closed]);
    expect(staller.destroyed).toBe(true);
  });
});
