// The public client's HTTP version reaches the inspector and its HAR export:
// the agent only sees the tunnel, and every entry said HTTP/1.1, an HTTP/2
// client's too.
import { connect } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { harEntry } from '../../src/main/service/har.js';
import { TrafficLog } from '../../src/main/service/traffic-log.js';
import type { TrafficEvent } from '../../src/shared/traffic.js';
import { rawRequest } from '../conformance/raw-http.js';
import { eventually, publicRequest, startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';

let backend: Backend;
let tunnel: TunnelFixture;
const log = new TrafficLog();
/** Request ids by path, as they started. */
const started = new Map<string, string>();

beforeAll(async () => {
  backend = await startBackend((_req, res) => res.end('ok'));
  new WebSocketServer({ server: backend.server }).on('connection', (ws) => ws.close());
  tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
  tunnel.agent.on('traffic', (event: TrafficEvent) => {
    log.apply(event);
    if (event.kind === 'request-start') started.set(event.path, event.requestId);
  });
});
afterAll(async () => {
  await tunnel.stop();
  await backend.close();
});

/** The version the inspector recorded for the request to `path`, once it ended, and its HAR entry's. */
async function recorded(path: string): Promise<{ detail?: string; harRequest: string; harResponse: string }> {
  await eventually(() => started.has(path) && log.detail(started.get(path)!)?.state !== 'in-flight', `the request to ${path} recorded`);
  const detail = log.detail(started.get(path)!)!;
  const entry = harEntry(detail);
  return { detail: detail.httpVersion, harRequest: entry.request.httpVersion, harResponse: entry.response.httpVersion };
}

describe("the public client's HTTP version", () => {
  it('is recorded for HTTP/1.0, HTTP/1.1 and HTTP/2 clients, and their HAR entries say it (the answer as the edge wrote it: HTTP/1.1 to an HTTP/1.0 client)', async () => {
    await rawRequest(tunnel.publicPort, 'GET /one-oh HTTP/1.0\r\nHost: app.localhost\r\n\r\n');
    await publicRequest({ port: tunnel.publicPort, host: 'app.localhost', path: '/one-one' });
    const session = connect(`http://127.0.0.1:${tunnel.publicPort}`);
    await new Promise<void>((resolve, reject) => {
      const stream = session.request({ ':path': '/two', ':authority': 'app.localhost' });
      stream.on('error', reject).on('end', resolve).resume();
    });
    session.close();
    expect(await recorded('/one-oh')).toEqual({ detail: '1.0', harRequest: 'HTTP/1.0', harResponse: 'HTTP/1.1' });
    expect(await recorded('/one-one')).toEqual({ detail: '1.1', harRequest: 'HTTP/1.1', harResponse: 'HTTP/1.1' });
    expect(await recorded('/two')).toEqual({ detail: '2.0', harRequest: 'HTTP/2.0', harResponse: 'HTTP/2.0' });
  });

  it('is recorded for a WebSocket handshake', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${tunnel.publicPort}/socket`, { headers: { host: 'app.localhost' } });
    await new Promise((resolve) => ws.once('close', resolve).once('error', resolve));
    expect((await recorded('/socket')).detail).toBe('1.1');
  });
});
