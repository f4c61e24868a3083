// WebSocket with a client we did not write: Chromium's, driven through
// playwright-core, against the echo service directly and through burrow
// processes. Binary and text messages at the frame-length and buffer
// boundaries (125/126 bytes, 64 KiB, 1 MiB, 4 MiB, 16 MiB), with
// permessage-deflate as Chromium offers it (client_max_window_bits) and
// two subprotocols offered; the outcomes must be the same both ways.
import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { startProcessTunnelPair, type TunnelPair } from './tunnel-pair.js';
import { patternedBytes, startWebSocketEcho, type WebSocketEchoService } from './websocket-echo-service.js';

const MiB = 1024 * 1024;
const sizes = [0, 1, 125, 126, 65_535, 65_536, 65_537, MiB + 1, 4 * MiB + 1, 16 * MiB + 1];

let service: WebSocketEchoService;
let pair: TunnelPair;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  service = await startWebSocketEcho({ deflate: true, maxPayload: 64 * MiB });
  pair = await startProcessTunnelPair(service.port, 'http');
  browser = await launchChromium();
  page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  // A loopback origin is a secure context, where crypto.subtle digests the echoes.
  await page.goto(`http://127.0.0.1:${service.port}/`);
});

afterAll(async () => {
  await browser?.close();
  await pair?.stop();
  await service?.close();
});

interface BrowserOutcome {
  extensions: string;
  protocol: string;
  echoes: { binary: boolean; bytes: number; sha256: string }[];
  closed: { code: number; reason: string; wasClean: boolean };
}

/** Chromium's WebSocket, as far as the page uses it (these types are Node's, not the DOM's). */
interface PageWebSocket {
  binaryType: string;
  readonly extensions: string;
  readonly protocol: string;
  onopen: () => void;
  onerror: () => void;
  onmessage: (event: { data: ArrayBuffer | string }) => void;
  onclose: (event: { code: number; reason: string; wasClean: boolean }) => void;
  send(data: Uint8Array | string): void;
  close(code: number, reason: string): void;
}

/** In the page: opens `url`, sends each size as binary then as text, awaits every echo, closes 1000. */
function exchangeInPage(url: string, sizeList: number[]): Promise<BrowserOutcome> {
  return page.evaluate(
    async ({ url, sizeList }) => {
      const hex = (buffer: ArrayBuffer): string => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
      const PageSocket = (globalThis as unknown as { WebSocket: new (url: string, protocols: string[]) => PageWebSocket }).WebSocket;
      const ws = new PageSocket(url, ['burrow.first', 'burrow.second']);
      ws.binaryType = 'arraybuffer';
      const inbox: (ArrayBuffer | string)[] = [];
      let wake: (() => void) | undefined;
      ws.onmessage = (event) => {
        inbox.push(event.data);
        wake?.();
      };
      const closed = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
        ws.onclose = (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
      });
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error(`could not open ${url}`));
      });
      // One rejection for every wait, handled here so that a close after the last echo is not an unhandled one.
      const closedEarly = closed.then((c) => Promise.reject(new Error(`closed ${c.code} ${c.reason} while an echo was awaited`)));
      closedEarly.catch(() => {});
      const next = async (): Promise<ArrayBuffer | string> => {
        while (inbox.length === 0) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), closedEarly]);
        return inbox.shift()!;
      };
      const echoes: { binary: boolean; bytes: number; sha256: string }[] = [];
      for (const size of sizeList) {
        const bytes = new Uint8Array(size);
        // patternedBytes, computed here: the page cannot import it.
        for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 10)) & 0xff;
        // Text of the same length in bytes, with two-byte characters straddling the boundaries.
        const text = 'é'.repeat(size >> 1) + 'x'.repeat(size & 1);
        ws.send(bytes);
        ws.send(text);
        for (let i = 0; i < 2; i++) {
          const data = await next();
          const raw = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data);
          echoes.push({ binary: typeof data !== 'string', bytes: raw.byteLength, sha256: hex(await crypto.subtle.digest('SHA-256', raw)) });
        }
      }
      ws.close(1000, 'done');
      return { extensions: ws.extensions, protocol: ws.protocol, echoes, closed: await closed };
    },
    { url, sizeList },
  );
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

describe('WebSocket with Chromium', () => {
  it('binary and text messages at every boundary come back whole, the same directly and through the tunnel', async () => {
    const direct = await exchangeInPage(`ws://127.0.0.1:${service.port}/echo`, sizes);
    const tunnel = await exchangeInPage(`ws://${pair.tunnel.authority}/echo`, sizes);
    expect(tunnel).toEqual(direct);
    expect(direct.echoes).toEqual(
      sizes.flatMap((size) => [
        { binary: true, bytes: size, sha256: sha256(patternedBytes(size)) },
        { binary: false, bytes: size, sha256: sha256('é'.repeat(size >> 1) + 'x'.repeat(size & 1)) },
      ]),
    );
    // The service picks the last subprotocol offered; both ways Chromium heard that choice.
    expect(direct.protocol).toBe('burrow.second');
    expect(service.subprotocols.slice(-2)).toEqual(['burrow.second', 'burrow.second']);
    expect(direct.extensions).toMatch(/^permessage-deflate/);
    expect(direct.closed).toEqual({ code: 1000, reason: 'done', wasClean: true });
  });
});
