// Trailers as the inspector records them: an HTTP request's and an HTTP
// response's reach the service and the client, and the log as well, where
// neither was recorded (only a gRPC call's response trailers were).
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harEntry } from '../../src/main/service/har.js';
import { TrafficLog } from '../../src/main/service/traffic-log.js';
import type { TrafficEvent } from '../../src/shared/traffic.js';
import { eventually, startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';

let backend: Backend;
let tunnel: TunnelFixture;
const log = new TrafficLog();
let requestId: string | undefined;

beforeAll(async () => {
  backend = await startBackend((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { trailer: 'x-digest' });
      res.write(`got ${req.rawTrailers.join('=')}`);
      res.addTrailers({ 'x-digest': 'sha-256=abc' });
      res.end();
    });
  });
  tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(backend.port) }]);
  tunnel.agent.on('traffic', (event: TrafficEvent) => {
    log.apply(event);
    if (event.kind === 'request-start') requestId = event.requestId;
  });
});
afterAll(async () => {
  await tunnel.stop();
  await backend.close();
});

describe('trailers in the traffic log', () => {
  it("keeps an HTTP request's trailers and its response's apart, shows both in HAR, and finds them by search", async () => {
    const answer = await new Promise<{ body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
      const req = request({ port: tunnel.publicPort, method: 'POST', path: '/upload', headers: { host: 'app.localhost', trailer: 'x-checksum' } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ body, trailers: res.trailers }));
      });
      req.on('error', reject);
      req.write('part one');
      req.addTrailers({ 'x-checksum': 'c0ffee' });
      req.end();
    });
    expect(answer).toEqual({ body: 'got x-checksum=c0ffee', trailers: { 'x-digest': 'sha-256=abc' } });
    await eventually(() => requestId !== undefined && log.detail(requestId)?.state === 'done', 'the request recorded as done');
    const detail = log.detail(requestId!)!;
    expect({ request: detail.requestTrailers, response: detail.trailers }).toEqual({ request: [['x-checksum', 'c0ffee']], response: [['x-digest', 'sha-256=abc']] });
    const entry = harEntry(detail);
    expect(entry.request.headers).toContainEqual({ name: 'x-checksum', value: 'c0ffee' });
    expect(entry.response.headers).toContainEqual({ name: 'x-digest', value: 'sha-256=abc' });
    expect(log.search('c0ffee')).toEqual([requestId]);
  });
});
