// Smoke test of the desktop app itself, in Electron (not the web
// inspector): the window opens, the tunnel list renders, the local test
// server starts, a demo tunnel comes online and carries a request.
//
//   npm run smoke:electron                     the built app (npm run build), with node_modules' Electron
//   BURROW_APP=dist/linux-unpacked/burrow npm run smoke:electron    a packaged app
//
// It needs Electron's binary and a display (xvfb-run on a headless Linux),
// so it is not part of npm test: Electron's binary cannot be downloaded on
// the machines the tests run on. The release workflow runs it.
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const userData = mkdtempSync(join(tmpdir(), 'burrow-smoke-'));
const packaged = process.env.BURROW_APP;

/** How to start the app: the packaged one, or the built sources with node_modules' Electron (whose binary must be there). */
async function launchOptions() {
  if (packaged) return { executablePath: packaged, args: ['--no-sandbox'] };
  try {
    return { executablePath: (await import('electron')).default, args: ['--no-sandbox', join(root, 'out/main/index.js')] };
  } catch (error) {
    throw new Error(`no Electron binary (installed with ELECTRON_SKIP_BINARY_DOWNLOAD?): ${error.message}`);
  }
}

const step = (what) => process.stdout.write(`smoke: ${what}\n`);
let app;
try {
  app = await electron.launch({ ...(await launchOptions()), env: { ...process.env, BURROW_USER_DATA: userData }, timeout: 60_000 });
  const window = await app.firstWindow();
  window.setDefaultTimeout(30_000);
  await window.getByRole('heading', { name: 'Tunnels' }).waitFor();
  step('the window opened on the tunnel list');
  await window.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Settings' }).click();
  await window.getByRole('button', { name: 'Start local test server' }).click();
  await window.getByTestId('embedded-status').getByText('running').waitFor();
  step('the local test server runs');
  await window.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Tunnels' }).click();
  await window.getByRole('button', { name: 'Add demo tunnels' }).click();
  const demo = window.locator('[data-testid="tunnel-row"][data-tunnel="demo"][data-status="online"]');
  await demo.waitFor();
  const url = await demo.locator('.public-url a').textContent();
  const { port } = new URL(url);
  const status = await new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/smoke', headers: { host: 'demo.localhost' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    }).on('error', reject);
  });
  if (status !== 200) throw new Error(`the demo tunnel answered ${status}`);
  step(`a request through ${url} came back 200`);
} catch (error) {
  process.stderr.write(`smoke: failed: ${error.message}\n`);
  process.exitCode = 1;
} finally {
  await app?.close();
  rmSync(userData, { recursive: true, force: true });
}
