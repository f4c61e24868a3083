// The web inspector: the contract over WebSocket, and who may use it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, type WebSocketServer } from 'ws';
import { InspectorServer } from '../../src/main/inspector/inspector-server.js';
import { sendStaticFile } from '../../src/main/inspector/static-file.js';
import { AppService } from '../../src/main/service/app-service.js';
import { inProcessApi } from '../../src/main/service/command-dispatch.js';
import { defaultTrafficLogLimits } from '../../src/main/service/traffic-log.js';
import { buildApi } from '../../src/shared/contract-client.js';
import { commandNames, eventNames, maxHarImportBytes, type AppEvents, type BurrowApi, type EventName } from '../../src/shared/contract.js';
import { webSocketTransport } from '../../src/shared/websocket-transport.js';
import { rawRequest } from '../conformance/raw-http.js';
import { eventually } from '../helpers/common.js';
import { contractSamples, expectEverySampleAnswered, triggerEveryEvent } from '../helpers/contract-samples.js';

let service: AppService;
let inspector: InspectorServer;

beforeEach(async () => {
  // Nothing listens on this control address: the agent just keeps retrying.
  service = await AppService.open({ initial: { settings: { serverAddress: '127.0.0.1:1', token: '', embeddedServer: false, embeddedPublicPort: 0 } }, flushIntervalMs: 20 });
  inspector = await InspectorServer.start({ host: '127.0.0.1', port: 0, service, token: 'test-token' });
});

afterEach(async () => {
  await inspector.stop();
  await service.close();
});

