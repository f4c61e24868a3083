// The web inspector page when burrow goes away and comes back, in Chromium
// against the real engine: the page says it lost burrow (no stale
// "connected" or "online"), reconnects by itself when burrow answers again
// on the same address, and says plainly when its token is wrong.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InspectorServer } from '../../src/main/inspector/inspector-server.js';
import { AppService } from '../../src/main/service/app-service.js';
import { openInspectorPage, screenshotPath } from '../helpers/browser.js';
import { publicRequest, repoRoot, startBackend, type Backend } from '../helpers/common.js';

let service: AppService;
let inspector: InspectorServer;
let inspectorPort: number;
let backend: Backend;
let publicPort: number;
let browser: Browser;
let page: Page;

const startInspector = (token: string, port = 0): Promise<InspectorServer> =>
  InspectorServer.start({ host: '127.0.0.1', port, service, token, rendererDir: join(repoRoot, 'out/renderer') });

beforeAll(async () => {
  backend = await startBackend((_req, res) => res.end('ok'));
  service = await AppService.open({ initial: { settings: { embeddedServer: true } } });
  publicPort = Number(/:(\d+)$/.exec((await service.getEmbeddedServer()).publicBaseUrl ?? '')?.[1]);
  await service.createTunnel({ name: 'web', protocol: 'http', target: String(backend.port) });
  inspector = await startInspector('first-token');
  inspectorPort = inspector.port;
  ({ browser, page } = await openInspectorPage(inspector.url));
});

afterAll(async () => {
  await browser?.close();
  await inspector?.stop();
  await service?.close();
  await backend?.close();
});

const badge = () => page.getByTestId('agent-status').textContent();
const tunnelStatus = () => page.locator('[data-testid="tunnel-row"][data-tunnel="web"]').getAttribute('data-status');
const banner = () => page.getByTestId('link-banner').textContent();

describe('the web inspector page', () => {
  it('says it lost burrow when burrow goes away, and reconnects by itself when it is back', async () => {
    await expect.poll(badge).toContain('connected');
    await expect.poll(tunnelStatus).toBe('online');
    await inspector.stop();
    await expect.poll(badge).toContain('disconnected');
    await expect.poll(tunnelStatus).toBe('unknown');
    await expect.poll(banner).toMatch(/reconnecting|not answering/);
    await page.screenshot({ path: screenshotPath('inspector-link-lost') });

    inspector = await startInspector('first-token', inspectorPort);
    await expect.poll(badge, { timeout: 20_000 }).toMatch(/^connected/);
    await expect.poll(tunnelStatus).toBe('online');
    expect(await page.getByTestId('link-banner').count()).toBe(0);
    // Live again: new traffic shows up without a reload.
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Inspector' }).click();
    await publicRequest({ port: publicPort, host: 'web.localhost', path: '/after-reconnect' });
    await page.locator('[data-testid="request-row"]', { hasText: '/after-reconnect' }).waitFor();
  });

  it('says burrow restarted with a new token when the old one is refused', async () => {
    await inspector.stop();
    inspector = await startInspector('second-token', inspectorPort);
    await expect.poll(banner, { timeout: 20_000 }).toContain('restarted with a new token');
    expect(await badge()).toContain('not connected');
    // The new URL pasted into the same tab: only its fragment differs, which a browser does not load by itself.
    await page.goto(inspector.url);
    await expect.poll(badge, { timeout: 20_000 }).toMatch(/^connected/);
    expect(await page.getByTestId('link-banner').count()).toBe(0);
  });

  it('says a wrong token is wrong, not that the inspector cannot be reached', async () => {
    const other = await browser.newPage();
    await other.goto(`http://127.0.0.1:${inspectorPort}/#token=not-the-token`);
    await expect.poll(() => other.getByTestId('link-banner').textContent()).toContain("refused this link's token");
    await other.close();
  });
});
