// A gRPC service that fails a call, directly and through the tunnel, with
// grpc-js as the client: a reset stream ends with the status grpc-js reads
// from the reset code (not UNAVAILABLE for all, which clients retry as
// safe), and a connection lost mid-stream delivers what came, then
// UNAVAILABLE, never a stream that looks complete.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, constants, createServer, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawMethod } from '../../src/main/service/raw-grpc-method.js';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

/** A gRPC message frame around `payload`. */
const frame = (payload: string): Buffer => {
  const body = Buffer.from(payload);
  const framed = Buffer.alloc(5 + body.length);
  framed.writeUInt32BE(body.length, 1);
  body.copy(framed, 5);
  return framed;
};

let servicePort = 0;
let stopService: () => Promise<void>;
let pair: TunnelPair;

/** Streams the service has refused, by the call's x-call-key. */
const refusals = new Map<string, number>();

/**
 * /f.F/Reset<code> resets before answering; /f.F/ResetAfterTwo<code> after
 * two messages; /f.F/EndAfterTwo ends after two with no trailers; /f.F/Drop sends three messages, then closes the connection;
 * /f.F/DropFirst closes it at once; /f.F/AtDeadline ends the call when its
 * deadline passes; /f.F/Refuse<n> refuses (REFUSED_STREAM) the
 * first n streams of a call (by its x-call-key), then echoes its request.
 */
beforeAll(async () => {
  const sessions = new Set<Http2Session>();
  const server = createServer();
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('error', () => {});
    session.once('close', () => sessions.delete(session));
  });
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.on('error', () => {});
    const path = String(headers[':path']);
    const reset = /^\/f\.F\/Reset(\d+)$/.exec(path);
    if (reset !== null) {
      stream.close(Number(reset[1]));
      return;
    }
    if (path === '/f.F/AtDeadline') {
      // Ends the call itself when the caller's grpc-timeout (in ms here) passes, as gRPC services do.
      stream.resume();
      const timer = setTimeout(() => stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '4', 'grpc-message': 'Deadline Exceeded' }, { endStream: true }), parseInt(String(headers['grpc-timeout']), 10));
      stream.once('close', () => clearTimeout(timer));
      return;
    }
    if (path === '/f.F/DropFirst') {
      stream.session?.destroy();
      return;
    }
    if (path === '/f.F/EndAfterTwo') {
      // Ends with END_STREAM and no trailers: no status at all.
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      for (const text of ['one', 'two']) stream.write(frame(text));
      stream.end();
      return;
    }
    if (path === '/plain/push-allowed') {
      stream.respond({ ':status': 200, 'push-allowed': String(stream.pushAllowed) }, { endStream: true });
      return;
    }
    const plainCut = /^\/plain\/cut(\d+)$/.exec(path);
    if (plainCut !== null) {
      // Not a gRPC call: 1,000 bytes of a plain answer, then RST_STREAM with the code asked for and no END_STREAM
      // (trailers awaited: Node's close() would send END_STREAM first otherwise).
      stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
      stream.write(Buffer.alloc(1000, 120));
      stream.session?.ping(() => stream.close(Number(plainCut[1])));
      return;
    }
    const resetMidway = /^\/f\.F\/ResetAfterTwo(\d+)$/.exec(path);
    if (resetMidway !== null) {
      // Trailers awaited, so the reset ends the stream without END_STREAM; it follows the messages (a PING's answer does).
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      for (const text of ['one', 'two']) stream.write(frame(text));
      stream.session?.ping(() => stream.close(Number(resetMidway[1])));
      return;
    }
    const refuse = /^\/f\.F\/(Refuse|GoAway)(\d+)$/.exec(path);
    if (refuse !== null) {
      const key = String(headers['x-call-key']);
      const refused = refusals.get(key) ?? 0;
      if (refused < Number(refuse[2])) {
        refusals.set(key, refused + 1);
        if (refuse[1] === 'Refuse') {
          stream.close(constants.NGHTTP2_REFUSED_STREAM);
        } else {
          // Going away, as a service stopping does: no stream is processed, and the connection ends once they are closed.
          stream.session?.goaway(constants.NGHTTP2_NO_ERROR, 0);
          stream.close(constants.NGHTTP2_REFUSED_STREAM);
          stream.session?.close();
        }
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.concat(chunks));
      });
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    for (const text of ['one', 'two', 'three']) stream.write(frame(text));
    // Once the three are through (a PING's answer follows them), the connection goes.
    stream.session?.ping(() => stream.session?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servicePort = (server.address() as AddressInfo).port;
  stopService = () =>
    new Promise<void>((resolve) => {
      for (const session of sessions) session.destroy();
      server.close(() => resolve());
    });
  pair = await startTunnelPair(servicePort, 'grpc');
});

