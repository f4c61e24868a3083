// WebSocket through burrow processes compared with the service directly,
// with the ws client: messages from 0 B to the documented maximum, each
// followed at once by a burst of small ones, echoed back (so both
// directions); permessage-deflate where both ends support it; messages over
// the limit closed with 1009 and a reason that names it.
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import { eventually } from '../helpers/common.js';
import { rawRequest } from './raw-http.js';
import { startProcessTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';
import { patternedBytes, startWebSocketEcho, type WebSocketEchoService } from './websocket-echo-service.js';

const MiB = 1024 * 1024;
/** The documented default of --max-websocket-message. */
const defaultMaxMessage = 64 * MiB;
const burst = 10;

/** An echo service and burrow processes in front of it, for the describe block that calls this. */
function echoThroughTunnel(options: { deflate: boolean; maxPayload: number }, serverFlags: string[] = []): { pair: () => TunnelPair; service: () => WebSocketEchoService } {
  let service: WebSocketEchoService | undefined;
  let pair: TunnelPair | undefined;
  beforeAll(async () => {
    service = await startWebSocketEcho(options);
    pair = await startProcessTunnelPair(service.port, 'http', serverFlags);
  });
  afterAll(async () => {
    await pair?.stop();
    await service?.close();
  });
  return { pair: () => pair!, service: () => service! };
}

interface Session {
  ws: WebSocket;
  /** The connection under it (ends it without a close frame). */
  socket: Socket;
  received: { bytes: number; binary: boolean; sha256: string }[];
  closed: Promise<{ code: number; reason: string }>;
  waitFor(count: number): Promise<void>;
}

function connect(endpoint: Endpoint, options: { deflate?: boolean; maxPayload?: number } = {}): Promise<Session> {
  const ws = new WebSocket(`ws://127.0.0.1:${endpoint.port}/echo`, { headers: { host: endpoint.authority }, perMessageDeflate: options.deflate ?? false, maxPayload: options.maxPayload ?? 0 });
  ws.on('error', () => {});
  let socket: Socket | undefined;
  ws.once('upgrade', (response) => (socket = response.socket));
  const received: Session['received'] = [];
  let waiting: { count: number; resolve: () => void } | undefined;
  ws.on('message', (data: RawData, binary: boolean) => {
    const bytes = data as Buffer;
    received.push({ bytes: bytes.length, binary, sha256: createHash('sha256').update(bytes).digest('hex') });
    if (waiting !== undefined && received.length >= waiting.count) waiting.resolve();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const waitFor = (count: number): Promise<void> =>
    received.length >= count ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      waiting = { count, resolve };
      void closed.then((c) => reject(new Error(`closed with ${c.code} ${c.reason} after ${received.length} of ${count} messages`)));
    });
  return new Promise((resolve, reject) => ws.once('open', () => resolve({ ws, socket: socket!, received, closed, waitFor })).once('error', reject));
}

describe('WebSocket messages up to the documented maximum', () => {
  const { pair } = echoThroughTunnel({ deflate: false, maxPayload: defaultMaxMessage });

  it('arrive the same directly and through the tunnel, each followed at once by a burst, in order', async () => {
    const sizes = [0, 1, 125, 126, 65_535, 65_536, MiB - 1, MiB, MiB + 1, 4 * MiB - 1, 4 * MiB + 1, 6 * MiB, 16 * MiB + 1, defaultMaxMessage];
    const outcomes: Record<string, unknown> = {};
    for (const [label, endpoint] of pair().both) {
      const session = await connect(endpoint);
      let expected = 0;
      for (const size of sizes) {
        session.ws.send(patternedBytes(size), { binary: true });
        for (let i = 0; i < burst; i++) session.ws.send(`after ${size}: ${i}`);
        expected += 1 + burst;
        await session.waitFor(expected);
      }
      session.ws.close(1000, 'done');
      outcomes[label] = { received: session.received, closed: await session.closed };
    }
    expect(outcomes.tunnel).toEqual(outcomes.direct);
    expect((outcomes.direct as { received: unknown[] }).received).toHaveLength(sizes.length * (1 + burst));
  });
});

describe('WebSocket protocol cases', () => {
  const { pair, service } = echoThroughTunnel({ deflate: false, maxPayload: defaultMaxMessage });

  /** Runs `act` on a fresh connection directly and through the tunnel; returns each side's messages and close. */
  async function both(act: (session: Session) => Promise<void>): Promise<Record<string, unknown>> {
    const outcomes: Record<string, unknown> = {};
    for (const [label, endpoint] of pair().both) {
      const session = await connect(endpoint);
      await act(session);
      const closed = await session.closed;
      outcomes[label] = { received: session.received, closed };
    }
    return outcomes;
  }

  it('a message sent in fragments arrives whole', async () => {
    const outcomes = await both(async (session) => {
      session.ws.send(patternedBytes(1000), { binary: true, fin: false });
      session.ws.send(patternedBytes(70_000), { fin: false });
      session.ws.send(patternedBytes(5), { fin: true });
      await session.waitFor(1);
      session.ws.close(1000);
    });
    expect(outcomes.tunnel).toEqual(outcomes.direct);
    expect((outcomes.direct as { received: unknown[] }).received).toEqual([expect.objectContaining({ bytes: 71_005, binary: true })]);
  });

  it('pings up to the 125-byte limit come back as pongs with their payload', async () => {
    const outcomes = await both(async (session) => {
      const pongs: string[] = [];
      session.ws.on('pong', (data: Buffer) => pongs.push(data.toString()));
      for (const size of [0, 1, 125]) {
        const pong = new Promise((resolve) => session.ws.once('pong', resolve));
        session.ws.ping('p'.repeat(size));
        await pong;
      }
      session.received.push({ bytes: pongs.length, binary: false, sha256: pongs.join(',') });
      session.ws.close(1000);
    });
    expect(outcomes.tunnel).toEqual(outcomes.direct);
  });

  it("messages the service sent before it heard of the client's close reach the client, then the service's reply", async () => {
    const asked = 50;
    const outcomes = await both(async (session) => {
      for (let i = 0; i < asked; i++) session.ws.send('send 1000');
      // At once: the answers are still on their way when the service reads the close frame.
      session.ws.close(4000, 'client leaves');
    });
    expect(outcomes.tunnel).toEqual(outcomes.direct);
    expect(outcomes.direct).toEqual({ received: Array(asked).fill(expect.objectContaining({ bytes: 1000 })), closed: { code: 4000, reason: 'client leaves' } });
  });

  it("messages the client sent before it heard of the service's close reach the service", async () => {
    const outcomes: Record<string, unknown> = {};
    for (const [label, endpoint] of pair().both) {
      const session = await connect(endpoint);
      session.ws.send('close 4001');
      // Sending on until the close comes, so that some are always on their way when the service closes.
      let sent = 0;
      const sendOn = (): void => {
        if (session.ws.readyState !== session.ws.OPEN) return;
        session.ws.send(patternedBytes(1000), { binary: true });
        sent++;
        setImmediate(sendOn);
      };
      sendOn();
      const closed = await session.closed;
      // Through the tunnel the client's connection ends first: the edge's, once it has the client's reply.
      await eventually(() => service().readAfterClose.at(-1)?.ended === true, "the service's connection to end");
      outcomes[label] = { closed, allRead: service().readAfterClose.at(-1)!.read === sent, someSent: sent > 0 };
    }
    expect(outcomes.tunnel).toEqual(outcomes.direct);
    expect(outcomes.direct).toEqual({ closed: { code: 4001, reason: 'closing as asked' }, allRead: true, someSent: true });
  });

  it('a text message that is not UTF-8 closes with 1007, and through the tunnel the reason says why', async () => {
    const outcomes = await both(async (session) => {
      session.ws.send(Buffer.from([0x68, 0xff, 0xfe]), { binary: false });
    });
    expect(outcomes.direct).toEqual({ received: [], closed: { code: 1007, reason: '' } });
    expect(outcomes.tunnel).toEqual({ received: [], closed: { code: 1007, reason: 'Invalid WebSocket frame: invalid UTF-8 sequence' } });
  });
});

describe('WebSocket handshakes the server refuses', () => {
  const { pair, service } = echoThroughTunnel({ deflate: false, maxPayload: defaultMaxMessage });
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';

  it.each([
    ['a POST', 'POST', key, '13', undefined],
    ['no key', 'GET', undefined, '13', undefined],
    ['a short key', 'GET', 'c2hvcnQ=', '13', undefined],
    ['version 14', 'GET', key, '14', undefined],
    ['a subprotocol offered twice', 'GET', key, '13', 'chat, chat'],
    ['subprotocols apart by a space', 'GET', key, '13', 'chat superchat'],
    ['a subprotocol that is not a token', 'GET', key, '13', 'chat;v=2'],
  ])('%s gets the same refusal both ways, and never reaches the service through the tunnel', async (_label, method, offeredKey, version, subprotocols) => {
    const runs: Record<string, unknown> = {};
    for (const [label, endpoint] of pair().both) {
      const connections = service().negotiated.length;
      const head = [`${method} /echo HTTP/1.1`, `Host: ${endpoint.authority}`, 'Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Version: ${version}`];
      if (offeredKey !== undefined) head.push(`Sec-WebSocket-Key: ${offeredKey}`);
      if (subprotocols !== undefined) head.push(`Sec-WebSocket-Protocol: ${subprotocols}`);
      const response = await rawRequest(endpoint.port, `${head.join('\r\n')}\r\n${method === 'POST' ? 'Content-Length: 0\r\n' : ''}\r\n`);
      runs[label] = { status: response.status, version: response.headers['sec-websocket-version'], body: response.rest, opened: service().negotiated.length - connections };
    }
    expect(runs.tunnel).toEqual(runs.direct);
    expect(runs.direct).toMatchObject({ opened: 0 });
    expect([400, 405]).toContain((runs.direct as { status: number }).status);
  });
});

describe('WebSocket subprotocols', () => {
  const { pair, service } = echoThroughTunnel({ deflate: false, maxPayload: defaultMaxMessage });

  it.each([
    ['picks one of those offered', 'chat, superchat', 'superchat'],
    ['picks none of those offered (RFC 6455 section 4.2.2)', 'chat, unsupported', undefined],
  ])('the service that %s is heard the same both ways', async (_label, offer, picked) => {
    const runs: Record<string, unknown> = {};
    for (const [label, endpoint] of pair().both) {
      const head = ['GET /echo HTTP/1.1', `Host: ${endpoint.authority}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', `Sec-WebSocket-Protocol: ${offer}`];
      const response = await rawRequest(endpoint.port, `${head.join('\r\n')}\r\n\r\n`, (text) => text.includes('\r\n\r\n'));
      runs[label] = { status: response.status, subprotocol: response.headers['sec-websocket-protocol'], seenByService: service().subprotocols.at(-1) };
    }
    expect(runs.tunnel).toEqual(runs.direct);
    expect(runs.direct).toEqual({ status: 101, subprotocol: picked, seenByService: picked ?? '' });
  });
});

describe('WebSocket messages over the limit', () => {
  const limit = 4 * MiB;
  const { pair } = echoThroughTunnel({ deflate: false, maxPayload: limit }, ['--max-websocket-message', String(limit)]);

  it('close with 1009 when a client sends one, and through the tunnel the reason names the limit', async () => {
    const closes: Record<string, { code: number; reason: string }> = {};
    for (const [label, endpoint] of pair().both) {
      const session = await connect(endpoint);
      session.ws.send(patternedBytes(limit));
      await session.waitFor(1);
      session.ws.send(patternedBytes(limit + 1));
      closes[label] = await session.closed;
    }
    expect(closes.tunnel!.code).toBe(closes.direct!.code);
    expect(closes.tunnel).toEqual({ code: 1009, reason: 'message over the 4 MiB limit' });
  });

  it('close with 1009 when the service sends one, and through the tunnel the client hears why', async () => {
    const closes: Record<string, { code: number; reason: string }> = {};
    for (const [label, endpoint] of pair().both) {
      // Directly the client enforces the same limit itself: ws refuses the
      // message, sends 1009 and stops reading, so it reports 1006. Through
      // the tunnel the agent refuses it and the client is told, with the limit.
      const session = await connect(endpoint, { maxPayload: limit });
      session.ws.send(`send ${limit + 1}`);
      closes[label] = await session.closed;
    }
    expect(closes).toEqual({ direct: { code: 1006, reason: '' }, tunnel: { code: 1009, reason: 'message over the 4 MiB limit' } });
  });
});

describe('a connection that ends right after its last message, compressed (permessage-deflate on both hops)', () => {
  const { pair, service } = echoThroughTunnel({ deflate: true, maxPayload: defaultMaxMessage });

  it("the service's last message reaches the client before the end", async () => {
    const outcomes: Record<string, unknown> = {};
    for (const [label, endpoint] of pair().both) {
      const session = await connect(endpoint, { deflate: true });
      session.ws.send('send 1000 and end');
      const closed = await session.closed;
      outcomes[label] = { closed, received: session.received.map((message) => message.bytes) };
    }
    expect(outcomes.tunnel).toEqual(outcomes.direct);
    expect(outcomes.direct).toEqual({ closed: { code: 1006, reason: '' }, received: [1000] });
  });

  it("the client's last message reaches the service before the end", async () => {
    const outcomes: Record<string, unknown> = {};
    for (const [label, endpoint] of pair().both) {
      const session = await connect(endpoint, { deflate: true });
      // Compressed and written, then a FIN after it, with no close frame: as a client that exits.
      await new Promise<void>((resolve) => session.ws.send(patternedBytes(1000), { binary: true }, () => resolve()));
      session.socket.end();
      await session.closed;
      await eventually(() => service().connections.at(-1)?.ended === true, "the service's connection to end");
      outcomes[label] = service().connections.at(-1)!.sizes;
    }
    expect(outcomes.tunnel).toEqual(outcomes.direct);
    expect(outcomes.direct).toEqual([1000]);
  });
});

describe('permessage-deflate', () => {
  const cases: [string, { service: boolean; client: boolean }][] = [
    ['both ends support it', { service: true, client: true }],
    ['only the client offers it', { service: false, client: true }],
    ['only the service supports it', { service: true, client: false }],
  ];

  it.each(cases)('is negotiated the same directly and through the tunnel when %s', async (_label, support) => {
    const service = await startWebSocketEcho({ deflate: support.service, maxPayload: defaultMaxMessage });
    const pair = await startProcessTunnelPair(service.port, 'http');
    try {
      const outcomes: Record<string, unknown> = {};
      for (const [label, endpoint] of pair.both) {
        const session = await connect(endpoint, { deflate: support.client });
        const compressible = Buffer.alloc(2 * MiB, 'burrow ');
        session.ws.send(compressible, { binary: true });
        session.ws.send('small');
        await session.waitFor(2);
        session.ws.close(1000);
        await session.closed;
        outcomes[label] = { clientExtensions: session.ws.extensions, received: session.received, serviceExtensions: service.negotiated.at(-1) };
      }
      expect(outcomes.tunnel).toEqual(outcomes.direct);
      const negotiated = support.service && support.client;
      expect((outcomes.tunnel as { clientExtensions: string }).clientExtensions.includes('permessage-deflate')).toBe(negotiated);
    } finally {
      await pair.stop();
      await service.close();
    }
  });
});
