// A response that fails after its head went out can only be cut: the client
// must be able to tell the cut from an end. Chunked bodies (HTTP/1.1) show it
// by their missing last chunk; a body framed by the connection's close, as
// sent to HTTP/1.0 clients (and proxies such as nginx, by default), ends at a
// close as if whole, so it is cut with a reset.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';

let service: Backend;
let tunnel: TunnelFixture;

beforeAll(async () => {
  // Half a body, then the connection to the agent goes: the answer failed mid-body.
  service = await startBackend((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write(Buffer.alloc(1_000, 'a'), () => res.socket?.destroy());
  });
  tunnel = await startTunnel([{ name: 'app', protocol: 'http', target: String(service.port) }]);
});

afterAll(async () => {
  await tunnel?.stop();
  await service?.close();
});

/** Sends `request` on a raw socket; resolves with what came back and whether the connection ended in an error. */
function exchange(request: string): Promise<{ text: string; reset: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(tunnel.publicPort, '127.0.0.1');
    let text = '';
    let reset = false;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => (reset = true));
    socket.on('close', () => resolve({ text, reset }));
    socket.write(request);
  });
}

describe('a response that fails mid-body', () => {
  it('reaches an HTTP/1.0 client as a reset, not as a close that would end its body as if whole', async () => {
    const { text, reset } = await exchange('GET /half HTTP/1.0\r\nHost: app.localhost\r\n\r\n');
    expect(text === '' || text.startsWith('HTTP/1.1 200 ')).toBe(true);
    expect(reset).toBe(true);
  });

  it('reaches an HTTP/1.1 client as a chunked body without its last chunk', async () => {
    const { text } = await exchange('GET /half HTTP/1.1\r\nHost: app.localhost\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 200 [^]*transfer-encoding: chunked\r\n/i);
    expect(text).not.toMatch(/\r\n0\r\n\r\n$/);
  });
});