afterAll(async () => {
  await pair?.stop();
  await stopService?.();
});

/** A server-streaming call to `path`: the messages it got, then its status code. */
function call(endpoint: Endpoint, path: string): Promise<{ messages: string[]; code: grpc.status }> {
  const Client = grpc.makeGenericClientConstructor({ call: rawMethod(path, false, true) }, 'F');
  const client = new Client(`127.0.0.1:${endpoint.port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': endpoint.authority, 'grpc.enable_retries': 0 }) as unknown as grpc.Client & {
    call(request: Buffer, metadata: grpc.Metadata, options: grpc.CallOptions): grpc.ClientReadableStream<Buffer>;
  };
  return new Promise((resolve) => {
    const messages: string[] = [];
    // A deadline, so that a call the tunnel never ends fails the test with a status rather than a timeout.
    const stream = client.call(Buffer.from('go'), new grpc.Metadata(), { deadline: Date.now() + 20_000 });
    stream.on('data', (message: Buffer) => messages.push(message.toString()));
    stream.on('error', () => {});
    stream.on('status', (status: grpc.StatusObject) => {
      client.close();
      resolve({ messages, code: status.code });
    });
  });
}

/** A unary call to /f.F/<how><n> with grpc-js's defaults (transparent retry on): its answer, status, and how many streams the service refused. */
async function refusedCall(endpoint: Endpoint, how: 'Refuse' | 'GoAway', refusing: number, request: Buffer): Promise<{ answer: string | undefined; code: grpc.status; refused: number }> {
  const Client = grpc.makeGenericClientConstructor({ call: rawMethod(`/f.F/${how}${refusing}`, false, false) }, 'F');
  const client = new Client(`127.0.0.1:${endpoint.port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': endpoint.authority }) as unknown as grpc.Client & {
    call(request: Buffer, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, answer?: Buffer) => void): void;
  };
  const key = randomUUID();
  const metadata = new grpc.Metadata();
  metadata.set('x-call-key', key);
  const outcome = await new Promise<{ answer: string | undefined; code: grpc.status }>((resolve) =>
    client.call(request, metadata, (error, answer) => resolve({ answer: answer && sha256(answer), code: error?.code ?? grpc.status.OK })),
  );
  client.close();
  return { ...outcome, refused: refusals.get(key) ?? 0 };
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('a gRPC service failing a call', () => {
  it.each([
    ['INTERNAL_ERROR', constants.NGHTTP2_INTERNAL_ERROR, grpc.status.INTERNAL],
    ['CANCEL', constants.NGHTTP2_CANCEL, grpc.status.CANCELLED],
    ['ENHANCE_YOUR_CALM', constants.NGHTTP2_ENHANCE_YOUR_CALM, grpc.status.RESOURCE_EXHAUSTED],
    // Found with grpcio: the tunnel took the ended stream for a complete answer, and the call waited for its deadline.
    ['NO_ERROR', constants.NGHTTP2_NO_ERROR, grpc.status.INTERNAL],
  ])('by resetting its stream with %s ends the call with the same status both ways', async (_name, rstCode, expected) => {
    const runs: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) runs[label] = await call(endpoint, `/f.F/Reset${rstCode}`);
    expect(runs).toEqual({ direct: { messages: [], code: expected }, tunnel: { messages: [], code: expected } });
  });

  // CANCEL mid-response was told as a lost connection (UNAVAILABLE, which clients retry as safe).
  it.each([
    ['CANCEL', constants.NGHTTP2_CANCEL, grpc.status.CANCELLED],
    ['INTERNAL_ERROR', constants.NGHTTP2_INTERNAL_ERROR, grpc.status.INTERNAL],
    ['NO_ERROR', constants.NGHTTP2_NO_ERROR, grpc.status.INTERNAL],
  ])('by resetting its stream with %s after two messages delivers them, then the same status both ways', async (_name, rstCode, expected) => {
    const runs: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) runs[label] = await call(endpoint, `/f.F/ResetAfterTwo${rstCode}`);
    const outcome = { messages: ['one', 'two'], code: expected };
    expect(runs).toEqual({ direct: outcome, tunnel: outcome });
  });

  // Found with grpcio, which read the tunnel's end with no status as UNKNOWN where it reads the reset as INTERNAL (grpc-js
  // reads both as INTERNAL): a reset with no trailers ends in INTERNAL's status; an end with no trailers is passed on as it is.
  it.each([
    ['resetting its stream with NO_ERROR after two messages, with no trailers, ends in INTERNAL', '/f.F/ResetAfterTwo0', { direct: 'reset 0', tunnel: '13' }],
    ['ending its stream after two messages with no trailers passes that on', '/f.F/EndAfterTwo', { direct: 'no status', tunnel: 'no status' }],
  ])('by %s', async (_label, path, expected) => {
    const outcomes: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) {
      const session = connect(`http://127.0.0.1:${endpoint.port}`);
      session.on('error', () => {});
      const stream = session.request({ ':method': 'POST', ':path': path, ':authority': endpoint.authority, 'content-type': 'application/grpc', te: 'trailers' });
      stream.end(frame('go'));
      stream.on('error', () => {});
      let status: string | undefined;
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
      stream.on('trailers', (headers: IncomingHttpHeaders) => (status = headers['grpc-status'] as string | undefined));
      // A reset closes the stream before its body ends; END_STREAM does not (local-grpc-exchange.ts).
      let resetBeforeEnd = true;
      stream.once('end', () => (resetBeforeEnd = stream.closed));
      await new Promise((resolve) => stream.once('close', resolve));
      outcomes[label] = { bytes, end: status ?? (resetBeforeEnd ? `reset ${stream.rstCode}` : 'no status') };
      session.close();
    }
    const messages = frame('one').length + frame('two').length;
    expect(outcomes).toEqual({ direct: { bytes: messages, end: expected.direct }, tunnel: { bytes: messages, end: expected.tunnel } });
  });

  // Found with grpcio's interop case timeout_on_sleeping_server: the edge's own timer for the deadline answered first.
  it("tells a caller that does not cancel at its deadline the service's own DEADLINE_EXCEEDED, as directly", async () => {
    const outcomes: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) {
      const session = connect(`http://127.0.0.1:${endpoint.port}`);
      session.on('error', () => {});
      const stream = session.request({ ':method': 'POST', ':path': '/f.F/AtDeadline', ':authority': endpoint.authority, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '300m' });
      stream.end(frame('go'));
      stream.on('error', () => {});
      stream.resume();
      outcomes[label] = await new Promise((resolve) => {
        const seen: Record<string, unknown> = {};
        const read = (headers: IncomingHttpHeaders): void => {
          for (const name of ['grpc-status', 'grpc-message', 'x-burrow-error']) if (headers[name] !== undefined) seen[name] = headers[name];
        };
        stream.on('response', read).on('trailers', read).on('close', () => resolve(seen));
      });
      session.close();
    }
    const theService = { 'grpc-status': '4', 'grpc-message': 'Deadline Exceeded' };
    expect(outcomes).toEqual({ direct: theService, tunnel: theService });
  });

  // The streams of a connection gone end with CANCEL; the call was not cancelled (found with a grpcio service killed).
  it('by losing its connection before answering ends the call UNAVAILABLE both ways, not CANCELLED', async () => {
    const runs: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) runs[label] = await call(endpoint, '/f.F/DropFirst');
    const expected = { messages: [], code: grpc.status.UNAVAILABLE };
    expect(runs).toEqual({ direct: expected, tunnel: expected });
  });

  // The body is sent again whole: 200 KB is within the 256 KiB grpc-js keeps for a retry (replayable-request-body.ts).
  it.each([
    ['refusing its stream (REFUSED_STREAM) once: the call goes again, with its whole request, and succeeds', 'Refuse', 1, grpc.status.OK, 1],
    ['refusing its stream twice: the second refusal ends the call UNAVAILABLE', 'Refuse', 2, grpc.status.UNAVAILABLE, 2],
    ['going away (GOAWAY) before taking the stream: the call goes again on a new connection and succeeds', 'GoAway', 1, grpc.status.OK, 1],
  ] as const)('by %s, both ways', async (_label, how, refusing, code, refused) => {
    const request = randomBytes(200_000);
    const runs: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) runs[label] = await refusedCall(endpoint, how, refusing, request);
    const expected = { answer: code === grpc.status.OK ? sha256(request) : undefined, code, refused };
    expect(runs).toEqual({ direct: expected, tunnel: expected });
  });

  it('by losing its connection mid-stream delivers what came, then UNAVAILABLE, both ways', async () => {
    const runs: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) runs[label] = await call(endpoint, '/f.F/Drop');
    const expected = { messages: ['one', 'two', 'three'], code: grpc.status.UNAVAILABLE };
    expect(runs).toEqual({ direct: expected, tunnel: expected });
  });
});

