// The exchange lifecycle at the agent, driven by hand from the tunnel side:
// a local stream that closes while its last bytes still wait for credit is
// not a failure; the bytes and trailers go once credit comes, then the
// exchange ends, once.
import { constants, createServer, type ClientHttp2Session, type ClientHttp2Stream, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolType, type TunnelMessage } from '../../src/main/gen/burrow/v1/tunnel.js';
import { Http2SessionPool } from '../../src/main/tunnel/agent/http2-session-pool.js';
import type { DataLink } from '../../src/main/tunnel/agent/local-exchange-context.js';
import { LocalGrpcExchange } from '../../src/main/tunnel/agent/local-grpc-exchange.js';
import type { LocalTarget } from '../../src/main/tunnel/agent/local-target.js';
import { ExchangeState } from '../../src/main/tunnel/exchange.js';
import { dataMessage } from '../../src/main/tunnel/messages.js';
import { eventually } from '../helpers/common.js';

/** A pool that remembers the streams its exchanges open, so a test can wait for them to close. */
class WatchedPool extends Http2SessionPool {
  readonly streams: ClientHttp2Stream[] = [];

  override get(target: LocalTarget): ClientHttp2Session {
    const session = super.get(target);
    const request = session.request.bind(session);
    session.request = ((...args: Parameters<ClientHttp2Session['request']>) => {
      const stream = request(...args);
      this.streams.push(stream);
      return stream;
    }) as ClientHttp2Session['request'];
    return session;
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

/** A local HTTP/2 service answering `size` bytes and trailers, then RST_STREAM(NO_ERROR) while the request is still open. */
async function startService(size: number): Promise<LocalTarget> {
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => {
      stream.sendTrailers({ 'grpc-status': '0' });
      stream.session?.ping(() => stream.closed || stream.close(constants.NGHTTP2_NO_ERROR));
    });
    stream.end(Buffer.alloc(size, 7));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
}

describe('LocalGrpcExchange', () => {
  it('delivers a response whose local stream closed while its last bytes waited for credit', async () => {
    const window = 64 * 1024;
    const size = window + 4_000;
    const target = await startService(size);
    const sent: TunnelMessage[] = [];
    const link: DataLink = { send: (message) => sent.push(message) > 0, windowBytes: window, maxWebSocketMessageBytes: 1024, takesInterimResponses: true, takesContinue: true, vouchesForwardedFields: true };
    const pool = new WatchedPool();
    cleanups.push(() => pool.close());
    let ended = 0;
    const exchange = new LocalGrpcExchange(
      {
        requestId: 'r1',
        // The request stays open: the service answers and resets before it ends.
        head: { tunnel: 't', method: 'POST', path: '/x.Y/Z', headers: [{ name: 'content-type', value: 'application/grpc' }], remoteAddress: '', scheme: 'http', endStream: false, timeoutMs: 0n, body: Buffer.alloc(0), edgeWaitMs: 0, httpVersion: '1.1' },
        target,
        link,
        emit: () => {},
        ended: () => ended++,
      },
      pool,
    );
    exchange.start();
    const bodyBytes = (): number => sent.reduce((n, m) => n + (m.payload?.$case === 'bodyChunk' ? m.payload.value.data.length : 0), 0);
    await eventually(() => pool.streams[0]?.destroyed === true, 'the local stream to close');
    // Closed, with bytes still held for credit: not a failure, nothing past the window sent.
    expect(pool.streams[0]!.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
    expect(exchange.state).toBe(ExchangeState.Open);
    expect(sent.some((m) => m.payload?.$case === 'reset')).toBe(false);
    expect(bodyBytes()).toBe(window);
    exchange.receive(dataMessage('r1', ProtocolType.PROTOCOL_TYPE_GRPC, { $case: 'windowUpdate', value: { bytes: window } }));
    expect(bodyBytes()).toBe(size);
    expect(sent.at(-1)?.payload).toEqual({ $case: 'trailers', value: { headers: [{ name: 'grpc-status', value: '0' }] } });
    expect(exchange.state).toBe(ExchangeState.Finished);
    expect(ended).toBe(1);
  });

  it.each([
    ['an edge that takes 100 (Continue) gets it and 103', true, [100, 103, 200]],
    ['an edge before 100 (Continue) was relayed gets 103 alone (it failed the request on a 100)', false, [103, 200]],
  ])('relays an HTTP/2 service\'s interim answers: %s', async (_label, takesContinue, statuses) => {
    const server = createServer();
    server.on('stream', (stream: ServerHttp2Stream) => {
      stream.on('error', () => {});
      stream.additionalHeaders({ ':status': 100 });
      stream.additionalHeaders({ ':status': 103, link: '</a.css>; rel=preload' });
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => server.close());
    const sent: TunnelMessage[] = [];
    const link: DataLink = { send: (message) => sent.push(message) > 0, windowBytes: 1024 * 1024, maxWebSocketMessageBytes: 1024, takesInterimResponses: true, takesContinue, vouchesForwardedFields: true };
    const pool = new WatchedPool();
    cleanups.push(() => pool.close());
    const exchange = new LocalGrpcExchange(
      {
        requestId: 'r2',
        head: { tunnel: 't', method: 'GET', path: '/page', headers: [], remoteAddress: '', scheme: 'http', endStream: true, timeoutMs: 0n, body: Buffer.alloc(0), edgeWaitMs: 0, httpVersion: '2.0' },
        target: { host: '127.0.0.1', port: (server.address() as AddressInfo).port },
        link,
        emit: () => {},
        ended: () => {},
      },
      pool,
    );
    exchange.start();
    await eventually(() => exchange.state === ExchangeState.Finished, 'the exchange to end');
    expect(sent.flatMap((m) => (m.payload?.$case === 'responseHead' ? [m.payload.value.status] : []))).toEqual(statuses);
  });
});
