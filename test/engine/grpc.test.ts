// gRPC through the tunnel as a transparent HTTP/2 proxy: all four call
// kinds, metadata and trailers, errors, cancellation and deadlines.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrafficEvent } from '../../src/shared/traffic.js';
import { eventually, publicRequest, startTunnel, type TunnelFixture } from '../helpers/common.js';
import { echoClient, startEchoBackend, type EchoBackendLog, type EchoResponse } from '../helpers/grpc-echo.js';

let tunnel: TunnelFixture | undefined;
let stopBackend: (() => void) | undefined;
const clients: grpc.Client[] = [];

afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await tunnel?.stop();
  stopBackend?.();
  tunnel = stopBackend = undefined;
});

type Client = ReturnType<typeof echoClient>;

async function setup(): Promise<{ client: Client; log: EchoBackendLog; tunnel: TunnelFixture }> {
  const backend = await startEchoBackend();
  stopBackend = backend.stop;
  // No grace for names after the start: an unknown tunnel is one from the first call (reconnect-grace.test.ts has the grace).
  tunnel = await startTunnel([{ name: 'rpc', protocol: 'grpc', target: String(backend.port) }], { reconnectGraceMs: 0 });
  const client = echoClient(tunnel.publicPort, 'rpc');
  clients.push(client);
  return { client, log: backend.log, tunnel };
}

interface UnaryOutcome {
  error: grpc.ServiceError | null;
  response?: EchoResponse;
  headers?: grpc.Metadata;
  status?: grpc.StatusObject;
}

