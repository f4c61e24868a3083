// Debian's Chromium driven by playwright-core (no browser download): the
// flags keep it off the network, which is closed here anyway.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
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