function connect(path: string, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${inspector.port}${path}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

async function webSocketApi(): Promise<{ api: BurrowApi; ws: WebSocket }> {
  const ws = await connect('/api?token=test-token', { origin: `http://127.0.0.1:${inspector.port}` });
  if (typeof ws === 'number') throw new Error(`inspector refused the connection: ${ws}`);
  return { api: buildApi(webSocketTransport(ws)), ws };
}

describe('web inspector security', () => {
  it('refuses the API without the right token', async () => {
    expect(await connect('/api')).toBe(401);
    expect(await connect('/api?token=wrong')).toBe(401);
  });

  it('refuses a foreign Origin and a foreign Host (DNS rebinding)', async () => {
    expect(await connect('/api?token=test-token', { origin: 'http://evil.example' })).toBe(403);
    expect(await connect('/api?token=test-token', { host: `evil.example:${inspector.port}` })).toBe(403);
    const status = await new Promise<number>((resolve) => {
      request({ host: '127.0.0.1', port: inspector.port, path: '/', headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).end();
    });
    expect(status).toBe(403);
  });

  it('says whether a token is right (so the page can tell a wrong token from burrow not running), on allowed Hosts only', async () => {
    const status = (path: string, host = `127.0.0.1:${inspector.port}`): Promise<number> =>
      new Promise((resolve) => {
        request({ host: '127.0.0.1', port: inspector.port, path, headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).end();
      });
    expect(await status('/api/token?token=test-token')).toBe(204);
    expect(await status('/api/token?token=wrong')).toBe(401);
    expect(await status('/api/token')).toBe(401);
    expect(await status('/api/token?token=test-token', 'evil.example')).toBe(403);
  });

  it('answers request targets that are no URL or no path with 400 or 404, and stays up (any web page can send them)', async () => {
    const rendererDir = mkdtempSync(join(tmpdir(), 'burrow-renderer-'));
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Burrow</title>');
    const withPages = await InspectorServer.start({ host: '127.0.0.1', port: 0, service, token: 'test-token', rendererDir });
    try {
      const get = (target: string, extra = ''): Promise<number> =>
        rawRequest(withPages.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${withPages.port}\r\n${extra}Connection: close\r\n\r\n`).then((response) => response.status);
      expect(await get('/%E0%A4%A')).toBe(404);
      // A path, which a browser sends for http://127.0.0.1:4040//, not a URL relative to the scheme.
      expect(await get('//')).toBe(200);
      expect(await get('http://[/')).toBe(400);
      expect(await get('http://[/api?token=test-token', 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n')).toBe(400);
      expect(await get('/')).toBe(200);
    } finally {
      await withPages.stop();
      rmSync(rendererDir, { recursive: true, force: true });
    }
  });

  it('answers 404 for a file that went away between finding and opening it (the UI rebuilt while a tab reloads)', async () => {
    const server = createServer((_req, res) => sendStaticFile(res, join(tmpdir(), `burrow-gone-${process.pid}.js`), { 'content-type': 'text/javascript' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const response = await rawRequest(port, 'GET /gone.js HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      expect([response.status, response.rest.includes('not found')]).toEqual([404, true]);
    } finally {
      server.close();
    }
  });

  it('cuts off a client that reads no results, as one that reads no events, instead of holding them all', async () => {
    const tight = await InspectorServer.start({ host: '127.0.0.1', port: 0, service, token: 'test-token', maxBufferedBytes: 256 * 1024 });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${tight.port}/api?token=test-token`);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      // The client stops reading; its calls keep coming.
      (ws as unknown as { _socket: Socket })._socket.pause();
      const call = JSON.stringify({ type: 'call', id: 1, name: 'getSettings', input: undefined });
      for (let i = 0; i < 40_000; i++) ws.send(call);
      await eventually(() => tight.openClients === 0, 'the server to cut the client off');
      (ws as unknown as { _socket: Socket })._socket.resume();
      expect(await closed).toBe(1013);
    } finally {
      await tight.stop();
    }
  });

  // Found by an audit of the API: a result larger than the bound (a HAR export of 30 MB) cut the client reading it.
  it('does not cut off a client for the size of a result it is reading', async () => {
    const tight = await InspectorServer.start({ host: '127.0.0.1', port: 0, service, token: 'test-token', maxBufferedBytes: 256 * 1024 });
    try {
      // 300 bodies of the 64 KiB the log keeps of each: an export of ~26 MB.
      const body = randomBytes(48 * 1024).toString('base64');
      const entry = (i: number) => ({ startedDateTime: '2026-12-04T12:00:00.000Z', time: 1, request: { method: 'GET', url: `http://a.localhost/large-export/${i}`, headers: [] }, response: { status: 200, headers: [], content: { size: body.length, mimeType: 'text/plain', text: body } } });
      await inProcessApi(service).importHar({ text: JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '1' }, entries: Array.from({ length: 300 }, (_, i) => entry(i)) } }) });
      const ws = new WebSocket(`ws://127.0.0.1:${tight.port}/api?token=test-token`, { maxPayload: 0 });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const closes: number[] = [];
      ws.on('close', (code) => closes.push(code));
      const api = buildApi(webSocketTransport(ws));
      // The client reads once events have gone out behind the result: far more than the kernel takes waits meanwhile.
      const socket = (ws as unknown as { _socket: Socket })._socket;
      socket.pause();
      const exported = api.exportHar({});
      const serverSide = [...(tight as unknown as { wss: WebSocketServer }).wss.clients][0]!;
      await eventually(() => serverSide.bufferedAmount > 4 * 1024 * 1024, 'the result waiting to be written');
      for (let i = 0; i < 5; i++) service.showView('inspector');
      socket.resume();
      expect((await exported).log.entries.length).toBeGreaterThanOrEqual(300);
      // Still served: a cut-off client's next call finds the connection closed.
      expect(await api.getSettings()).toHaveProperty('serverAddress');
      expect(closes).toEqual([]);
      ws.close();
    } finally {
      await tight.stop();
    }
  });

  it('stops hearing the service when it cannot listen (the CLI tries ten ports: Node warned of a leak)', async () => {
    const listening = (): number[] => eventNames.map((name) => service.listenerCount(name));
    const before = listening();
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(InspectorServer.start({ host: '127.0.0.1', port: inspector.port, service })).rejects.toThrow(/EADDRINUSE/);
    }
    expect(listening()).toEqual(before);
  });

  it('puts the token in the URL fragment, which browsers never send', () => {
    expect(inspector.url).toBe(`http://127.0.0.1:${inspector.port}/#token=test-token`);
  });
});

