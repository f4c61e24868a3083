// The data stream as one call for each direction, each on a connection of
// its own (data-direction.ts), and as one call for both with a server from
// before that.
import { createHash, randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { dataDirectionKey } from '../../src/main/tunnel/data-direction.js';
import { TunnelClient } from '../../src/main/tunnel/tunnel-codec.js';
import { agentBehindStallableLink, publicRequest, startBackend, type Backend, type LinkedAgent } from '../helpers/common.js';

let backend: Backend | undefined;
let linked: LinkedAgent | undefined;

afterEach(async () => {
  await linked?.stop();
  await backend?.close();
  linked = backend = undefined;
});

/** An echo service, and an agent for it behind a relay that counts the agent's connections. */
async function echoBehindRelay(takesUplink: boolean): Promise<LinkedAgent> {
  backend = await startBackend((req, res) => {
    res.writeHead(200);
    req.pipe(res);
  });
  return agentBehindStallableLink({ takesUplink }, backend.port);
}

async function echoes(port: number): Promise<void> {
  const body = randomBytes(3 * 1024 * 1024 + 1);
  const answer = await publicRequest({ port, host: 'app.localhost', method: 'POST', path: '/', body });
  expect(answer.status).toBe(200);
  expect(createHash('sha256').update(answer.body).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
}

describe('data stream directions', () => {
  it('sends the agent\'s answers on a connection of their own, with a server that takes an uplink', async () => {
    linked = await echoBehindRelay(true);
    await echoes(linked.server.publicPort);
    // The control stream and the downlink share one; the uplink has its own.
    expect(linked.link.accepted).toBe(2);
  });

  it('keeps both directions on one call and one connection with a server from before uplinks', async () => {
    linked = await echoBehindRelay(false);
    await echoes(linked.server.publicPort);
    expect(linked.link.accepted).toBe(1);
  });

  it('refuses a data call whose direction no version sends', async () => {
    linked = await echoBehindRelay(true);
    const client = new TunnelClient(`127.0.0.1:${linked.server.controlPort}`, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set(dataDirectionKey, 'sideways');
    const call = client.proxy(metadata);
    const error = await new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    client.close();
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/downlink.*uplink/);
  });
});
