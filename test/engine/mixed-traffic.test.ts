// HTTP, WebSocket and gRPC at the same time on one agent and one Proxy stream.
import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { eventually, publicRequest, startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';
import { echoClient, startEchoBackend, type EchoResponse } from '../helpers/grpc-echo.js';

let backend: Backend | undefined;
let tunnel: TunnelFixture | undefined;
let stopGrpc: (() => void) | undefined;

afterEach(async () => {
  await tunnel?.stop();
  stopGrpc?.();
  await backend?.close();
  tunnel = backend = stopGrpc = undefined;
});

describe('mixed traffic', () => {
  it('serves 200 HTTP requests, 50 WebSockets x 20 messages and 50 gRPC bidi streams x 20 at once, all correct', async () => {
    backend = await startBackend((req, res) => res.end(`http ${req.url}`));
    const wss = new WebSocketServer({ server: backend.server });
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`ws ${String(data)}`)));
    const grpcBackend = await startEchoBackend();
    stopGrpc = grpcBackend.stop;
    tunnel = await startTunnel([
      { name: 'web', protocol: 'http', target: String(backend.port) },
      { name: 'rpc', protocol: 'grpc', target: String(grpcBackend.port) },
    ]);
    const port = tunnel.publicPort;

    const http = Array.from({ length: 200 }, async (_, i) => (await publicRequest({ port, host: 'web.localhost', path: `/r${i}` })).body.toString() === `http /r${i}`);

    const sockets = Array.from({ length: 50 }, async (_, s) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host: 'web.localhost' } });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const replies: string[] = [];
      const done = new Promise<void>((resolve) =>
        ws.on('message', (data) => {
          replies.push(String(data));
          if (replies.length === 20) resolve();
        }),
      );
      for (let m = 0; m < 20; m++) ws.send(`${s}.${m}`);
      await done;
      ws.close();
      return replies.join('|') === Array.from({ length: 20 }, (_, m) => `ws ${s}.${m}`).join('|');
    });

    const client = echoClient(port, 'rpc');
    const streams = Array.from({ length: 50 }, (_, s) =>
      new Promise<boolean>((resolve, reject) => {
        const call = client.bidi() as grpc.ClientDuplexStream<object, EchoResponse>;
        const texts: string[] = [];
        call.on('data', (r: EchoResponse) => texts.push(r.text));
        call.on('error', reject);
        call.on('end', () => resolve(texts.join('|') === Array.from({ length: 20 }, (_, m) => `echo:${s}.${m}`).join('|')));
        for (let m = 0; m < 20; m++) call.write({ text: `${s}.${m}` });
        call.end();
      }),
    );

    const results = await Promise.all([...http, ...sockets, ...streams]);
    client.close();
    expect(results.filter((ok) => !ok)).toHaveLength(0);
    expect(results).toHaveLength(300);
    await eventually(() => tunnel!.server.inflightRequests === 0 && tunnel!.agent.inflightRequests === 0, 'everything to be released');
    wss.close();
  });
});
