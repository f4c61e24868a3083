// Desktop conveniences in Chromium against the real engine: a tunnel's
// public URL as a QR code (read back from a screenshot with a QR decoder),
// keyboard shortcuts and their help overlay, and the desktop switches in
// Settings.
import { join } from 'node:path';
import jsqr from 'jsqr';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InspectorServer } from '../../src/main/inspector/inspector-server.js';
import { AppService } from '../../src/main/service/app-service.js';
import { openInspectorPage, screenshotPath } from '../helpers/browser.js';
import { repoRoot } from '../helpers/common.js';

// jsqr is CommonJS with a default export: its module object is the function too.
const jsQR = jsqr.default;

let service: AppService;
let inspector: InspectorServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  service = await AppService.open({ initial: { settings: { embeddedServer: true } } });
  const { demoTargets } = await service.getEmbeddedServer();
  await service.createTunnel({ name: 'phone', protocol: 'http', target: demoTargets!.http });
  inspector = await InspectorServer.start({ host: '127.0.0.1', port: 0, service, rendererDir: join(repoRoot, 'out/renderer') });
  ({ browser, page } = await openInspectorPage(inspector.url));
});

afterAll(async () => {
  await browser?.close();
  await inspector?.stop();
  await service?.close();
});

describe('desktop conveniences', () => {
  it('shows a public URL as a QR code that decodes to it', async () => {
    await page.locator('[data-testid="tunnel-row"][data-tunnel="phone"][data-status="online"]').waitFor();
    const publicUrl = (await service.listTunnels()).find((t) => t.name === 'phone')!.publicUrl!;
    await page.locator('[data-testid="tunnel-row"][data-tunnel="phone"]').getByRole('button', { name: 'QR code' }).click();
    const image = page.getByTestId('qr-code');
    await image.waitFor();
    await expect.poll(() => image.evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).naturalWidth > 0)).toBe(true);
    const png = PNG.sync.read(await image.screenshot());
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(decoded?.data).toBe(publicUrl);
    await page.screenshot({ path: screenshotPath('tunnel-qr-code') });
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => page.getByTestId('qr-code').count()).toBe(0);
  });

  it('switches views by number keys and lists its shortcuts on ?', async () => {
    await page.keyboard.press('4');
    await page.getByRole('heading', { name: 'Connection' }).waitFor();
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    expect(await help.locator('dt').allTextContents()).toEqual(['1 – 5', '/', '↑ ↓ Home End', 'Enter', 'Esc', '?']);
    await page.keyboard.press('Escape');
    await expect.poll(() => help.count()).toBe(0);
    await page.keyboard.press('1');
    await page.getByRole('heading', { name: 'Tunnels' }).waitFor();
  });

  it('imports the HTTP tunnels of an frpc file, switched off, and says what it could not carry over', async () => {
    await page.keyboard.press('1');
    await page.getByText('Import from ngrok or frp…').click();
    await page.getByLabel('Configuration file (ngrok.yml, frpc.toml or frpc.ini)').setInputFiles(join(repoRoot, 'test/fixtures/import/frpc.ini'));
    const report = page.getByTestId('import-report');
    await report.waitFor();
    expect(await report.locator('p').first().textContent()).toBe('Read as an frpc configuration: 2 tunnels added, switched off (dash, api).');
    expect(await report.locator('li strong').allTextContents()).toEqual(['api: custom_domains', 'api: host_header_rewrite', 'api: locations', 'vnc']);
    await page.locator('[data-testid="tunnel-row"][data-tunnel="dash"][data-status="disabled"]').waitFor();
    await page.screenshot({ path: screenshotPath('tunnels-import'), fullPage: true });
  });

  it('keeps the desktop switches in Settings', async () => {
    await page.keyboard.press('5');
    const desktop = page.getByRole('group', { name: 'Desktop app' });
    await desktop.getByLabel('Start when I log in').check();
    await desktop.getByLabel(/^Notify when/).uncheck();
    await expect.poll(async () => {
      const settings = await service.getSettings();
      return [settings.startAtLogin, settings.notifications];
    }).toEqual([true, false]);
  });
});
