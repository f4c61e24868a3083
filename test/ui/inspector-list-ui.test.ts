// The inspector's list in Chromium against the real engine: sorted by a
// column, paused with new requests counted while they wait, a timing bar
// per row, a column widened by dragging its edge, and at 900×700 with the
// detail open Path and Status still in view.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotPath } from '../helpers/browser.js';
import { publicRequest, startBackend, type Backend } from '../helpers/common.js';
import { openInspectorOnTunnel, type InspectorFixture } from '../helpers/inspector-fixture.js';

let fixture: InspectorFixture;
let backend: Backend;
let page: Page;
let publicPort: number;

/** Sends GET /PATH through the tunnel; the backend answers with SIZE bytes. */
const send = (path: string, size = 1) => publicRequest({ port: publicPort, host: 'list.localhost', path: `${path}?size=${size}` });
const paths = () => page.locator('[data-testid="request-row"] .cell-path').allTextContents();
const header = (name: 'Time' | 'Tunnel' | 'Path' | 'Status' | 'Bytes in / out') => page.getByRole('columnheader', { name, exact: true });

beforeAll(async () => {
  backend = await startBackend((req, res) => res.end('x'.repeat(Number(new URL(req.url!, 'http://x').searchParams.get('size')))));
  fixture = await openInspectorOnTunnel({ name: 'list', protocol: 'http', target: String(backend.port) });
  ({ page, publicPort } = fixture);
});

afterAll(async () => {
  await fixture?.close();
  await backend?.close();
});

describe('the request list', () => {
  it('sorts by a column either way, newest first by default', async () => {
    for (const [path, size] of [['/b', 300], ['/a', 5_000], ['/c', 40]] as const) await send(path, size);
    await expect.poll(paths).toEqual(['/c?size=40', '/a?size=5000', '/b?size=300']);
    expect(await header('Time').getAttribute('aria-sort')).toBe('descending');
    await header('Bytes in / out').getByRole('button').click();
    await expect.poll(paths).toEqual(['/a?size=5000', '/b?size=300', '/c?size=40']);
    expect(await header('Bytes in / out').getAttribute('aria-sort')).toBe('descending');
    expect(await header('Time').getAttribute('aria-sort')).toBe('none');
    await header('Path').getByRole('button').click();
    await expect.poll(paths).toEqual(['/a?size=5000', '/b?size=300', '/c?size=40']);
    await header('Path').getByRole('button').click();
    expect(await header('Path').getAttribute('aria-sort')).toBe('descending');
    await expect.poll(paths).toEqual(['/c?size=40', '/b?size=300', '/a?size=5000']);
    await header('Time').getByRole('button').click();
    await expect.poll(paths).toEqual(['/c?size=40', '/a?size=5000', '/b?size=300']);
  });

  it('holds new requests while paused, counts them, and shows them on resume', async () => {
    await page.getByRole('button', { name: 'Pause' }).click();
    await send('/later-1');
    await send('/later-2');
    await expect.poll(() => page.getByTestId('new-requests').textContent()).toBe('2 new ↑');
    expect(await paths()).toEqual(['/c?size=40', '/a?size=5000', '/b?size=300']);
    await page.screenshot({ path: screenshotPath('inspector-paused') });
    await page.getByTestId('new-requests').click();
    await expect.poll(paths).toEqual(['/later-2?size=1', '/later-1?size=1', '/c?size=40', '/a?size=5000', '/b?size=300']);
    expect(await page.getByRole('button', { name: 'Pause' }).getAttribute('aria-pressed')).toBe('false');
  });

  it('says so when a filter matches only requests that wait, where it said none matched', async () => {
    await page.getByRole('button', { name: 'Pause' }).click();
    await send('/waiting-one');
    await expect.poll(() => page.getByTestId('new-requests').textContent()).toBe('1 new ↑');
    await page.getByLabel('Filter text').fill('/waiting-one');
    await expect.poll(() => page.locator('.empty').textContent()).toBe('No request shown matches the filter; 1 new that match wait while the list is paused.');
    await page.getByTestId('new-requests').click();
    await expect.poll(paths).toEqual(['/waiting-one?size=1']);
    await page.getByLabel('Filter text').fill('');
  });

  it('shows each finished request in phases: at the edge, to the first byte, the rest', async () => {
    const row = page.locator('[data-testid="request-row"]').first();
    expect(await row.getByTestId('timing').getAttribute('title')).toMatch(/^edge \d+ ms → local service's first byte \d+ ms → done \d+ ms$/);
    await row.click();
    expect(await page.getByTestId('timing-text').textContent()).toMatch(/^edge \d+ ms → local service's first byte \d+ ms → done \d+ ms$/);
    await page.getByRole('button', { name: 'Close detail' }).click();
  });

  it('widens a column by dragging its edge, and keeps the width after a reload', async () => {
    const tunnel = header('Tunnel');
    const before = (await tunnel.boundingBox())!.width;
    const edge = (await tunnel.locator('.column-resize').boundingBox())!;
    await page.mouse.move(edge.x + edge.width / 2, edge.y + edge.height / 2);
    await page.mouse.down();
    await page.mouse.move(edge.x + edge.width / 2 + 80, edge.y + edge.height / 2, { steps: 4 });
    await page.mouse.up();
    await expect.poll(async () => Math.round((await tunnel.boundingBox())!.width - before)).toBe(80);
    await page.reload();
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Inspector' }).click();
    await expect.poll(async () => Math.round((await header('Tunnel').boundingBox())!.width - before)).toBe(80);
  });

  it('at 900×700 with the detail open, keeps Path and Status in view', async () => {
    await page.setViewportSize({ width: 900, height: 700 });
    await page.locator('[data-testid="request-row"]').first().click();
    await page.getByTestId('request-detail').waitFor();
    const table = (await page.getByTestId('request-table').boundingBox())!;
    for (const name of ['Path', 'Status'] as const) {
      const box = (await header(name).boundingBox())!;
      expect(box.x + box.width, name).toBeLessThanOrEqual(table.x + table.width + 1);
      expect(box.width, name).toBeGreaterThan(60);
    }
    expect(await page.locator('[data-testid="request-row"] .cell-status').first().textContent()).toBe('200');
    await page.screenshot({ path: screenshotPath('inspector-900') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: screenshotPath('inspector-900-dark') });
  });
});
