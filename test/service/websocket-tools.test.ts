// The inspector's WebSocket tools against the real engine: a message sent
// into a live connection reaches the local service or the public client,
// byte counts grow while the socket is open, a long frame's kept bytes come
// whole on demand, and the frames export as JSON.
import { get } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { AppService } from '../../src/main/service/app-service.js';
import type { HeaderPair } from '../../src/shared/traffic.js';
import { eventuallyAsync } from '../helpers/common.js';

let service: AppService;
let publicPort: number;
let wss: WebSocketServer;
/** What the local service received, per connection in order of arrival. */
const serviceReceived: { text: string; binary: boolean }[][] = [];
const serviceSockets: WebSocket[] = [];
/** The handshake requests the local service received, as raw header pairs. */
const serviceHandshakes: string[][] = [];

beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (ws, req) => {
    serviceHandshakes.push(req.rawHeaders);
    const received: { text: string; binary: boolean }[] = [];
    serviceReceived.push(received);
    serviceSockets.push(ws);
    ws.on('message', (data: RawData, binary: boolean) => received.push({ text: (data as Buffer).toString(), binary }));
  });
  service = await AppService.open({ initial: { settings: { embeddedServer: true } } });
  const embedded = await service.getEmbeddedServer();
  publicPort = Number(/:(\d+)$/.exec(embedded.publicBaseUrl!)![1]);
  await service.createTunnel({ name: 'ws-tools', protocol: 'http', target: String((wss.address() as AddressInfo).port) });
  await service.createTunnel({ name: 'http-only', protocol: 'http', target: '127.0.0.1:1' });
  await eventuallyAsync(async () => (await service.listTunnels()).every((t) => t.status === 'online'), 'tunnels online', 20_000);
});

afterAll(async () => {
  await service?.close();
  for (const ws of wss?.clients ?? []) ws.terminate();
  wss?.close();
});

interface PublicClient {
  ws: WebSocket;
  received: { text: string; binary: boolean }[];
  requestId: string;
  serviceSide: WebSocket;
  serviceReceived: { text: string; binary: boolean }[];
}

/** A public client through the tunnel, and its request in the traffic log. */
async function connect(path: string): Promise<PublicClient> {
  const connections = serviceSockets.length;
  const ws = new WebSocket(`ws://127.0.0.1:${publicPort}${path}`, { headers: { host: 'ws-tools.localhost' } });
  const received: PublicClient['received'] = [];
  ws.on('message', (data: RawData, binary: boolean) => received.push({ text: (data as Buffer).toString(), binary }));
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  let requestId: string | undefined;
  await eventuallyAsync(async () => {
    requestId = (await service.listRequests({})).find((r) => r.path === path && r.status === 101)?.requestId;
    return requestId !== undefined && serviceSockets.length > connections;
  }, `the socket ${path} open and logged`);
  return { ws, received, requestId: requestId!, serviceSide: serviceSockets[connections]!, serviceReceived: serviceReceived[connections]! };
}

const names = (pairs: readonly HeaderPair[]): string[] => pairs.map(([name]) => name.toLowerCase()).sort();