/** A plain (not gRPC) request for `path`, directly and through the tunnel: its status, the bytes that came, its reset code. */
async function plainRequestBothWays(path: string): Promise<Record<string, { status: unknown; bytes: number; rstCode: number | undefined }>> {
  const runs: Record<string, { status: unknown; bytes: number; rstCode: number | undefined }> = {};
  for (const [label, endpoint] of pair.both) {
    const session = connect(`http://127.0.0.1:${endpoint.port}`);
    session.on('error', () => {});
    const stream = session.request({ ':path': path, ':authority': endpoint.authority });
    stream.on('error', () => {});
    let status: unknown;
    let bytes = 0;
    stream.on('response', (headers) => (status = headers[':status']));
    stream.on('data', (data: Buffer) => (bytes += data.length));
    await new Promise((resolve) => stream.on('close', resolve));
    runs[label] = { status, bytes, rstCode: stream.rstCode };
    session.close();
  }
  return runs;
}

describe('an HTTP/2 service of a gRPC tunnel resetting a plain answer after its head', () => {
  // Found with raw frames: every such reset reached the client as INTERNAL_ERROR, and a NO_ERROR one as a
  // clean end; the code now crosses the tunnel (Reset.http2_error_code).
  it.each([
    ['NO_ERROR', constants.NGHTTP2_NO_ERROR],
    ['PROTOCOL_ERROR', constants.NGHTTP2_PROTOCOL_ERROR],
    ['CANCEL', constants.NGHTTP2_CANCEL],
    ['ENHANCE_YOUR_CALM', constants.NGHTTP2_ENHANCE_YOUR_CALM],
  ])("with %s: Node's client gets the bytes that came, then the same reset, both ways", async (_name, code) => {
    const expected = { status: 200, bytes: 1000, rstCode: code };
    expect(await plainRequestBothWays(`/plain/cut${code}`)).toEqual({ direct: expected, tunnel: expected });
  });
});

