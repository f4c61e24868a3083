// Every view at 1400×900 and 900×700, light and dark, in Chromium against
// the real engine with demo traffic (HTTP, a 502, a live WebSocket, gRPC
// decoded by reflection): none scrolls sideways, the navigation and an open
// detail stay in the window. The screenshots land in
// test-results/screenshots/views for people to look at (the README's come
// from there).
import { request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { demoEchoService } from '../../src/main/service/demo-backends.js';
import { screenshotPath } from '../helpers/browser.js';
import { eventuallyAsync, holdPort } from '../helpers/common.js';
import { openInspectorOnTunnel, type InspectorFixture } from '../helpers/inspector-fixture.js';

let fixture: InspectorFixture;
let page: Page;
let socket: WebSocket;

const sizes = [
  { width: 1400, height: 900 },
  { width: 900, height: 700 },
] as const;
const schemes = ['light', 'dark'] as const;

function send(host: string, path: string, method = 'GET', body = ''): Promise<number> {
  return new Promise((resolve, reject) =>
    request({ host: '127.0.0.1', port: fixture.publicPort, path, method, headers: { host, 'content-type': 'application/json' } }, (res) => {
      res.resume().on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end(body),
  );
}

beforeAll(async () => {
  // The demo backends come with the embedded server: the first tunnel goes to a closed port (its requests get 502).
  const closed = await holdPort();
  await closed.release();
  fixture = await openInspectorOnTunnel({ name: 'legacy', protocol: 'http', target: String(closed.port) });
  page = fixture.page;
  const { service, publicPort } = fixture;
  const demo = (await service.getEmbeddedServer()).demoTargets!;
  for (const [name, protocol, target] of [
    ['shop', 'http', demo.http],
    ['chat', 'http', demo.websocket],
    ['orders', 'grpc', demo.grpc],
  ] as const) {
    await service.createTunnel({ name, protocol, target });
  }
  await eventuallyAsync(async () => (await service.listTunnels()).every((t) => t.status === 'online'), 'every tunnel online', 20_000);

  expect(await send('shop.localhost', '/api/orders?page=2', 'POST', JSON.stringify({ item: 'tea', quantity: 2 }))).toBe(200);
  expect(await send('shop.localhost', '/health')).toBe(200);
  expect(await send('legacy.localhost', '/old')).toBe(502);
  socket = new WebSocket(`ws://127.0.0.1:${publicPort}/live`, { headers: { host: 'chat.localhost' } });
  await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject));
  const echoed = new Promise((resolve) => socket.once('message', resolve));
  socket.send(JSON.stringify({ subscribe: 'orders' }));
  await echoed;
  const Client = grpc.makeGenericClientConstructor(demoEchoService, 'Echo');
  const client = new Client(`127.0.0.1:${publicPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'orders.localhost' });
  try {
    const hello = Buffer.from([0x0a, 0x05, ...Buffer.from('hello')]);
    await new Promise<void>((resolve, reject) => (client.unary as (r: Buffer, cb: (e: Error | null) => void) => void)(hello, (error) => (error ? reject(error) : resolve())));
  } finally {
    client.close();
  }
  await eventuallyAsync(async () => (await service.listRequests({})).filter((r) => r.state !== 'in-flight').length >= 4, 'the requests logged');
});

afterAll(async () => {
  socket?.terminate();
  await fixture?.close();
});

const nav = (): ReturnType<Page['getByRole']> => page.getByRole('navigation', { name: 'Views' });

async function openView(name: 'Tunnels' | 'Inspector' | 'Throughput' | 'Connection' | 'Settings'): Promise<void> {
  await nav().getByRole('button', { name }).click();
}

/** Opens the detail of the newest request of this protocol. */
async function openDetail(protocol: 'http' | 'websocket' | 'grpc'): Promise<void> {
  await openView('Inspector');
  await page.locator(`[data-testid="request-row"][data-protocol="${protocol}"]`).first().click();
  await page.getByTestId('request-detail').waitFor();
}

const views: { name: string; open: () => Promise<void>; ready: () => Promise<unknown> }[] = [
  { name: 'tunnels', open: () => openView('Tunnels'), ready: () => page.getByText('orders', { exact: true }).first().waitFor() },
  { name: 'inspector', open: () => openView('Inspector'), ready: () => page.locator('[data-testid="request-row"]').first().waitFor() },
  { name: 'inspector-http', open: () => openDetail('http'), ready: () => page.getByTestId('request-detail').waitFor() },
  { name: 'inspector-websocket', open: () => openDetail('websocket'), ready: () => page.getByTestId('message').first().waitFor() },
  { name: 'inspector-grpc', open: () => openDetail('grpc'), ready: () => page.getByTestId('decoded-json').first().waitFor() },
  { name: 'throughput', open: () => openView('Throughput'), ready: () => page.getByTestId('latency-chart').waitFor() },
  { name: 'connection', open: () => openView('Connection'), ready: () => page.getByTestId('connection-event').first().waitFor() },
  { name: 'settings', open: () => openView('Settings'), ready: () => page.getByRole('heading', { name: 'Settings' }).waitFor() },
];

/** How far the page is wider than the window (0 when nothing scrolls sideways); runs in the page. */
const sidewaysOverflow = 'document.documentElement.scrollWidth - window.innerWidth';

describe('every view at both sizes, light and dark', () => {
  for (const size of sizes) {
    for (const scheme of schemes) {
      it(`${size.width}×${size.height} ${scheme}: nothing scrolls sideways, navigation and detail in the window`, async () => {
        await page.setViewportSize(size);
        await page.emulateMedia({ colorScheme: scheme });
        for (const view of views) {
          await view.open();
          await view.ready();
          expect(await page.evaluate(sidewaysOverflow), view.name).toBeLessThanOrEqual(0);
          const settingsButton = (await nav().getByRole('button', { name: 'Settings' }).boundingBox())!;
          expect(settingsButton.x + settingsButton.width, `${view.name}: navigation`).toBeLessThanOrEqual(size.width);
          if (view.name.startsWith('inspector-')) {
            const close = (await page.getByTestId('request-detail').getByRole('button', { name: /close/i }).boundingBox())!;
            expect(close.x + close.width, `${view.name}: the detail's close button`).toBeLessThanOrEqual(size.width);
          }
          await page.screenshot({ path: screenshotPath(`views/${view.name}-${size.width}x${size.height}-${scheme}`) });
        }
      });
    }
  }
});