describe('WebSocket tools', () => {
  it("shows the handshake in full: the public client's request and the local service's answer, each hop making its own key", async () => {
    const client = await connect('/handshake');
    const detail = (await service.getRequestDetail({ requestId: client.requestId }))!;
    expect(names(detail.requestHeaders)).toEqual(['connection', 'host', 'sec-websocket-extensions', 'sec-websocket-key', 'sec-websocket-version', 'upgrade']);
    // This service takes no compression: its answer has no extensions.
    expect(names(detail.responseHeaders)).toEqual(['connection', 'sec-websocket-accept', 'upgrade']);
    // The local service got one handshake of its own, not the public client's key.
    const atService = serviceHandshakes.at(-1)!.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
    expect(atService.filter((name) => name === 'sec-websocket-key')).toHaveLength(1);
    expect(atService.filter((name) => name === 'sec-websocket-version' || name === 'upgrade' || name === 'connection')).toHaveLength(3);
    const clientKey = detail.requestHeaders.find(([name]) => name.toLowerCase() === 'sec-websocket-key')![1];
    const serviceKey = serviceHandshakes.at(-1)![serviceHandshakes.at(-1)!.findIndex((name) => name.toLowerCase() === 'sec-websocket-key') + 1];
    expect(serviceKey).not.toBe(clientKey);
    client.ws.close();
  });

  it('sends a message from the inspector to the local service and to the public client, marked as sent from the inspector, counting bytes live', async () => {
    const client = await connect('/send');
    client.ws.send('from the client');
    await eventuallyAsync(async () => client.serviceReceived.length === 1, 'the client message at the service');

    expect(await service.sendWebSocketMessage({ requestId: client.requestId, to: 'service', text: 'hello service' })).toEqual({ bytes: 13 });
    expect(await service.sendWebSocketMessage({ requestId: client.requestId, to: 'client', base64: Buffer.from([0, 1, 2, 255]).toString('base64') })).toEqual({ bytes: 4 });
    await eventuallyAsync(async () => client.serviceReceived.length === 2 && client.received.length === 1, 'both injected messages delivered');
    expect(client.serviceReceived).toEqual([
      { text: 'from the client', binary: false },
      { text: 'hello service', binary: false },
    ]);
    expect(client.received).toEqual([{ text: Buffer.from([0, 1, 2, 255]).toString(), binary: true }]);

    // The connection carries on as before, both ways.
    client.serviceSide.send('from the service');
    await eventuallyAsync(async () => client.received.length === 2, 'the service message at the client');
    expect(client.received[1]).toEqual({ text: 'from the service', binary: false });

    const detail = (await service.getRequestDetail({ requestId: client.requestId }))!;
    expect(detail.messages.map((m) => [m.direction, m.opcode, m.size, m.injected ?? false])).toEqual([
      ['to-service', 1, 15, false],
      ['to-service', 1, 13, true],
      ['to-client', 2, 4, true],
      ['to-client', 1, 16, false],
    ]);
    // Still open, and the bytes so far are counted.
    expect([detail.state, detail.bytesIn, detail.bytesOut]).toEqual(['in-flight', 15 + 13, 4 + 16]);
    client.ws.close();
  });

  it('refuses with the reason: a closed socket, a request that is not a WebSocket, a malformed message', async () => {
    const client = await connect('/refused');
    const codeOf = (promise: Promise<unknown>): Promise<string | undefined> => promise.then(() => undefined, (error: { code?: string }) => error.code);
    expect(await codeOf(service.sendWebSocketMessage({ requestId: client.requestId, to: 'service', text: 'a', base64: 'YQ==' }))).toBe('BURROW_E_INVALID_INPUT');
    expect(await codeOf(service.sendWebSocketMessage({ requestId: client.requestId, to: 'service', base64: 'not base64!' }))).toBe('BURROW_E_INVALID_INPUT');
    expect(await codeOf(service.sendWebSocketMessage({ requestId: client.requestId, to: 'nowhere' as never, text: 'a' }))).toBe('BURROW_E_INVALID_INPUT');

    await new Promise<void>((resolve, reject) =>
      get({ host: '127.0.0.1', port: publicPort, path: '/plain', headers: { host: 'http-only.localhost' } }, (res) => res.resume().on('end', resolve)).on('error', reject),
    );
    let plainId: string | undefined;
    await eventuallyAsync(async () => (plainId = (await service.listRequests({})).find((r) => r.path === '/plain')?.requestId) !== undefined, 'the plain request logged');
    expect(await codeOf(service.sendWebSocketMessage({ requestId: plainId!, to: 'service', text: 'a' }))).toBe('BURROW_E_INVALID_INPUT');

    client.ws.close();
    await eventuallyAsync(async () => (await service.getRequestDetail({ requestId: client.requestId }))?.state === 'done', 'the socket closed');
    expect(await codeOf(service.sendWebSocketMessage({ requestId: client.requestId, to: 'client', text: 'late' }))).toBe('BURROW_E_CONFLICT');
  });

  // Found by an audit of the inspector's API: 1,500 messages of 1 MiB to a client that read nothing were all
  // taken, and held by the agent (2 GB, outside the heap) until the connection ended.
  it.each(['client', 'service'] as const)('refuses messages to a %s that reads nothing once 16 MiB wait for it, and delivers every one it took', async (to) => {
    const client = await connect(`/unread-${to}`);
    const reader = to === 'client' ? client.ws : client.serviceSide;
    const socket = (reader as unknown as { _socket: Socket })._socket;
    socket.pause();
    const message = Buffer.alloc(1024 * 1024, to).toString('base64');
    let taken = 0;
    let refusal: { code?: string; message?: string } | undefined;
    // Loopback's kernel buffers take a few MiB before anything waits in the agent, and the agent 16 MiB more.
    while (refusal === undefined && taken < 200) {
      refusal = await service.sendWebSocketMessage({ requestId: client.requestId, to, base64: message }).then(
        () => void (taken += 1),
        (error: { code?: string; message?: string }) => ({ code: error.code, message: error.message }),
      );
    }
    expect(refusal).toMatchObject({ code: 'BURROW_E_CONFLICT', message: expect.stringMatching(/^\d+\.\d MiB already wait to be sent to the receiver, which reads slower or not at all/) });
    socket.resume();
    const received = to === 'client' ? client.received : client.serviceReceived;
    await eventuallyAsync(async () => received.length === taken, `the ${taken} messages taken delivered`, 20_000);
    expect(received.every((m) => m.binary && m.text === Buffer.alloc(1024 * 1024, to).toString())).toBe(true);
    // Read again: taken again.
    expect(await service.sendWebSocketMessage({ requestId: client.requestId, to, text: 'after' })).toEqual({ bytes: 5 });
    await eventuallyAsync(async () => received.at(-1)?.text === 'after', 'the next message delivered');
    client.ws.close();
  });

  it('gives a long frame its kept bytes beyond the preview, and exports the frames as JSON', async () => {
    const client = await connect('/long');
    const long = 'x'.repeat(40 * 1024);
    client.ws.send(long);
    client.ws.send(Buffer.from([1, 2, 3]));
    await eventuallyAsync(async () => client.serviceReceived.length === 2, 'both messages at the service');
    await service.sendWebSocketMessage({ requestId: client.requestId, to: 'client', text: 'héllo' });
    await eventuallyAsync(async () => client.received.length === 1, 'the injected message at the client');

    const detail = (await service.getRequestDetail({ requestId: client.requestId }))!;
    expect(Buffer.from(detail.messages[0]!.previewBase64, 'base64').length).toBe(1024);
    const data = await service.getMessageData({ requestId: client.requestId, direction: 'to-service', index: 0 });
    expect({ size: data.size, truncated: data.truncated, kept: Buffer.from(data.base64, 'base64').toString() }).toEqual({ size: 40 * 1024, truncated: true, kept: 'x'.repeat(16 * 1024) });
    await expect(service.getMessageData({ requestId: client.requestId, direction: 'to-service', index: 9 })).rejects.toMatchObject({ code: 'BURROW_E_NOT_FOUND' });

    // Searched in the kept bytes, past the preview: the 40 KiB frame's kept 16 KiB hold "xxx…".
    expect(await service.searchMessages({ requestId: client.requestId, text: 'X'.repeat(2000) })).toEqual({ matches: [{ direction: 'to-service', index: 0 }] });
    expect(await service.searchMessages({ requestId: client.requestId, text: 'HÉLLO' })).toEqual({ matches: [{ direction: 'to-client', index: 0 }] });
    expect(await service.searchMessages({ requestId: client.requestId, text: 'absent' })).toEqual({ matches: [] });

    const exported = await service.exportMessages({ requestId: client.requestId });
    expect(exported.fileName).toBe(`burrow-${client.requestId}-frames.json`);
    const file = JSON.parse(exported.text) as { path: string; messages: Record<string, unknown>[] };
    expect(file.path).toBe('/long');
    expect(file.messages).toEqual([
      { direction: 'to-service', at: expect.any(String), type: 'text', size: 40 * 1024, text: 'x'.repeat(16 * 1024), truncated: true },
      { direction: 'to-service', at: expect.any(String), type: 'binary', size: 3, base64: 'AQID' },
      { direction: 'to-client', at: expect.any(String), type: 'text', size: 6, text: 'héllo', injected: true },
    ]);
    // In HAR too, as Chrome's DevTools writes a WebSocket's messages (they were left out).
    const har = await service.exportHar({ requestIds: [client.requestId] });
    expect((har.log.entries[0] as unknown as Record<string, unknown>)._webSocketMessages).toEqual([
      { type: 'send', time: expect.any(Number), opcode: 1, data: 'x'.repeat(16 * 1024), _size: 40 * 1024 },
      { type: 'send', time: expect.any(Number), opcode: 2, data: 'AQID' },
      { type: 'receive', time: expect.any(Number), opcode: 1, data: 'héllo', _injected: true },
    ]);
    client.ws.close();
  });
});
