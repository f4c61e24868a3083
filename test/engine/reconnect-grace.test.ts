// An edge that has just started knows no tunnel names: its agents are
// coming back. Meanwhile a request for a name it does not hold is told the
// tunnel is offline (502, gRPC UNAVAILABLE, which clients try again), not
// that there is no such tunnel (404, and UNIMPLEMENTED, which they do not).
// After the grace, an unknown name is unknown again.
import { once } from 'node:events';
import { connect as connectHttp2, type IncomingHttpHeaders } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import { publicRequest } from '../helpers/common.js';
import { echoClient } from '../helpers/grpc-echo.js';

let server: TunnelServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function startEdge(reconnectGraceMs: number): Promise<TunnelServer> {
  server = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: '127.0.0.1:0', domain: 'localhost', reconnectGraceMs });
  await server.start();
  return server;
}

/** A unary call's status code to tunnel `name` at `port`. */
async function callStatus(port: number, name: string): Promise<number> {
  const client = echoClient(port, name);
  try {
    return await new Promise<number>((resolve) => (client.unary as (r: object, cb: (e: grpc.ServiceError | null) => void) => void)({ text: 'hi' }, (error) => resolve(error?.code ?? grpc.status.OK)));
  } finally {
    client.close();
  }
}

/** An HTTP/2 GET's status, error code and Retry-After. */
async function http2Status(port: number, authority: string): Promise<{ status: unknown; code: unknown; retryAfter: unknown }> {
  const session = connectHttp2(`http://127.0.0.1:${port}`);
  try {
    const stream = session.request({ ':path': '/', ':authority': authority });
    stream.resume();
    const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    return { status: headers[':status'], code: headers['x-burrow-error'], retryAfter: headers['retry-after'] };
  } finally {
    session.close();
  }
}

describe('the names of an edge just started', () => {
  it('are offline for a while (502 with Retry-After, gRPC UNAVAILABLE), not unknown', async () => {
    // A minute: the requests below come well within it, however busy the machine.
    const edge = await startEdge(60_000);
    const answer = await publicRequest({ port: edge.publicPort, host: 'app.localhost' });
    expect({ status: answer.status, code: answer.headers['x-burrow-error'], retryAfter: answer.headers['retry-after'] }).toEqual({ status: 502, code: 'BURROW_E_TUNNEL_OFFLINE', retryAfter: '1' });
    expect(answer.body.toString()).toMatch(/^tunnel app is not connected \(yet\): this edge started \d+\.\d s ago, and its agents are connecting again\n$/);
    // Over HTTP/2 too: its refusals had no Retry-After (a review).
    const overHttp2 = await http2Status(edge.publicPort, 'app.localhost');
    expect(overHttp2).toEqual({ status: 502, code: 'BURROW_E_TUNNEL_OFFLINE', retryAfter: '1' });
    expect(await callStatus(edge.publicPort, 'rpc')).toBe(grpc.status.UNAVAILABLE);
    // A host outside the domain names no tunnel at all.
    expect((await publicRequest({ port: edge.publicPort, host: 'app.example.com' })).status).toBe(404);
  });

  it('are unknown once the grace is over (404, gRPC UNIMPLEMENTED)', async () => {
    const edge = await startEdge(0);
    const answer = await publicRequest({ port: edge.publicPort, host: 'app.localhost' });
    expect({ status: answer.status, code: answer.headers['x-burrow-error'] }).toEqual({ status: 404, code: 'BURROW_E_NO_TUNNEL' });
    expect(await callStatus(edge.publicPort, 'rpc')).toBe(grpc.status.UNIMPLEMENTED);
  });
});
