// The UI in Debian's Chromium against the web inspector, backed by the real
// engine (the embedded tunnel server, its demo backends and the agent):
// create tunnels, send HTTP, WebSocket and gRPC traffic through them, and
// see it live. Screenshots of each view land in test-results/screenshots.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Har } from 'har-format';
import { har as validateHar } from 'har-validator';
import * as grpc from '@grpc/grpc-js';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { InspectorServer } from '../../src/main/inspector/inspector-server.js';
import { AppService } from '../../src/main/service/app-service.js';
import { demoEchoService } from '../../src/main/service/demo-backends.js';
import { launchChromium, screenshotPath } from '../helpers/browser.js';
import { publicRequest, repoRoot, startBackend, type Backend } from '../helpers/common.js';

let service: AppService;
let inspector: InspectorServer;
let browser: Browser;
let page: Page;
let publicPort: number;
let held: Backend;
const releaseHeld: (() => void)[] = [];
/** Errors the page logged, CSP violations included: there must be none. */
const consoleErrors: string[] = [];

beforeAll(async () => {
  // A backend that answers only when told, so a request is seen in flight.
  held = await startBackend((req, res) => {
    releaseHeld.push(() => res.end(`released ${req.url}`));
  });
  // A small body budget, so one test can see old bodies let go.
  service = await AppService.open({ initial: { settings: { embeddedServer: true } }, trafficLimits: { maxRetainedBytes: 256 * 1024 } });
  const embedded = await service.getEmbeddedServer();
  publicPort = Number(/:(\d+)$/.exec(embedded.publicBaseUrl ?? '')?.[1]);
  inspector = await InspectorServer.start({ host: '127.0.0.1', port: 0, service, rendererDir: join(repoRoot, 'out/renderer') });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(15_000);
  page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  await page.goto(inspector.url);
});

afterAll(async () => {
  for (const release of releaseHeld.splice(0)) release();
  await browser?.close();
  await inspector?.stop();
  await service?.close();
  await held?.close();
});

const run = promisify(execFile);

const row = (id: string) => page.locator(`[data-testid="request-row"][data-request-id="${id}"]`);

async function openView(name: 'Tunnels' | 'Inspector' | 'Throughput' | 'Settings'): Promise<void> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name }).click();
}

/** The request_id of the newest row matching a selector, once it is there. */
async function newestRowId(selector: string): Promise<string> {
  const locator = page.locator(`[data-testid="request-row"]${selector}`).first();
  await locator.waitFor();
  return (await locator.getAttribute('data-request-id'))!;
}

/** Types `text` into an input as a user would and reads the list's empty-state text in the same turn. Runs in the page. */
function typeAndReadEmptyText(element: unknown, text: string): string | undefined {
  const page = globalThis as unknown as {
    HTMLInputElement: { prototype: object };
    Event: new (type: string, init: { bubbles: boolean }) => unknown;
    document: { querySelector(selector: string): { textContent: string | null } | null };
  };
  // React tracks the value it set: the native setter makes the change one it sees, as typing does.
  Object.getOwnPropertyDescriptor(page.HTMLInputElement.prototype, 'value')!.set!.call(element, text);
  (element as { dispatchEvent(event: unknown): void }).dispatchEvent(new page.Event('input', { bubbles: true }));
  return page.document.querySelector('.empty')?.textContent ?? undefined;
}