function unary(client: Client, request: object, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<UnaryOutcome> {
  return new Promise((resolve) => {
    const outcome: Partial<UnaryOutcome> = {};
    const call = client.unary(request, metadata, options, (error: grpc.ServiceError | null, response: EchoResponse) => {
      outcome.error = error;
      outcome.response = response;
    }) as grpc.ClientUnaryCall;
    call.on('metadata', (headers) => (outcome.headers = headers));
    call.on('status', (status) => resolve({ ...outcome, status } as UnaryOutcome));
  });
}

describe('gRPC through the tunnel', () => {
  it('round-trips a unary call with request metadata, response headers and trailers', async () => {
    const { client, log } = await setup();
    const metadata = new grpc.Metadata();
    metadata.set('x-trace', 'abc');
    metadata.set('x-raw-bin', Buffer.from([0, 1, 255]));
    const { error, response, headers, status } = await unary(client, { text: 'hello' }, metadata);
    expect(error).toBeNull();
    expect(response!.text).toBe('hello');
    expect(log.metadata[0].get('x-trace')).toEqual(['abc']);
    expect(log.metadata[0].get('x-raw-bin')).toEqual([Buffer.from([0, 1, 255])]);
    expect(headers!.get('x-header')).toEqual(['early']);
    expect(status!.code).toBe(grpc.status.OK);
    expect(status!.metadata.get('x-trailer')).toEqual(['from-backend']);
  });

  it('round-trips a status error with its message and trailers', async () => {
    const { client } = await setup();
    const { error, status } = await unary(client, { text: 'x', failWith: grpc.status.INVALID_ARGUMENT });
    expect(error!.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error!.details).toBe('bad input');
    expect(status!.metadata.get('x-trailer')).toEqual(['from-backend']);
  });

  it('carries 1 MiB and 8 MiB messages intact', async () => {
    const { client } = await setup();
    for (const size of [1024 * 1024, 8 * 1024 * 1024]) {
      const blob = Buffer.alloc(size, size % 251);
      blob.writeUInt32BE(size, 0);
      const { error, response } = await unary(client, { text: 'big', blob });
      expect(error).toBeNull();
      expect(Buffer.compare(response!.blob, blob)).toBe(0);
    }
  });

  it('streams 10,000 server messages in order, reporting each to the inspector', async () => {
    const { client, tunnel } = await setup();
    const events: TrafficEvent[] = [];
    tunnel.agent.on('traffic', (event) => (event.kind === 'grpc-message' || event.kind === 'trailers') && events.push(event));
    const indexes: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.serverStream({ count: 10_000 }) as grpc.ClientReadableStream<EchoResponse>;
      call.on('data', (message: EchoResponse) => indexes.push(message.index));
      call.on('end', resolve);
      call.on('error', reject);
    });
    expect(indexes).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    await eventually(() => events.some((e) => e.kind === 'trailers'), 'the trailers event');
    const toClient = events.filter((e) => e.kind === 'grpc-message' && e.direction === 'to-client');
    expect(toClient.map((e) => (e.kind === 'grpc-message' ? e.index : -1))).toEqual(indexes);
    const trailers = events.find((e) => e.kind === 'trailers');
    expect(trailers?.kind === 'trailers' && trailers.headers.find(([name]) => name === 'grpc-status')?.[1]).toBe('0');
  });

  it('collects a client stream of 1,000 messages', async () => {
    const { client } = await setup();
    const response = await new Promise<EchoResponse>((resolve, reject) => {
      const call = client.clientStream((error: grpc.ServiceError | null, r: EchoResponse) => (error ? reject(error) : resolve(r))) as grpc.ClientWritableStream<object>;
      for (let i = 0; i < 1000; i++) call.write({ text: String(i) });
      call.end();
    });
    expect(response.index).toBe(1000);
    expect(response.text).toBe(Array.from({ length: 1000 }, (_, i) => String(i)).join(','));
  });

  it('plays bidi ping-pong: each reply arrives before the next request is sent', async () => {
    const { client } = await setup();
    const call = client.bidi() as grpc.ClientDuplexStream<object, EchoResponse>;
    for (let round = 0; round < 100; round++) {
      const reply = new Promise<EchoResponse>((resolve) => call.once('data', resolve));
      call.write({ text: `ping ${round}` });
      expect((await reply).text).toBe(`echo:ping ${round}`);
    }
    const ended = new Promise((resolve) => call.on('status', resolve));
    call.end();
    expect(((await ended) as grpc.StatusObject).code).toBe(grpc.status.OK);
  });

  it('passes a cancel mid-stream to the backend', async () => {
    const { client, log, tunnel } = await setup();
    const call = client.serverStream({ count: 0 }) as grpc.ClientReadableStream<EchoResponse>;
    let received = 0;
    const errored = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    call.on('data', () => {
      if (++received === 50) call.cancel();
    });
    expect((await errored).code).toBe(grpc.status.CANCELLED);
    await eventually(() => log.cancelled === 1, 'the backend to see the cancel');
    await eventually(() => tunnel.server.inflightRequests === 0 && tunnel.agent.inflightRequests === 0, 'the call to be released');
  });

  it('surfaces an expired deadline as DEADLINE_EXCEEDED', async () => {
    const { client, tunnel } = await setup();
    const { error } = await unary(client, { text: 'slow', hang: true }, new grpc.Metadata(), { deadline: Date.now() + 300 });
    expect(error!.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await eventually(() => tunnel.server.inflightRequests === 0 && tunnel.agent.inflightRequests === 0, 'the call to be released');
  });

  it('answers UNAVAILABLE when the backend is down and UNIMPLEMENTED for an unknown tunnel', async () => {
    const { client } = await setup();
    stopBackend!();
    stopBackend = undefined;
    const down = await unary(client, { text: 'anyone?' });
    expect(down.error!.code).toBe(grpc.status.UNAVAILABLE);
    const stranger = echoClient(tunnel!.publicPort, 'nope');
    clients.push(stranger);
    const unknown = await unary(stranger, { text: 'hi' });
    expect(unknown.error!.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it('tells an HTTP/1.1 request to an HTTP/2-only service to use HTTP/2, not only that the service is unreachable', async () => {
    const { client, tunnel } = await setup();
    const response = await publicRequest({ port: tunnel.publicPort, host: 'rpc.localhost', method: 'POST', path: '/echo.Echo/Unary', headers: { 'content-type': 'application/grpc' } });
    expect([response.status, response.headers['x-burrow-error']]).toEqual([502, 'BURROW_E_LOCAL_UNREACHABLE']);
    expect(response.body.toString()).toContain('answered this HTTP/1.1 request with something other than HTTP/1.1');
    expect(response.body.toString()).toContain('call it over HTTP/2');
    // The tunnel is still fine for gRPC.
    expect((await unary(client, { text: 'still here' })).response).toMatchObject({ text: 'still here' });
  });

  it('answers RESOURCE_EXHAUSTED over the concurrency limit', async () => {
    const backend = await startEchoBackend();
    stopBackend = backend.stop;
    tunnel = await startTunnel([{ name: 'rpc', protocol: 'grpc', target: String(backend.port) }], { limits: { maxInflightPerAgent: 1 } });
    const client = echoClient(tunnel.publicPort, 'rpc');
    clients.push(client);
    const held = client.serverStream({ count: 0 }) as grpc.ClientReadableStream<EchoResponse>;
    held.on('error', () => {});
    await new Promise((resolve) => held.once('data', resolve));
    const { error } = await unary(client, { text: 'one too many' });
    expect(error!.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    held.cancel();
  });
});
