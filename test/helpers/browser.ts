// Debian's Chromium driven by playwright-core (no browser download): the
// flags keep it off the network, which is closed here anyway.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './common.js';

export const chromiumPath = process.env.BURROW_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`UI tests need Chromium at ${chromiumPath}: apt-get install chromium, or set BURROW_CHROMIUM to a Chromium binary`);
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Where UI tests leave their screenshots (a CI artifact; looked at by people). */
export function screenshotPath(name: string): string {
  const dir = join(repoRoot, 'test-results', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}

/** Chromium with one 1400×900 page open at `url` (the inspector), waiting up to 15 s per step. */
export async function openInspectorPage(url: string): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(15_000);
  await page.goto(url);
  return { browser, page };
}