describe('web inspector UI', () => {
  it('shows the agent connected to the local test server', async () => {
    await expect.poll(() => page.getByTestId('agent-status').textContent()).toContain('connected');
  });

  it('creates tunnels from the Tunnels view and shows them online', async () => {
    const form = page.getByRole('form', { name: 'Add tunnel' });
    await form.getByLabel('Name').fill('held');
    await form.getByLabel('Local service').fill(String(held.port));
    await form.getByRole('button', { name: 'Add tunnel' }).click();
    await page.getByRole('button', { name: 'Add demo tunnels' }).click();
    for (const name of ['held', 'demo', 'demo-ws', 'demo-grpc']) {
      await page.locator(`[data-testid="tunnel-row"][data-tunnel="${name}"][data-status="online"]`).waitFor();
    }
    await expect.poll(() => page.getByText(`http://demo.localhost:${publicPort}`).count()).toBe(1);
    // A bad target is refused with the reason, and nothing is added.
    await form.getByLabel('Name').fill('broken');
    await form.getByLabel('Local service').fill('not a port');
    await form.getByRole('button', { name: 'Add tunnel' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/target|port/i);
    expect(await page.locator('[data-testid="tunnel-row"]').count()).toBe(4);
    await page.screenshot({ path: screenshotPath('tunnels'), fullPage: true });
  });

  it('lists a request in flight, then done, by its request_id', async () => {
    const pending = publicRequest({ port: publicPort, host: 'held.localhost', path: '/slow' });
    await openView('Inspector');
    const id = await newestRowId('[data-state="in-flight"]');
    await page.screenshot({ path: screenshotPath('inspector-in-flight') });
    // How long it has run so far, counting, in the row and in its detail (both said '…' however long).
    await expect.poll(() => row(id).textContent(), { timeout: 15_000 }).toMatch(/\b\d+ s…/);
    await row(id).click();
    const duration = page.getByTestId('request-detail').locator('dt:text-is("Duration") + dd');
    await expect.poll(() => duration.textContent(), { timeout: 15_000 }).toMatch(/^\d+ s…$/);
    for (const release of releaseHeld.splice(0)) release();
    expect((await pending).body.toString()).toBe('released /slow');
    await row(id).and(page.locator('[data-state="done"]')).waitFor();
    expect(await row(id).textContent()).toContain('200');
  });

  it('opens an HTTP request and pretty-prints its JSON bodies', async () => {
    const response = await publicRequest({
      port: publicPort,
      host: 'demo.localhost',
      method: 'POST',
      path: '/orders?source=ui-test',
      headers: { 'content-type': 'application/json' },
      body: '{"order":{"id":42,"items":["tea","cake"]}}',
    });
    expect(response.status).toBe(200);
    await page.getByLabel('Filter text').fill('/orders');
    const id = await newestRowId('[data-state="done"]');
    await row(id).click();
    const detail = page.getByTestId('request-detail');
    await detail.getByText('Response body').waitFor();
    const bodies = detail.locator('pre.body-json');
    await expect.poll(() => bodies.count()).toBe(2);
    expect(await bodies.first().textContent()).toContain('"order": {\n    "id": 42,');
    expect(await detail.textContent()).toContain('content-type');
    // The client's HTTP version beside the request line.
    expect(await detail.locator('dd').filter({ hasText: '/orders?source=ui-test' }).textContent()).toBe('POST /orders?source=ui-test HTTP/1.1');
    await page.screenshot({ path: screenshotPath('inspector-http-detail') });
    await page.getByLabel('Filter text').fill('');
  });

  it('shows text in the charset its Content-Type names, not as binary', async () => {
    // "café naïve" in ISO-8859-1: not UTF-8.
    const body = Buffer.from('café naïve', 'latin1');
    expect((await publicRequest({ port: publicPort, host: 'demo.localhost', method: 'POST', path: '/latin1', headers: { 'content-type': 'text/plain; charset=iso-8859-1' }, body })).status).toBe(200);
    await page.getByLabel('Filter text').fill('/latin1');
    await row(await newestRowId('[data-state="done"]')).click();
    const detail = page.getByTestId('request-detail');
    await detail.getByText('Request body').waitFor();
    await expect.poll(() => detail.getByTestId('body-text').first().textContent()).toBe('café naïve');
    await page.getByLabel('Filter text').fill('');
  });

  it('copies a request as curl that, run, gets the same answer; exports what the filter shows as valid HAR 1.2, and imports it back', async () => {
    const body = '{"copy":"me","n":[1,2,3]}';
    const original = await publicRequest({ port: publicPort, host: 'demo.localhost', method: 'POST', path: '/copy-me?x=1', headers: { 'content-type': 'application/json' }, body });
    await page.getByLabel('Filter text').fill('/copy-me');
    const id = await newestRowId('[data-state="done"]');
    await row(id).click();
    const detail = page.getByTestId('request-detail');
    await detail.getByRole('region', { name: 'Copy as' }).getByRole('button', { name: 'curl' }).click();
    const snippet = (await detail.getByTestId('snippet').textContent())!;
    expect(snippet).toContain(`--url 'http://demo.localhost:${publicPort}/copy-me?x=1'`);
    const { stdout } = await run('sh', ['-c', snippet]);
    expect(stdout).toBe(original.body.toString());
    expect(stdout).toBe(body);
    await page.screenshot({ path: screenshotPath('inspector-copy-as-curl') });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Export \d+ as HAR$/ }).click()]);
    const har = JSON.parse(await readFile((await download.path())!, 'utf8')) as Har;
    await expect(validateHar(har)).resolves.toBeTruthy();
    // The filter shows the original and the request curl just made.
    expect(har.log.entries.map((e) => [e.request.method, e.request.url, e.request.postData?.text])).toEqual([
      ['POST', `http://demo.localhost:${publicPort}/copy-me?x=1`, body],
      ['POST', `http://demo.localhost:${publicPort}/copy-me?x=1`, body],
    ]);

    // Cleared, then imported back from the file: the same requests, bodies and all.
    await page.getByRole('button', { name: 'Clear 2 shown' }).click();
    await page.getByRole('group', { name: 'Confirm clear' }).getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => page.locator('[data-testid="request-row"]').count()).toBe(0);
    await page.getByLabel('Import HAR').setInputFiles((await download.path())!);
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Imported' }).textContent()).toMatch(/^Imported 2 requests from /);
    await expect.poll(() => page.locator('[data-testid="request-row"]').count()).toBe(2);
    await page.locator('[data-testid="request-row"]').first().click();
    await expect.poll(() => detail.locator('pre.body-json').first().textContent()).toContain('"copy": "me"');
    await page.getByLabel('Filter text').fill('');
  });

  it('replays a request through the tunnel, and edits and resends one, each a new request linked to its original', async () => {
    const original = await publicRequest({ port: publicPort, host: 'demo.localhost', method: 'POST', path: '/replay-me', headers: { 'content-type': 'text/plain' }, body: 'first' });
    expect(original.body.toString()).toBe('first');
    await page.getByLabel('Filter text').fill('/replay-me');
    const originalId = await newestRowId('[data-state="done"]');
    await row(originalId).click();
    const detail = page.getByTestId('request-detail');
    await detail.getByRole('region', { name: 'Send again' }).getByRole('button', { name: 'Replay' }).click();
    // The new request opens: a replay of the original, which the demo backend answered with the same body.
    await expect.poll(() => detail.textContent()).toContain(`Replay of ${originalId}`);
    const replayed = async () => (await service.listRequests({})).filter((r) => r.replayOf === originalId && r.state === 'done');
    await expect.poll(async () => (await replayed()).length).toBe(1);
    const replay = await replayed();
    expect(Buffer.from((await service.getRequestDetail({ requestId: replay[0]!.requestId }))!.responseBody.base64, 'base64').toString()).toBe('first');

    // Back to the original, then changed before sending: the backend receives the edit (and echoes it).
    await detail.getByRole('button', { name: originalId }).click();
    await expect.poll(() => detail.locator('code.mono').first().textContent()).toBe(originalId);
    await detail.getByRole('button', { name: 'Edit and resend' }).click();
    const form = detail.getByRole('form', { name: 'Edit and resend' });
    await form.getByLabel('Path').fill('/replay-me/edited?v=2');
    await form.getByLabel('Body').fill('second, edited');
    await form.getByRole('button', { name: 'Send' }).click();
    // Listed from its start: wait until it has ended, with its response body.
    await expect.poll(async () => (await replayed()).length).toBe(2);
    const edited = (await replayed()).at(-1)!;
    expect(edited.path).toBe('/replay-me/edited?v=2');
    expect(Buffer.from((await service.getRequestDetail({ requestId: edited.requestId }))!.responseBody.base64, 'base64').toString()).toBe('second, edited');
    await expect.poll(() => page.locator('[data-testid="request-row"] [aria-label="replay"]').count()).toBe(2);
    await page.screenshot({ path: screenshotPath('inspector-replay') });
    await page.getByLabel('Filter text').fill('');
  });

  // Found by the HAR audit: the form sent the body it could show, so a binary upload went empty.
  it('edits and resends a binary upload with its bytes as recorded when its body is left alone, and says so', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await publicRequest({ port: publicPort, host: 'demo.localhost', method: 'POST', path: '/resend-binary', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    await page.getByLabel('Filter text').fill('/resend-binary');
    const originalId = await newestRowId('[data-state="done"]');
    await row(originalId).click();
    const detail = page.getByTestId('request-detail');
    await detail.getByRole('button', { name: 'Edit and resend' }).click();
    const form = detail.getByRole('form', { name: 'Edit and resend' });
    await form.getByText('binary body (256 bytes): sent as recorded unless you type another').waitFor();
    await form.getByLabel('Path').fill('/resend-binary/again');
    await form.getByRole('button', { name: 'Send' }).click();
    const resent = async () => (await service.listRequests({})).filter((r) => r.replayOf === originalId && r.state === 'done');
    await expect.poll(async () => (await resent()).length).toBe(1);
    const sent = (await service.getRequestDetail({ requestId: (await resent())[0]!.requestId }))!;
    expect(Buffer.from(sent.requestBody.base64, 'base64')).toEqual(bytes);
    await page.getByLabel('Filter text').fill('');
  });

  it('moves through the list by keyboard from one Tab stop, / searches, Esc closes; bytes in and out apart', async () => {
    for (const n of [1, 2, 3]) await publicRequest({ port: publicPort, host: 'demo.localhost', method: 'POST', path: `/kb-${n}`, body: Buffer.alloc(n * 2048, 'k') });
    // From outside any field (the last test left the focus in the filter), "/" jumps to the search.
    await page.getByLabel('Filter text').blur();
    await page.keyboard.press('/');
    expect(await page.evaluate("document.activeElement?.getAttribute('aria-label')")).toBe('Filter text');
    expect(await page.getByLabel('Filter text').inputValue()).toBe('');
    await page.keyboard.type('/kb-');
    await expect.poll(() => page.locator('[data-testid="request-row"]').count()).toBe(3);
    // One Tab stop: the list, not each row.
    expect(await page.locator('[data-testid="request-row"][tabindex="0"]').count()).toBe(0);
    const list = page.getByTestId('request-table');
    await list.focus();
    const openPath = () => page.getByTestId('request-detail').locator('dd code').first().textContent();
    await list.press('Enter');
    await expect.poll(openPath).toBe('POST /kb-3');
    await list.press('ArrowDown');
    await expect.poll(openPath).toBe('POST /kb-2');
    await list.press('End');
    await expect.poll(openPath).toBe('POST /kb-1');
    await list.press('ArrowUp');
    await expect.poll(openPath).toBe('POST /kb-2');
    await list.press('Home');
    await expect.poll(openPath).toBe('POST /kb-3');
    // Echoed: 6 KiB each way, shown apart (not a 12 KiB total).
    expect(await page.locator('[data-testid="request-row"]').first().locator('[role="cell"]').last().textContent()).toBe('↑6.0 KiB ↓6.0 KiB');
    // Closed with Esc, Enter opens the same row again (it opened the top one).
    await list.press('ArrowDown');
    await expect.poll(openPath).toBe('POST /kb-2');
    await list.press('Escape');
    await expect.poll(() => page.getByTestId('request-detail').count()).toBe(0);
    await list.press('Enter');
    await expect.poll(openPath).toBe('POST /kb-2');
    await list.press('Escape');
    await expect.poll(() => page.getByTestId('request-detail').count()).toBe(0);
    await page.getByLabel('Filter text').fill('');
  });

  it('finds requests by a header value or by text in a kept body, ignoring case', async () => {
    await publicRequest({ port: publicPort, host: 'demo.localhost', method: 'POST', path: '/deep-a', headers: { 'x-order-ref': 'Zebra-1234' }, body: 'nothing here' });
    await publicRequest({ port: publicPort, host: 'demo.localhost', method: 'POST', path: '/deep-b', body: '{"animal":"giraffe-5678"}' });
    const paths = () => page.locator('[data-testid="request-row"] .cell-path').allTextContents();
    // Typed and read in one turn of the page, before the search can answer: the list says it is searching, where it
    // said nothing matched until the answer came (a header or body match looked like none for a moment).
    const emptyTextAsTyped = await page.getByLabel('Filter text').evaluate(typeAndReadEmptyText, 'zebra-1234');
    expect(emptyTextAsTyped).toBe('Searching headers and bodies…');
    await expect.poll(paths).toEqual(['/deep-a']);
    await page.getByLabel('Filter text').fill('GIRAFFE-5678');
    await expect.poll(paths).toEqual(['/deep-b']);
    await page.getByLabel('Filter text').fill('');
  });

  it('says when an older body was let go to stay within the memory budget', async () => {
    // Echoed, so each keeps 64 KiB each way: three of them overflow the 256 KiB budget and the oldest lets go.
    for (const path of ['/big-1', '/big-2', '/big-3']) {
      const body = Buffer.alloc(100_000, 'x').toString();
      const response = await publicRequest({ port: publicPort, host: 'demo.localhost', method: 'POST', path, headers: { 'content-type': 'text/plain' }, body });
      expect(response.body.length).toBe(100_000);
    }
    await page.getByLabel('Filter text').fill('/big-');
    try {
      await expect.poll(() => page.locator('[data-testid="request-row"][data-state="done"]').count()).toBe(3);
      const detail = page.getByTestId('request-detail');
      await page.locator('[data-testid="request-row"]').first().click();
      await expect.poll(async () => (await detail.locator('pre.body-text').first().textContent())?.length ?? 0).toBeGreaterThan(60_000);
      expect(await detail.getByTestId('body-released').count()).toBe(0);
      await page.locator('[data-testid="request-row"]').last().click();
      await expect.poll(() => detail.getByTestId('body-released').count()).toBe(2);
      expect(await detail.textContent()).toContain('/big-1');
      await page.screenshot({ path: screenshotPath('inspector-body-released') });
    } finally {
      await page.getByLabel('Filter text').fill('');
    }
  });

  it('shows WebSocket frames both ways', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${publicPort}/chat`, { headers: { host: 'demo-ws.localhost' } });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const echoes: string[] = [];
    socket.on('message', (data) => echoes.push(data.toString()));
    for (const text of ['hello', '{"type":"ping","n":1}', 'bye']) socket.send(text);
    await expect.poll(() => echoes.length).toBe(3);
    socket.close(1000, 'done');
    await new Promise((resolve) => socket.once('close', resolve));

    await page.getByLabel('Protocol').selectOption('websocket');
    const id = await newestRowId('[data-protocol="websocket"]');
    await row(id).click();
    const messages = page.getByTestId('request-detail').getByTestId('message');
    await expect.poll(() => messages.count()).toBeGreaterThanOrEqual(6);
    expect(await page.getByTestId('request-detail').locator('[data-direction="to-client"]').count()).toBeGreaterThanOrEqual(3);
    expect(await page.getByTestId('message-list').textContent()).toContain('"type": "ping"');
    await page.screenshot({ path: screenshotPath('inspector-websocket') });
  });

  it('shows gRPC messages decoded by the service own reflection, and trailers', async () => {
    const Client = grpc.makeGenericClientConstructor(demoEchoService, 'Echo');
    const client = new Client(`127.0.0.1:${publicPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'demo-grpc.localhost' });
    try {
      // EchoMessage { text: "stream me" }, encoded by hand: the demo echo takes raw bytes.
      const request = Buffer.concat([Buffer.from([0x0a, 9]), Buffer.from('stream me')]);
      const call = (client as unknown as { serverStream(r: Buffer): grpc.ClientReadableStream<Buffer> }).serverStream(request);
      const received: Buffer[] = [];
      for await (const message of call) received.push(message as Buffer);
      expect(received).toHaveLength(5);
    } finally {
      client.close();
    }
    await page.getByLabel('Protocol').selectOption('grpc');
    const id = await newestRowId('[data-protocol="grpc"][data-state="done"]');
    await row(id).click();
    const detail = page.getByTestId('request-detail');
    await expect.poll(() => detail.getByTestId('message').count()).toBe(6);
    await expect.poll(() => detail.getByTestId('grpc-schema').textContent()).toMatch(/^Decoded by server reflection on 127\.0\.0\.1:\d+/);
    const decoded = detail.getByTestId('decoded-json');
    await expect.poll(() => decoded.count()).toBe(6);
    expect(JSON.parse((await decoded.last().textContent())!)).toEqual({ text: 'stream me', sequence: 4 });
    await detail.getByText('Response trailers').waitFor();
    expect(await detail.textContent()).toContain('grpc-status');
    await page.screenshot({ path: screenshotPath('inspector-grpc') });
    await page.getByLabel('Protocol').selectOption('');
  });

  it('shows a failed gRPC call by its gRPC status and a request the tunnel answered by status and code; filters find both', async () => {
    // UNIMPLEMENTED from the demo service: an HTTP 200 carrying grpc-status 12.
    const Client = grpc.makeGenericClientConstructor({ nope: { ...demoEchoService.unary, path: '/burrow.demo.Echo/Nope' } }, 'Echo');
    const client = new Client(`127.0.0.1:${publicPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'demo-grpc.localhost' });
    const code = await new Promise<number | undefined>((resolve) =>
      (client as unknown as { nope(r: Buffer, cb: (e: grpc.ServiceError | null) => void): void }).nope(Buffer.from('?'), (error) => resolve(error?.code)),
    );
    client.close();
    expect(code).toBe(grpc.status.UNIMPLEMENTED);
    // A tunnel whose local service refuses: the edge answers 502 for it, three times.
    const closed = await startBackend(() => {});
    await closed.close();
    const refused = await service.createTunnel({ name: 'refused', protocol: 'http', target: String(closed.port) });
    await expect.poll(async () => (await service.listTunnels()).find((t) => t.id === refused.id)?.status).toBe('online');
    for (let i = 0; i < 3; i++) expect((await publicRequest({ port: publicPort, host: 'refused.localhost', path: `/r${i}` })).status).toBe(502);
    // Registered, but not working: the Tunnels view says so beside "online".
    await openView('Tunnels');
    const refusedRow = page.locator('[data-testid="tunnel-row"][data-tunnel="refused"]');
    await expect.poll(() => refusedRow.getByTestId('local-health').textContent()).toMatch(/^Local service failing: 3 refused in the last minute\. Last: .+/);
    expect(await refusedRow.getAttribute('data-status')).toBe('online');
    await page.screenshot({ path: screenshotPath('tunnels-local-failing') });

    await openView('Inspector');
    const grpcRow = row(await newestRowId('[data-protocol="grpc"][data-state="done"]'));
    await expect.poll(() => grpcRow.getByTestId('status').textContent()).toBe('UNIMPLEMENTED (12)');
    expect(await grpcRow.getByTestId('status').getAttribute('class')).toContain('failed');
    // The service's status message beside it, decoded from its percent-encoding.
    await grpcRow.click();
    await expect.poll(() => page.getByTestId('grpc-status-message').textContent()).toMatch(/\/burrow\.demo\.Echo\/Nope/);
    await page.getByRole('button', { name: 'Close detail' }).click();
    const status = page.getByLabel('Status');
    await status.selectOption('grpc-error');
    await expect.poll(() => page.locator('[data-testid="request-row"]').count()).toBe(1);
    expect(await page.locator('[data-testid="request-row"]').getAttribute('data-protocol')).toBe('grpc');
    // Its HTTP 200 does not make it a 2xx.
    await status.selectOption('2xx');
    expect(await page.locator('[data-testid="request-row"][data-protocol="grpc"]').count()).toBe(0);
    await status.selectOption('5xx');
    await expect.poll(() => page.locator('[data-testid="request-row"]').count()).toBe(3);
    for (const text of await page.locator('[data-testid="request-row"] [data-testid="status"]').allTextContents()) expect(text).toBe('502 LOCAL_UNREACHABLE');
    // The service never answered: no first byte in its timing (it said "first byte 3 ms").
    await page.locator('[data-testid="request-row"]').first().click();
    await expect.poll(() => page.getByTestId('timing-text').textContent()).toMatch(/^edge \d+ ms → no answer from the local service, given up after \d+ ms$/);
    await page.getByRole('button', { name: 'Close detail' }).click();
    await page.screenshot({ path: screenshotPath('inspector-failures') });
    await status.selectOption('error');
    await expect.poll(() => page.locator('[data-testid="request-row"]').count()).toBe(4);
    await status.selectOption('');
    // Search finds requests by error code and by gRPC status name.
    await page.getByLabel('Filter text').fill('unimplemented');
    await expect.poll(() => page.locator('[data-testid="request-row"]').count()).toBe(1);
    await page.getByLabel('Filter text').fill('local_unreachable');
    await expect.poll(() => page.locator('[data-testid="request-row"]').count()).toBe(3);
    await page.getByLabel('Filter text').fill('');
    await service.removeTunnel({ id: refused.id });
  });

  it('shows a call cut by its deadline as DEADLINE_EXCEEDED with the messages and bytes it moved, and a trailers-only answer once', async () => {
    const Client = grpc.makeGenericClientConstructor(demoEchoService, 'Echo');
    const client = new Client(`127.0.0.1:${publicPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'demo-grpc.localhost' });
    // One message each way, then the call stays open until the caller's deadline cuts it: long enough that the
    // echo comes back first on a busy machine.
    const call = (client as unknown as { bidi(options: grpc.CallOptions): grpc.ClientDuplexStream<Buffer, Buffer> }).bidi({ deadline: Date.now() + 2_000 });
    const echoed = new Promise<void>((resolve) => call.once('data', () => resolve()));
    const code = new Promise<number>((resolve) => call.on('error', (error: grpc.ServiceError) => resolve(error.code)));
    call.write(Buffer.from('late'));
    await echoed;
    expect(await code).toBe(grpc.status.DEADLINE_EXCEEDED);
    client.close();
    const cut = async () => (await service.listRequests({})).filter((r) => r.path.endsWith('/Bidi') && r.state === 'error').at(-1);
    await expect.poll(cut).toMatchObject({ grpcStatus: 4, error: { code: 'BURROW_E_TIMEOUT' } });
    const summary = (await cut())!;
    expect(summary.bytesIn).toBeGreaterThan(0);
    expect(summary.bytesOut).toBeGreaterThan(0);
    await openView('Inspector');
    await expect.poll(() => row(summary.requestId).getByTestId('status').textContent()).toBe('DEADLINE_EXCEEDED (4) TIMEOUT');
    // The UNIMPLEMENTED call earlier was answered trailers-only: its grpc-status shows once, among the response headers.
    const unimplemented = (await service.listRequests({})).find((r) => r.grpcStatus === 12)!;
    const detail = (await service.getRequestDetail({ requestId: unimplemented.requestId }))!;
    expect(detail.responseHeaders.filter(([name]) => name === 'grpc-status')).toEqual([['grpc-status', '12']]);
    expect(detail.trailers).toEqual([]);
  });

  it('clears only what the filter shows, and only once the user says yes', async () => {
    const count = () => page.getByTestId('request-count').textContent();
    const total = Number(/(\d+) requests/.exec((await count())!)![1]);
    await page.getByLabel('Status').selectOption('5xx');
    await expect.poll(count).toBe(`3 of ${total} requests`);
    await page.getByRole('button', { name: 'Clear 3 shown' }).click();
    const confirm = page.getByRole('group', { name: 'Confirm clear' });
    expect(await confirm.textContent()).toContain('Clear the 3 shown?');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await count()).toBe(`3 of ${total} requests`);
    await page.getByRole('button', { name: 'Clear 3 shown' }).click();
    await confirm.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(count).toBe(`0 of ${total - 3} requests`);
    await page.getByText('No requests match the filter.').waitFor();
    await page.getByLabel('Status').selectOption('');
    await expect.poll(count).toBe(`${total - 3} requests`);
    // The engine forgot them too: a reload shows the same.
    expect((await service.listRequests({})).some((r) => r.tunnel === 'refused')).toBe(false);
    expect((await service.listRequests({})).length).toBe(total - 3);
  });

  it('calls a tunnel the server named by that name in Tunnels and Inspector, and its filter finds its requests', async () => {
    const unnamed = await service.createTunnel({ name: '', protocol: 'http', target: String(held.port) });
    const online = async () => (await service.listTunnels()).find((t) => t.id === unnamed.id && t.status === 'online');
    await expect.poll(online).toBeTruthy();
    const name = new URL((await online())!.publicUrl!).hostname.split('.')[0]!;
    await openView('Tunnels');
    await expect.poll(() => page.locator(`[data-testid="tunnel-row"][data-tunnel="${name}"]`).textContent()).toContain(`${name} (named by the server)`);
    const pending = publicRequest({ port: publicPort, host: `${name}.localhost`, path: '/named-by-server' });
    await openView('Inspector');
    await page.getByLabel('Tunnel').selectOption(name);
    await expect.poll(() => page.locator('[data-testid="request-row"]').count()).toBe(1);
    expect(await page.locator('[data-testid="request-row"]').textContent()).toContain('/named-by-server');
    for (const release of releaseHeld.splice(0)) release();
    await pending;
    await page.getByLabel('Tunnel').selectOption('');
    await service.removeTunnel({ id: unnamed.id });
  });

  it('moves the throughput chart as traffic flows', async () => {
    await openView('Throughput');
    await page.getByTestId('chart').first().locator('.recharts-line-curve').first().waitFor();
    const curve = () => page.getByTestId('chart').first().locator('.recharts-line-curve').first().getAttribute('d');
    const before = await page.getByTestId('total-requests').textContent();
    const initialCurve = await curve();
    for (let i = 0; i < 20; i++) await publicRequest({ port: publicPort, host: 'demo.localhost', path: `/burst/${i}` });
    await expect.poll(() => page.getByTestId('total-requests').textContent(), { timeout: 10_000 }).not.toBe(before);
    await expect.poll(curve, { timeout: 10_000 }).not.toBe(initialCurve);
  });

  it('stays responsive under 10,000 requests: a screenful of rows in the page, the rest virtual', async () => {
    await openView('Inspector');
    for (let slice = 0; slice < 10; slice++) {
      for (let i = 0; i < 1_000; i++) {
        const requestId = `flood-${slice}-${i}`;
        const at = Date.now();
        service.recordTraffic({ kind: 'request-start', requestId, tunnel: 'demo', protocol: 'http', method: 'GET', path: `/flood/${slice}/${i}`, headers: [], remoteAddress: '127.0.0.1', at });
        service.recordTraffic({ kind: 'request-end', requestId, status: 200, bytesIn: 0, bytesOut: 0, durationMs: 0, at });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await row('flood-9-999').waitFor();
    const count = Number((await page.getByTestId('request-count').textContent())?.split(' ')[0]);
    expect(count).toBeGreaterThanOrEqual(2_000);
    expect(await page.locator('[data-testid="request-row"]').count()).toBeLessThan(80);
    await page.getByLabel('Filter text').fill('/flood/9/998');
    await row('flood-9-998').click();
    await page.getByTestId('request-detail').getByText('GET /flood/9/998').waitFor();
    await page.getByLabel('Filter text').fill('');
  });

  it('shows settings and the local test server, in light and dark', async () => {
    await openView('Settings');
    await expect.poll(() => page.getByTestId('embedded-status').textContent()).toBe('running');
    await page.screenshot({ path: screenshotPath('settings'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await openView('Inspector');
    const background = (await page.evaluate('getComputedStyle(document.body).backgroundColor')) as string;
    expect(background).toBe('rgb(22, 24, 29)');
    await page.screenshot({ path: screenshotPath('inspector-dark') });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('logged no errors in the page (a CSP violation would be one)', () => {
    expect(consoleErrors).toEqual([]);
  });
});
