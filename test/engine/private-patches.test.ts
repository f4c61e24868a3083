// Each private patch to a pinned library is in place on the pinned version
// (else its benefit would vanish unseen), and one that finds nothing to
// patch changes nothing and says so once, on stderr as a process warning.
import { createServer } from 'node:http';
import { connect, constants, createServer as createHttp2Server } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { finishStreamsAfterGoaway } from '../../src/main/tunnel/agent/http2-goaway-grace.js';
import { LocalHttpClient } from '../../src/main/tunnel/agent/local-http-client.js';
import { http2WindowBytes } from '../../src/main/tunnel/config.js';
import { installGatheredReceive } from '../../src/main/tunnel/patches/grpc-gathered-receive.js';
import { installInPlaceFraming } from '../../src/main/tunnel/patches/grpc-in-place-framing.js';
import { installReleasedSubchannelIdle } from '../../src/main/tunnel/patches/grpc-released-subchannel.js';
import { raiseSessionWindows } from '../../src/main/tunnel/patches/grpc-session-window.js';
import { patchStatus, reportPatch } from '../../src/main/tunnel/patches/patch-report.js';
import { explainRefusedFrameClose } from '../../src/main/tunnel/patches/websocket-close-reason.js';
import { deferCloseReply } from '../../src/main/tunnel/patches/websocket-deferred-close-reply.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Process warnings with our code, collected while `run` runs. */
async function warningsDuring(run: () => unknown): Promise<string[]> {
  const seen: string[] = [];
  const listener = (warning: Error & { code?: string }): void => {
    if (warning.code === 'BURROW_PATCH_MISSING') seen.push(warning.message);
  };
  process.on('warning', listener);
  try {
    await run();
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

describe('on the pinned versions', () => {
  it('grpc-js framing in place, and gathered sends: client and server', () => {
    expect(installInPlaceFraming()).toEqual({ client: true, server: true, clientGathered: true, serverGathered: true });
    expect(patchStatus().get('grpc-client-framing')).toBe(true);
    expect(patchStatus().get('grpc-server-framing')).toBe(true);
    expect(patchStatus().get('grpc-client-gathered-send')).toBe(true);
    expect(patchStatus().get('grpc-server-gathered-send')).toBe(true);
  });

  it('grpc-js gathered receive: client and server', () => {
    expect(installGatheredReceive()).toEqual({ client: true, server: true });
    expect(patchStatus().get('grpc-client-gathering')).toBe(true);
    expect(patchStatus().get('grpc-server-gathering')).toBe(true);
  });

  it('grpc-js server sessions announce the raised HTTP/2 window', async () => {
    const server = new grpc.Server();
    cleanups.push(() => server.forceShutdown());
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    expect(raiseSessionWindows(server, http2WindowBytes)).toBe(true);
    const session = connect(`http://127.0.0.1:${port}`);
    cleanups.push(() => void session.destroy());
    await expect.poll(() => session.remoteSettings?.initialWindowSize).toBe(http2WindowBytes);
  });

  // Found by the cluster audit: an agent whose edges were down a few seconds held hundreds of connections to them once they were back.
  it('grpc-js clients closed while their server was down do not connect once it is back', async () => {
    expect(installReleasedSubchannelIdle()).toBe(true);
    // A port nothing listens on, yet.
    const probe = createTcpServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const Client = grpc.makeGenericClientConstructor(
      { call: { path: '/t.T/Call', requestStream: true, responseStream: true, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b } },
      't.T',
    );
    for (let i = 0; i < 10; i++) {
      const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      (client as unknown as { call(): grpc.ClientDuplexStream<Buffer, Buffer> }).call().on('error', () => {});
      // Long enough for the connection to be refused and a retry ordered.
      await new Promise((resolve) => setTimeout(resolve, 50));
      client.close();
    }
    let accepted = 0;
    const server = createTcpServer((socket) => {
      accepted++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    // grpc-js's first backoff is a second, with jitter: the closed clients would have connected by now.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(accepted).toBe(0);
  });

  it('undici loads only its pool, with the connector that lets its sockets be corked and read after a failed send', async () => {
    const http = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => http.close(() => resolve())));
    const client = new LocalHttpClient();
    cleanups.push(() => client.close());
    const status = await new Promise<number>((resolve, reject) =>
      client.dispatch(
        { host: '127.0.0.1', port: (http.address() as AddressInfo).port },
        { method: 'GET', path: '/', headers: ['Host', 'x'], body: undefined, chunked: false, trailers: () => [] },
        { onConnect: () => {}, onHeaders: (code) => resolve(code), onData: () => true, onComplete: () => {}, onError: reject },
      ),
    );
    expect(status).toBe(200);
    expect(patchStatus().get('undici-pool')).toBe(true);
    expect(patchStatus().get('undici-connector')).toBe(true);
    // Each pool socket reads on after a failed write of a request body.
    expect(patchStatus().get('net-read-after-send-failure')).toBe(true);
  });

  it("Node's HTTP/2 client finishes a stream after the service's GOAWAY with an error code", async () => {
    const server = createHttp2Server();
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.write('first ');
      stream.session?.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, stream.id);
      setTimeout(() => stream.end('last'), 50);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    cleanups.push(() => session.destroy());
    session.on('error', () => {});
    finishStreamsAfterGoaway(session);
    const goaway = new Promise((resolve) => session.once('goaway', resolve));
    const stream = session.request({ ':path': '/' });
    stream.setEncoding('utf8');
    let body = '';
    stream.on('data', (chunk: string) => (body += chunk));
    const warnings = await warningsDuring(() => goaway);
    await new Promise((resolve) => stream.once('end', resolve));
    expect({ body, warnings, closing: session.closed, ownDestroy: Object.hasOwn(session, 'destroy') }).toEqual({ body: 'first last', warnings: [], closing: true, ownDestroy: false });
    expect(patchStatus().get('node-http2-goaway-grace')).toBe(true);
  });

  it('ws sockets take a close reason for oversize messages', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => wss.close());
    await new Promise((resolve) => wss.once('listening', resolve));
    const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    cleanups.push(() => ws.terminate());
    await new Promise((resolve) => ws.once('open', resolve));
    expect(await warningsDuring(() => explainRefusedFrameClose(ws, 1024))).toEqual([]);
    expect(patchStatus().get('ws-close-reason')).toBe(true);
  });

  it("ws sockets answer a peer's close when told to, and can still send until then", async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => wss.close());
    await new Promise((resolve) => wss.once('listening', resolve));
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    cleanups.push(() => client.terminate());
    const [server] = await Promise.all([accepted, new Promise((resolve) => client.once('open', resolve))]);
    let peerClosed!: Promise<[number, string]>;
    expect(
      await warningsDuring(() => {
        peerClosed = new Promise((resolve) => deferCloseReply(server, (code, reason) => resolve([code, reason.toString()])));
      }),
    ).toEqual([]);
    const heard: string[] = [];
    client.on('message', (data) => heard.push(String(data)));
    const clientClosed = new Promise<number>((resolve) => client.once('close', resolve));
    client.close(4000, 'bye');
    expect(await peerClosed).toEqual([4000, 'bye']);
    expect(patchStatus().get('ws-deferred-close-reply')).toBe(true);
    server.send('after your close');
    server.close(4002);
    expect(await clientClosed).toBe(4002);
    expect(heard).toEqual(['after your close']);
  });
});

describe('when a patch finds nothing to patch', () => {
  it('changes nothing and warns once, saying what that costs', async () => {
    const warnings = await warningsDuring(() => {
      expect(raiseSessionWindows({} as grpc.Server, http2WindowBytes)).toBe(false);
      expect(raiseSessionWindows({} as grpc.Server, http2WindowBytes)).toBe(false);
    });
    expect(warnings).toEqual(['private patch grpc-server-window is not installed (library changed?): agents upload through a 64 KiB HTTP/2 window (bulk responses are slower)']);
  });

  it('leaves a socket without the private receiver alone, and warns', async () => {
    const warnings = await warningsDuring(() => expect(explainRefusedFrameClose({} as WebSocket, 1024)).toEqual({}));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^private patch ws-close-reason is not installed/);
    // Back in place: no further warning until it goes missing again.
    expect(await warningsDuring(() => reportPatch('ws-close-reason', true, ''))).toEqual([]);
  });
});