describe('an HTTP/2 service of a gRPC tunnel resetting a plain request before its head', () => {
  // Each reached the client as a 502: a client could not tell a refused stream (not processed, safe to send again)
  // from a failure. REFUSED_STREAM is sent again once by the agent; refused twice, it goes on as refused.
  it.each([
    ['NO_ERROR', constants.NGHTTP2_NO_ERROR],
    ['PROTOCOL_ERROR', constants.NGHTTP2_PROTOCOL_ERROR],
    ['REFUSED_STREAM', constants.NGHTTP2_REFUSED_STREAM],
    ['CANCEL', constants.NGHTTP2_CANCEL],
    ['ENHANCE_YOUR_CALM', constants.NGHTTP2_ENHANCE_YOUR_CALM],
  ])("with %s: Node's client gets no answer and the same reset, both ways", async (_name, code) => {
    const expected = { status: undefined, bytes: 0, rstCode: code };
    expect(await plainRequestBothWays(`/f.F/Reset${code}`)).toEqual({ direct: expected, tunnel: expected });
  });
});

describe('the agent to an HTTP/2 service', () => {
  // A PUSH_PROMISE could not cross the tunnel: the service was told it may push, and its pushes were lost.
  it('tells it not to push, as a client that takes no pushes (curl, browsers) does directly', async () => {
    const runs: Record<string, unknown> = {};
    for (const [label, endpoint] of pair.both) {
      const session = connect(`http://127.0.0.1:${endpoint.port}`, { settings: { enablePush: false } });
      session.on('error', () => {});
      const stream = session.request({ ':path': '/plain/push-allowed', ':authority': endpoint.authority });
      const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
      runs[label] = headers['push-allowed'];
      stream.resume();
      session.close();
    }
    expect(runs).toEqual({ direct: 'false', tunnel: 'false' });
  });
});
