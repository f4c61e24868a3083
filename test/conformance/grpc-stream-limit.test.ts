// A gRPC service that takes few calls at once (grpc.max_concurrent_streams
// 5) and a burst of calls on the tunnel's first connection to it: a client
// calling it directly (grpc-js) queues the calls over the limit, so the
// tunnel must too, not have them refused (REFUSED_STREAM) because it opened
// them before the service's settings came.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawMethod } from '../../src/main/service/raw-grpc-method.js';
import { startTunnelPair, type Endpoint, type TunnelPair } from './tunnel-pair.js';

const echo = { echo: rawMethod('/limit.L/Echo', false, false) };
const streamLimit = 5;
const burst = 30;

let server: grpc.Server;
let pair: TunnelPair;

beforeAll(async () => {
  server = new grpc.Server({ 'grpc.max_concurrent_streams': streamLimit });
  server.addService(echo, {
    // Held a moment, so that the burst's calls overlap at the service.
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => setTimeout(() => callback(null, call.request), 50),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  pair = await startTunnelPair(port, 'grpc');
});

afterAll(async () => {
  await pair?.stop();
  server?.forceShutdown();
});

/** `burst` calls at once from a new client: the status code of each. */
async function callBurst(endpoint: Endpoint): Promise<grpc.status[]> {
  const Client = grpc.makeGenericClientConstructor(echo, 'L');
  const client = new Client(`127.0.0.1:${endpoint.port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': endpoint.authority }) as unknown as grpc.Client & {
    echo(request: Buffer, callback: (error: grpc.ServiceError | null) => void): void;
  };
  const codes = await Promise.all(
    Array.from({ length: burst }, (_, i) => new Promise<grpc.status>((resolve) => client.echo(Buffer.from(`call ${i}`), (error) => resolve(error?.code ?? grpc.status.OK)))),
  );
  client.close();
  return codes;
}

describe('a gRPC service that takes 5 calls at once', () => {
  it('gets a burst of 30 on the tunnel’s first connection to it queued, as directly: every call succeeds', async () => {
    // Through the tunnel first: its connection to the service is then the first one.
    // (The tunnel runs in this process: a listener per waiting call would show as a warning here.)
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    const tunnel = await callBurst(pair.tunnel).finally(() => process.off('warning', onWarning));
    const direct = await callBurst(pair.direct);
    const allOk = Array.from({ length: burst }, () => grpc.status.OK);
    expect({ direct, tunnel }).toEqual({ direct: allOk, tunnel: allOk });
    expect(warnings).toEqual([]);
  });
});
