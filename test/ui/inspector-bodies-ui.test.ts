// Bodies in the inspector's detail, in Chromium against the real engine:
// the whole kept body, decoded from gzip and br, as hex, an image shown,
// form and multipart sent by curl parsed, and a download that has the bytes.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotPath } from '../helpers/browser.js';
import { startBackend, type Backend } from '../helpers/common.js';
import { openInspectorOnTunnel, type InspectorFixture } from '../helpers/inspector-fixture.js';

const run = promisify(execFile);
/** A JSON document longer than any preview: the detail must show all of it. */
const report = JSON.stringify({ rows: Array.from({ length: 2_000 }, (_, i) => ({ row: i, label: `item ${i}` })), end: 'the last line' });
const png = (() => {
  const image = new PNG({ width: 24, height: 16 });
  image.data.fill(0x80);
  return PNG.sync.write(image);
})();

let fixture: InspectorFixture;
let backend: Backend;
let page: Page;
let publicUrl: string;
let scratch: string;

beforeAll(async () => {
  backend = await startBackend((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/report.json.gz') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(report));
      } else if (req.url === '/notes.txt.br') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'br' }).end(brotliCompressSync('brotli said hello'));
      } else if (req.url === '/picture.png') {
        res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      } else {
        res.writeHead(204).end();
      }
    });
  });
  fixture = await openInspectorOnTunnel({ name: 'bodies', protocol: 'http', target: String(backend.port) });
  ({ page, publicUrl } = fixture);
  scratch = await mkdtemp(join(tmpdir(), 'burrow-bodies-'));
});

afterAll(async () => {
  await fixture?.close();
  await backend?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** An <img>'s decoded size: 0x0 until the browser could decode it. Runs in the page. */
function naturalSize(element: unknown): string {
  const img = element as { naturalWidth: number; naturalHeight: number };
  return `${img.naturalWidth}x${img.naturalHeight}`;
}

/** Sends with curl through the tunnel, then opens the request in the detail. */
async function sendAndOpen(path: string, curlArgs: string[] = []) {
  await run('curl', ['-sS', '-o', '/dev/null', ...curlArgs, `${publicUrl}${path}`]);
  await page.getByLabel('Filter text').fill(path);
  const row = page.locator('[data-testid="request-row"][data-state="done"]').first();
  await row.click();
  const detail = page.getByTestId('request-detail');
  await detail.locator('.facts').getByText(path).waitFor();
  return detail;
}

describe('bodies in the detail', () => {
  it('shows a gzip response decoded and whole, as hex too, and downloads the decoded bytes', async () => {
    const detail = await sendAndOpen('/report.json.gz');
    const body = detail.getByTestId('response-body');
    await expect.poll(() => body.getByTestId('body-encoding').textContent()).toMatch(/^gzip-encoded .* shown decoded \(\d+ KiB\)$/);
    const text = await body.getByTestId('body-text').textContent();
    expect(JSON.parse(text!)).toEqual(JSON.parse(report));
    await body.getByRole('radio', { name: 'Hex' }).click();
    expect(await body.getByTestId('body-hex').textContent()).toMatch(/^000000 {2}7b 22 72 6f 77 73 22 3a/);
    await page.screenshot({ path: screenshotPath('inspector-body-decoded') });
    const [download] = await Promise.all([page.waitForEvent('download'), body.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toMatch(/-response\.json$/);
    expect(await readFile((await download.path())!, 'utf8')).toBe(report);
  });

  it('decodes br', async () => {
    const body = (await sendAndOpen('/notes.txt.br')).getByTestId('response-body');
    await expect.poll(() => body.getByTestId('body-text').textContent()).toBe('brotli said hello');
  });

  it('previews an image, with its bytes a click away', async () => {
    const body = (await sendAndOpen('/picture.png')).getByTestId('response-body');
    const image = body.getByRole('img', { name: 'Body as an image' });
    await expect.poll(() => image.evaluate(naturalSize)).toBe('24x16');
    await body.getByRole('radio', { name: 'Hex' }).click();
    expect(await body.getByTestId('body-hex').textContent()).toContain('89 50 4e 47');
  });

  it('parses a form curl sent into its fields', async () => {
    const body = (await sendAndOpen('/signup', ['--data-urlencode', 'name=Ada Lovelace', '--data-urlencode', 'note=✓ yes'])).getByTestId('request-body');
    const fields = body.getByRole('table', { name: 'Form fields' });
    await expect.poll(() => fields.locator('tr').allTextContents()).toEqual(['nameAda Lovelace', 'note✓ yes']);
    await body.getByRole('radio', { name: 'Text' }).click();
    expect(await body.getByTestId('body-text').textContent()).toBe('name=Ada+Lovelace&note=%E2%9C%93+yes');
  });

  it('parses a multipart upload curl sent: a field and a file, the image shown', async () => {
    const file = join(scratch, 'tiny.png');
    await writeFile(file, png);
    const body = (await sendAndOpen('/upload', ['-F', 'title=Holiday', '-F', `photo=@${file};type=image/png`])).getByTestId('request-body');
    const parts = body.getByTestId('body-part');
    await expect.poll(() => parts.count()).toBe(2);
    expect(await parts.nth(0).textContent()).toContain('Holiday');
    expect(await parts.nth(1).textContent()).toMatch(/photo · file tiny\.png · image\/png · \d+ B/);
    await expect.poll(() => parts.nth(1).getByRole('img').evaluate(naturalSize)).toBe('24x16');
    await page.screenshot({ path: screenshotPath('inspector-body-multipart') });
  });
});
