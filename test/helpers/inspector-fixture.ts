// The web inspector against the real engine for a UI test: an AppService
// with its embedded tunnel server, one tunnel online to a local service,
// the inspector served from the built renderer, Chromium on its Inspector.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { InspectorServer } from '../../src/main/inspector/inspector-server.js';
import { AppService } from '../../src/main/service/app-service.js';
import type { CreateTunnelInput } from '../../src/shared/contract.js';
import { openInspectorPage } from './browser.js';
import { eventuallyAsync, repoRoot } from './common.js';

export interface InspectorFixture {
  service: AppService;
  browser: Browser;
  page: Page;
  /** The embedded server's public port: NAME.localhost:PORT reaches the tunnel. */
  publicPort: number;
  /** The tunnel's public URL. */
  publicUrl: string;
  close(): Promise<void>;
}

export async function openInspectorOnTunnel(tunnel: CreateTunnelInput): Promise<InspectorFixture> {
  const service = await AppService.open({ initial: { settings: { embeddedServer: true } } });
  const publicPort = Number(/:(\d+)$/.exec((await service.getEmbeddedServer()).publicBaseUrl!)![1]);
  const created = await service.createTunnel(tunnel);
  const online = async () => (await service.listTunnels()).find((t) => t.id === created.id);
  await eventuallyAsync(async () => (await online())?.status === 'online', `tunnel ${tunnel.name} online`, 20_000);
  const inspector = await InspectorServer.start({ host: '127.0.0.1', port: 0, service, rendererDir: join(repoRoot, 'out/renderer') });
  const { browser, page } = await openInspectorPage(inspector.url);
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Inspector' }).click();
  return {
    service,
    browser,
    page,
    publicPort,
    publicUrl: (await online())!.publicUrl!,
    close: async () => {
      await browser.close();
      await inspector.stop();
      await service.close();
    },
  };
}