describe('the contract over every transport', () => {
  it('answers every command in-process and over the inspector WebSocket, with the same answers', async () => {
    const { api: overWebSocket, ws } = await webSocketApi();
    await expectEverySampleAnswered(inProcessApi(service), 'in-process');
    await expectEverySampleAnswered(overWebSocket, 'websocket');
    expect(Object.keys(contractSamples).sort()).toEqual([...commandNames].sort());
    ws.close();
  });

  it('delivers every event in-process and over the inspector WebSocket', async () => {
    const { api: overWebSocket, ws } = await webSocketApi();
    const seen: Record<string, Set<EventName>> = { 'in-process': new Set(), websocket: new Set() };
    for (const [label, api] of [['in-process', inProcessApi(service)], ['websocket', overWebSocket]] as const) {
      for (const name of eventNames) api.on(name, (_payload: AppEvents[typeof name]) => seen[label].add(name));
    }
    await triggerEveryEvent(inProcessApi(service), service);
    await eventually(() => eventNames.every((name) => seen['in-process'].has(name) && seen.websocket.has(name)), 'every event on both transports (stats tick each second)');
    ws.close();
  });

  // Found by the HAR audit: a message over 1 MiB closed the connection (1009), so the inspector's own exports would not import.
  it('imports a HAR file of several MiB over the WebSocket, and says why one over the limit is not', async () => {
    const { api: overWebSocket, ws } = await webSocketApi();
    const body = 'x'.repeat(64 * 1024);
    const entry = (i: number) => ({
      startedDateTime: '2026-12-04T12:00:00.000Z',
      time: 1,
      request: { method: 'POST', url: `http://a.localhost/big/${i}`, headers: [], postData: { mimeType: 'text/plain', text: body } },
      response: { status: 200, headers: [], content: { size: body.length, mimeType: 'text/plain', text: body } },
    });
    const text = JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '1' }, entries: Array.from({ length: 40 }, (_, i) => entry(i)) } });
    expect(text.length).toBeGreaterThan(4 * 1024 * 1024);
    expect(await overWebSocket.importHar({ text })).toEqual({ imported: 40, skipped: [] });
    const tooLarge = await inProcessApi(service)
      .importHar({ text: ' '.repeat(maxHarImportBytes + 1) })
      .catch((error: Error & { code?: string }) => ({ code: error.code, message: error.message }));
    expect(tooLarge).toEqual({ code: 'BURROW_E_INVALID_INPUT', message: 'the HAR file is 64.0 MiB: at most 64 MiB can be imported' });
    ws.close();
  });

  // Found by an audit of the API: an id given 40,000 times made as many entries, and ran the process out of memory.
  it('exports a request asked for more than once as one entry', async () => {
    const api = inProcessApi(service);
    const entry = { startedDateTime: '2026-12-04T12:00:00.000Z', time: 1, request: { method: 'GET', url: 'http://a.localhost/asked-thrice', headers: [] }, response: { status: 204, headers: [], content: { size: 0, mimeType: 'text/plain' } } };
    await api.importHar({ text: JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '1' }, entries: [entry] } }) });
    const { requestId } = (await api.listRequests({})).find((request) => request.path === '/asked-thrice')!;
    const har = await api.exportHar({ requestIds: [requestId, requestId, requestId] });
    expect(har.log.entries.map((e) => e.request.url)).toEqual(['http://a.localhost/asked-thrice']);
  });

  // Found by an audit of the API: a million entries were all converted, for a log that kept the newest of them.
  it('imports the newest requests of a HAR larger than the log, saying how many it left out', async () => {
    const api = inProcessApi(service);
    const entry = (i: number) => ({ startedDateTime: '2026-12-04T12:00:00.000Z', time: 1, request: { method: 'GET', url: `http://a.localhost/many/${i}`, headers: [] }, response: { status: 204, headers: [] } });
    const entries = Array.from({ length: defaultTrafficLogLimits.maxRequests + 5 }, (_, i) => entry(i + 1));
    const result = await api.importHar({ text: JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '1' }, entries } }) });
    expect(result).toEqual({ imported: defaultTrafficLogLimits.maxRequests, skipped: [`entries 1 to 5: left out, the traffic log keeps the newest ${defaultTrafficLogLimits.maxRequests} requests`] });
    const paths = (await api.listRequests({})).map((request) => request.path);
    expect(paths).toHaveLength(defaultTrafficLogLimits.maxRequests);
    expect(paths).toContain(`/many/${entries.length}`);
    expect(paths).not.toContain('/many/5');
  });

  // Found by the same audit: a thousand kept gzip bodies, each decoded to 1 MiB, made an export of gigabytes.
  it('decodes at most 16 MiB of bodies in one export, and writes the rest as sent, saying why', async () => {
    const api = inProcessApi(service);
    const gzipped = gzipSync(Buffer.alloc(1024 * 1024)).toString('base64');
    const entry = (i: number) => ({
      startedDateTime: '2026-12-04T12:00:00.000Z',
      time: 1,
      request: { method: 'GET', url: `http://a.localhost/inflating/${i}`, headers: [] },
      response: { status: 200, headers: [{ name: 'content-encoding', value: 'gzip' }], content: { size: 1024 * 1024, mimeType: 'application/octet-stream', text: gzipped, encoding: 'base64' } },
    });
    await api.importHar({ text: JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '1' }, entries: Array.from({ length: 20 }, (_, i) => entry(i)) } }) });
    const ids = (await api.listRequests({})).filter((request) => request.path.startsWith('/inflating/')).map((request) => request.requestId);
    const contents = (await api.exportHar({ requestIds: ids })).log.entries.map((e) => e.response.content);
    expect(contents.filter((content) => content.comment === undefined).map((content) => content.size)).toEqual(Array(16).fill(1024 * 1024));
    expect(contents.filter((content) => content.comment !== undefined).map((content) => content.comment)).toEqual(Array(4).fill("as sent (gzip): the export's decoded bodies reached 16 MiB"));
  });

  it('answers malformed messages and unknown commands with error values, and stays up', async () => {
    const ws = (await connect('/api?token=test-token')) as WebSocket;
    const replies: unknown[] = [];
    ws.on('message', (data) => replies.push(JSON.parse(String(data))));
    ws.send('not json');
    ws.send(JSON.stringify({ type: 'call', id: 7, name: 'dropDatabase', input: {} }));
    ws.send('null');
    ws.send(JSON.stringify({ type: 'call', id: 8, name: {}, input: {} }));
    await eventually(() => replies.filter((r) => (r as { type: string }).type === 'result').length === 4, 'four replies');
    const results = replies.filter((r) => (r as { type: string }).type === 'result') as { id: number | null; result: { ok: boolean; code: string; message: string } }[];
    // A known message's answer comes after the malformed ones', which need no command to run.
    expect(results.filter((r) => r.id === 7).map((r) => [r.result.ok, r.result.code])).toEqual([[false, 'BURROW_E_UNKNOWN_COMMAND']]);
    const malformed = results.filter((r) => r.id === null);
    expect(malformed.map((r) => [r.result.ok, r.result.code])).toEqual(Array(3).fill([false, 'BURROW_E_INVALID_INPUT']));
    // Said in the protocol's words, not JavaScript's ("Cannot read properties of null").
    expect(malformed.slice(1).map((r) => r.result.message)).toEqual(Array(2).fill('bad message: expected {type: "call", id, name, input}'));
    const { api, ws: second } = await webSocketApi();
    expect(await api.getSettings(undefined)).toMatchObject({ serverAddress: '127.0.0.1:1' });
    ws.close();
    second.close();
  });

  // Found by an audit of the API: a 100 MB command name came back whole in its error, an array nested 100,000 deep
  // answered INTERNAL (a stack overflow while writing the error), and a call id of 1e400 was answered as null.
  it('names refused input briefly in its errors, nested as deep as it may be, and refuses an id it cannot answer to', async () => {
    const ws = (await connect('/api?token=test-token')) as WebSocket;
    const results: { id: number | null; result: { ok: boolean; code: string; message: string } }[] = [];
    ws.on('message', (data) => results.push(JSON.parse(String(data))));
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    ws.send(JSON.stringify({ type: 'call', id: 1, name: 'x'.repeat(1_000_000), input: {} }));
    ws.send(`{"type":"call","id":2,"name":"removeTunnel","input":{"id":${deep}}}`);
    ws.send(`{"type":"call","id":3,"name":"updateSettings","input":{"serverAddress":${deep}}}`);
    ws.send('{"type":"call","id":1e400,"name":"getSettings","input":{}}');
    ws.send(`{"type":"call","id":4,"name":"createTunnel","input":{"name":${deep},"target":"3000"}}`);
    ws.send(JSON.stringify({ type: 'call', id: 5, name: 'createTunnel', input: { name: 'long-target', target: 'y'.repeat(1_000_000) } }));
    await eventually(() => results.length === 6, 'six answers');
    const byId = new Map(results.map((r) => [r.id, r.result]));
    expect(byId.get(1)).toEqual({ ok: false, code: 'BURROW_E_UNKNOWN_COMMAND', message: `unknown command ${'x'.repeat(80)}… (1000000 characters)` });
    expect(byId.get(2)).toEqual({ ok: false, code: 'BURROW_E_NOT_FOUND', message: 'no tunnel with id a list' });
    expect(byId.get(3)).toMatchObject({ ok: false, code: 'BURROW_E_INVALID_INPUT', message: expect.stringContaining('got "a list"') });
    expect(byId.get(4)).toMatchObject({ ok: false, code: 'BURROW_E_INVALID_INPUT', message: expect.stringMatching(/got a list$/) });
    expect(byId.get(5)).toMatchObject({ ok: false, code: 'BURROW_E_INVALID_INPUT', message: expect.stringContaining(`"${'y'.repeat(80)}… (1000000 characters)" is not a local address`) });
    expect(results.every((r) => r.result.message.length < 300)).toBe(true);
    expect(byId.get(null)).toEqual({ ok: false, code: 'BURROW_E_INVALID_INPUT', message: 'bad message: expected {type: "call", id, name, input}' });
    ws.close();
  });
});
