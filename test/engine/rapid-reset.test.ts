// A public HTTP/2 client that opens streams and resets them before their
// answers (CVE-2023-44487, "rapid reset"): found with a raw-frame client,
// whose flood had the agent open 16,000 connections to the local service,
// starve every other client of the tunnel and once die of EMFILE. The edge
// sends such a session away; the agent holds a bounded number of
// connections to a service, however many requests come and go.
import { connect, constants } from 'node:http2';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHttpClient } from '../../src/main/tunnel/agent/local-http-client.js';
import { eventually, publicRequest, startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';
import { localGet } from '../helpers/local-get.js';

let backend: Backend;
let tunnel: TunnelFixture;
/** Requests the service holds, unanswered. */
let held = 0;

beforeAll(async () => {
  // Each answer takes a while, as a real handler's would: requests overlap.
  backend = await startBackend((req, res) => {
    // Held until the client gives up: a request under way.
    if (req.url!.startsWith('/held/')) {
      held++;
      return;
    }
    setTimeout(() => res.end('ok'), 20);
  });
  // Room for 300 requests under way on one connection (128 by default).
  tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }], { limits: { maxStreamsPerConnection: 1_000 } });
});
afterAll(async () => {
  await tunnel.stop();
  await backend.close();
});

describe('a client resetting streams as fast as it opens them', () => {
  it('is sent away with ENHANCE_YOUR_CALM, and another client of the tunnel is served meanwhile', async () => {
    const refusals: (string | undefined)[] = [];
    tunnel.server.on('request-end', (record) => record.refused && refusals.push(`${record.errorCode} ${record.status}`));
    const session = connect(`http://127.0.0.1:${tunnel.publicPort}`);
    session.on('error', () => {});
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
    const closed = new Promise((resolve) => session.once('close', resolve));
    // Once the edge's SETTINGS are in: before them, Node's client holds streams past the default limit back, and
    // drops those reset while held without sending them.
    await new Promise((resolve) => session.once('remoteSettings', resolve));
    // Until sent away: by the edge (ENHANCE_YOUR_CALM) after a few hundred, where nghttp2 itself goes away only
    // after ~1,000 (INTERNAL_ERROR). In batches, each sent before the next is made.
    for (let i = 0; i < 5_000; i++) {
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      if (session.destroyed || session.closed) break;
      const stream = session.request({ ':path': `/flood/${i}`, ':authority': 'app.localhost' });
      stream.on('error', () => {});
      stream.close(constants.NGHTTP2_CANCEL);
    }
    expect(await goaway).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    await closed;
    // Said in the access log and metrics, as other refusals are; with no status, since the session was sent away (it was logged 429).
    expect(refusals).toContain('BURROW_E_RAPID_RESET 0');
    const other = await publicRequest({ port: tunnel.publicPort, host: 'app.localhost', path: '/other' });
    expect([other.status, other.body.toString()]).toEqual([200, 'ok']);
  });
});

describe('a client cancelling requests under way', () => {
  it('is not taken for a flood: 300 cancelled at once (a batch past its deadline) leave its connection serving', async () => {
    const session = connect(`http://127.0.0.1:${tunnel.publicPort}`);
    session.on('error', () => {});
    let goaway: number | undefined;
    session.on('goaway', (code: number) => (goaway = code));
    try {
      const before = held;
      const streams = Array.from({ length: 300 }, (_, i) => {
        const stream = session.request({ ':path': `/held/${i}`, ':authority': 'app.localhost' });
        stream.on('error', () => {});
        return stream;
      });
      await eventually(() => held - before === 300, 'the service to hold all 300', 20_000);
      // Under way for a while (a reset within 100 ms of admission counts as rapid): a wait, no timing assertion.
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const stream of streams) stream.close(constants.NGHTTP2_CANCEL);
      const after = session.request({ ':path': '/after', ':authority': 'app.localhost' });
      const status = await new Promise<number>((resolve, reject) => after.on('error', reject).once('response', (headers) => resolve(Number(headers[':status']))));
      after.resume();
      expect({ status, goaway }).toEqual({ status: 200, goaway: undefined });
    } finally {
      session.destroy();
    }
  });
});

describe('the agent’s connections to a local service', () => {
  it('are at most its bound: requests past it wait their turn and are answered', async () => {
    // A service of its own: connections other tests left to the shared one would close meanwhile and blur the count.
    let connections = 0;
    let most = 0;
    const service = await startBackend((_req, res) => setTimeout(() => res.end('ok'), 20));
    service.server.on('connection', (socket: Socket) => {
      most = Math.max(most, ++connections);
      socket.once('close', () => connections--);
    });
    const client = new LocalHttpClient(4);
    const target = { host: '127.0.0.1', port: service.port };
    try {
      const answers = Array.from({ length: 24 }, () => localGet(client, target));
      await Promise.all(answers);
      expect(most).toBe(4);
    } finally {
      client.close();
      await service.close();
    }
  });
});
