// Interim (1xx) responses at the agent: a 103 Early Hints from the local
// service goes to the server ahead of the final head only where the server
// said it takes them (ConfigSync.takes_interim_responses); an older server,
// which would read a second head as a broken protocol, gets the final one alone.
// Likewise a 100 (Continue), with Expect: 100-continue passed on to the
// service, only where the server leaves the expectation to the service
// (ConfigSync.takes_continue); an older one answered the client itself.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtocolType, type RequestHead, type TunnelMessage } from '../../src/main/gen/burrow/v1/tunnel.js';
import { dataMessage } from '../../src/main/tunnel/messages.js';
import type { DataLink } from '../../src/main/tunnel/agent/local-exchange-context.js';
import { LocalHttpClient } from '../../src/main/tunnel/agent/local-http-client.js';
import { LocalHttpExchange } from '../../src/main/tunnel/agent/local-http-exchange.js';
import { eventually } from '../helpers/common.js';

let service: Server;
let port = 0;
/** Requests that reached the service with Expect: 100-continue. */
let expectations = 0;
const client = new LocalHttpClient();

beforeAll(async () => {
  const answer = (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
    setTimeout(() => res.end('ok'), 10);
  };
  service = createServer(answer);
  service.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    expectations++;
    res.writeContinue();
    answer(req, res);
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  port = (service.address() as AddressInfo).port;
});

afterAll(async () => {
  client.close();
  await new Promise<void>((resolve) => service.close(() => resolve()));
});

const get: RequestHead = { tunnel: 't', method: 'GET', path: '/', headers: [{ name: 'host', value: 'app.localhost' }], remoteAddress: '127.0.0.1', scheme: 'http', endStream: true, timeoutMs: 0n, body: Buffer.alloc(0), edgeWaitMs: 0, httpVersion: '1.1' };
/** A POST whose client holds its body for the go-ahead: the body follows the head through the tunnel. */
const expectingPost: RequestHead = { ...get, method: 'POST', headers: [...get.headers, { name: 'content-length', value: '5' }, { name: 'expect', value: '100-continue' }], endStream: false };
/** The same with its body whole in the head (an HTTP/1.0 client's, which the edge does not hold back). */
const wholeExpectingPost: RequestHead = { ...expectingPost, endStream: true, body: Buffer.from('hello') };

/** The statuses of the response heads the agent sent for one request (a GET unless told). */
async function headsSent(takes: Pick<DataLink, 'takesInterimResponses' | 'takesContinue'>, head = get): Promise<number[]> {
  const sent: TunnelMessage[] = [];
  const link: DataLink = { send: (message) => sent.push(message) > 0, windowBytes: 1024 * 1024, maxWebSocketMessageBytes: 1024, vouchesForwardedFields: true, ...takes };
  let ended = false;
  const exchange = new LocalHttpExchange(
    {
      requestId: 'r1',
      head,
      target: { host: '127.0.0.1', port },
      link,
      emit: () => {},
      ended: () => (ended = true),
    },
    client,
  );
  exchange.start();
  if (!head.endStream) exchange.receive(dataMessage('r1', ProtocolType.PROTOCOL_TYPE_HTTP, { $case: 'bodyChunk', value: { data: Buffer.from('hello'), endStream: true } }));
  await eventually(() => ended, 'the exchange to end');
  return sent.flatMap((message) => (message.payload?.$case === 'responseHead' ? [message.payload.value.status] : []));
}

describe('a 103 Early Hints from the local service', () => {
  it('goes to a server that takes interim responses, ahead of the final head', async () => {
    expect(await headsSent({ takesInterimResponses: true, takesContinue: true })).toEqual([103, 200]);
  });

  it('stays with the agent for a server that does not', async () => {
    expect(await headsSent({ takesInterimResponses: false, takesContinue: false })).toEqual([200]);
  });
});

describe('Expect: 100-continue', () => {
  it('goes on to the service, and its 100 to a server that leaves the expectation to it', async () => {
    const before = expectations;
    expect(await headsSent({ takesInterimResponses: true, takesContinue: true }, expectingPost)).toEqual([100, 103, 200]);
    expect(expectations).toBe(before + 1);
  });

  it('stays with the agent for a server that answers it itself', async () => {
    const before = expectations;
    expect(await headsSent({ takesInterimResponses: true, takesContinue: false }, expectingPost)).toEqual([103, 200]);
    expect(expectations).toBe(before);
  });

  it('stays with the agent when the body came whole with the head: nothing is left to wait for', async () => {
    const before = expectations;
    expect(await headsSent({ takesInterimResponses: true, takesContinue: true }, wholeExpectingPost)).toEqual([103, 200]);
    expect(expectations).toBe(before);
  });
});
