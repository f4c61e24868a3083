// The Throughput view in Chromium against the real engine: requests and
// errors per second (502s the tunnel answered for a service that refuses),
// latency percentiles, a legend on every chart, one time axis they all
// share, and a tooltip readable in dark mode.
import { request } from 'node:http';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotPath } from '../helpers/browser.js';
import { eventuallyAsync, holdPort, startBackend, type Backend } from '../helpers/common.js';
import { openInspectorOnTunnel, type InspectorFixture } from '../helpers/inspector-fixture.js';

let fixture: InspectorFixture;
let backend: Backend;
let page: Page;

beforeAll(async () => {
  backend = await startBackend((_req, res) => res.end('ok'));
  fixture = await openInspectorOnTunnel({ name: 'shop', protocol: 'http', target: String(backend.port) });
  page = fixture.page;
});

afterAll(async () => {
  await fixture?.close();
  await backend?.close();
});

function get(host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) =>
    request({ host: '127.0.0.1', port: fixture.publicPort, path, headers: { host } }, (res) => {
      res.resume().on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end(),
  );
}

/** Where each chart's plot starts within its frame and how wide it is, and its first time tick; evaluated in the page. */
const plotGeometry = `[...document.querySelectorAll('[data-testid$="chart"]')].map((chart) => {
  const grid = chart.querySelector('.recharts-cartesian-grid').getBoundingClientRect();
  return { offset: Math.round(grid.x - chart.getBoundingClientRect().x), width: Math.round(grid.width), firstTick: chart.querySelector('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value')?.textContent ?? null };
})`;

/** An element's computed background and text colours; runs in the page. */
function colorsOf(element: unknown): { background: string; text: string } {
  const style = (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string; color: string } }).getComputedStyle(element);
  return { background: style.backgroundColor, text: style.color };
}

describe('Throughput view', () => {
  it('charts requests and errors per second and latency percentiles, with legends and one time axis', async () => {
    for (let i = 0; i < 10; i++) expect(await get('shop.localhost', `/ok/${i}`)).toBe(200);
    // A tunnel whose local service refuses: the tunnel answers 502, counted as errors.
    const closed = await holdPort();
    await closed.release();
    const failing = await fixture.service.createTunnel({ name: 'down', protocol: 'http', target: String(closed.port) });
    await eventuallyAsync(async () => (await fixture.service.listTunnels()).find((t) => t.id === failing.id)?.status === 'online', 'the failing tunnel online');
    for (let i = 0; i < 3; i++) expect(await get('down.localhost', `/fail/${i}`)).toBe(502);

    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Throughput' }).click();
    await expect.poll(() => page.getByTestId('total-errors').locator('.stat-value').textContent(), { timeout: 10_000 }).toBe('3');
    expect(await page.getByTestId('total-requests').locator('.stat-value').textContent()).toBe('13');

    const legend = (testId: string) => page.getByTestId(testId).locator('.recharts-legend-item-text').allTextContents();
    expect(await legend('chart')).toEqual(['requests/s', 'errors/s']);
    expect(await legend('latency-chart')).toEqual(['p50', 'p95', 'p99']);
    expect(await legend('bytes-chart')).toEqual(['in (to service)', 'out (to client)']);
    expect(await legend('streams-chart')).toEqual(['open streams']);
    // Values carry their unit.
    expect(await page.getByTestId('bytes-chart').locator('.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value').last().textContent()).toMatch(/\/s$/);
    expect(await page.getByTestId('latency-chart').locator('.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value').last().textContent()).toMatch(/ ms$/);
    await expect.poll(() => page.getByTestId('latency-chart').locator('.recharts-line-curve').count()).toBe(3);

    // Every plot starts at the same place in its frame, as wide, from the same first tick: times line up down the page.
    const geometry = (await page.evaluate(plotGeometry)) as { offset: number; width: number; firstTick: string | null }[];
    expect(geometry).toHaveLength(4);
    expect(geometry[0]!.firstTick).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(new Set(geometry.map((g) => JSON.stringify(g))).size).toBe(1);
    await page.screenshot({ path: screenshotPath('throughput'), fullPage: true });
  });

  it('shows the tooltip in the page colours in dark mode', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    try {
      const chart = page.getByTestId('chart');
      const box = (await chart.locator('.recharts-cartesian-grid').boundingBox())!;
      await page.mouse.move(box.x + box.width - 4, box.y + box.height / 2);
      const tooltip = chart.locator('.recharts-default-tooltip');
      await tooltip.waitFor();
      const colours = await tooltip.evaluate(colorsOf);
      // --bg-2 and --fg of the dark theme.
      expect(colours).toEqual({ background: 'rgb(31, 34, 41)', text: 'rgb(230, 232, 235)' });
      expect(await tooltip.textContent()).toMatch(/requests\/s : \d+\/s.*errors\/s : \d+\/s/);
      await page.screenshot({ path: screenshotPath('throughput-dark'), fullPage: true });
    } finally {
      await page.emulateMedia({ colorScheme: 'light' });
    }
  });
});
