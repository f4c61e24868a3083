// The Connection view in Chromium against the real engine: an agent (in an
// AppService) connected to a real tunnel server; the server restarts, and
// the timeline shows the disconnect with its reason and the reconnect, while
// the heartbeat round-trip chart keeps moving.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InspectorServer } from '../../src/main/inspector/inspector-server.js';
import { AppService } from '../../src/main/service/app-service.js';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';
import { openInspectorPage, screenshotPath } from '../helpers/browser.js';
import { repoRoot } from '../helpers/common.js';

let server: TunnelServer;
let controlPort: number;
let service: AppService;
let inspector: InspectorServer;
let browser: Browser;
let page: Page;

/** A server whose heartbeats (and so round trips) come every 200 ms. */
async function startServer(port: number): Promise<TunnelServer> {
  const started = new TunnelServer({ controlAddress: `127.0.0.1:${port}`, publicAddress: '127.0.0.1:0', domain: 'localhost', config: { heartbeatIntervalMs: 200 } });
  await started.start();
  return started;
}

beforeAll(async () => {
  server = await startServer(0);
  controlPort = server.controlPort;
  service = await AppService.open({ initial: { settings: { serverAddress: `127.0.0.1:${controlPort}`, embeddedServer: false } } });
  inspector = await InspectorServer.start({ host: '127.0.0.1', port: 0, service, rendererDir: join(repoRoot, 'out/renderer') });
  ({ browser, page } = await openInspectorPage(inspector.url));
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Connection' }).click();
});

afterAll(async () => {
  await browser?.close();
  await inspector?.stop();
  await service?.close();
  await server?.stop();
});

const timelineKinds = (): Promise<string[]> => page.locator('[data-testid="connection-event"] .timeline-kind').allTextContents();
const chartPath = (): Promise<string | null> => page.locator('[data-testid="rtt-chart"] path.recharts-curve').first().getAttribute('d');

describe('Connection view', () => {
  it('shows the connect, and a round-trip chart that moves', async () => {
    await expect.poll(timelineKinds).toContain('connected');
    await page.getByTestId('rtt-chart').waitFor();
    const before = await chartPath();
    await expect.poll(chartPath).not.toBe(before);
    await expect.poll(() => page.getByTestId('rtt-now').textContent()).toMatch(/^\d+ ms/);
  });

  it('shows a server restart as a disconnect with its reason, then a reconnect', async () => {
    const connectedBefore = (await timelineKinds()).filter((kind) => kind === 'connected').length;
    await server.stop();
    // The restarted server takes the same control port, where the agent keeps retrying.
    server = await startServer(controlPort);
    await expect.poll(async () => (await timelineKinds()).filter((kind) => kind === 'connected').length, { timeout: 20_000 }).toBe(connectedBefore + 1);
    const disconnect = page.locator('[data-testid="connection-event"].kind-disconnected .timeline-detail').first();
    await expect.poll(() => disconnect.textContent()).toMatch(/retrying in/);
    // One outage, however many retries it took (each failed one is on the timeline, and each was counted).
    expect(Number(await page.getByTestId('disconnect-count').locator('.stat-value').textContent())).toBe(1);
    await page.screenshot({ path: screenshotPath('connection'), fullPage: true });
  });
});
