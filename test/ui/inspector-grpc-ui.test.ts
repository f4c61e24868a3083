// gRPC decoding in Chromium against the real engine, for a service that
// offers no reflection: its messages by field number first, then decoded
// with the .proto the user loads for the tunnel from the detail.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotPath } from '../helpers/browser.js';
import { repoRoot } from '../helpers/common.js';
import { openInspectorOnTunnel, type InspectorFixture } from '../helpers/inspector-fixture.js';
import { echoClient, startEchoBackend } from '../helpers/grpc-echo.js';

let fixture: InspectorFixture;
let echo: Awaited<ReturnType<typeof startEchoBackend>>;
let page: Page;
let publicPort: number;

beforeAll(async () => {
  echo = await startEchoBackend();
  fixture = await openInspectorOnTunnel({ name: 'orders', protocol: 'grpc', target: String(echo.port) });
  ({ page, publicPort } = fixture);
});

afterAll(async () => {
  await fixture?.close();
  echo?.stop();
});

describe('gRPC decoding in the inspector', () => {
  it('shows fields by number without a schema, then JSON once the user loads the .proto', async () => {
    const client = echoClient(publicPort, 'orders');
    try {
      await new Promise<void>((resolve, reject) => (client.unary as (r: object, cb: (e: Error | null) => void) => void)({ text: 'two teas', blob: Buffer.from([7]) }, (error) => (error ? reject(error) : resolve())));
    } finally {
      client.close();
    }
    await page.locator('[data-testid="request-row"][data-protocol="grpc"][data-state="done"]').first().click();
    const detail = page.getByTestId('request-detail');
    const schema = detail.getByTestId('grpc-schema');
    await expect.poll(() => schema.getAttribute('data-source')).toBe('none');
    expect(await schema.textContent()).toMatch(/No schema, fields by number: reflection on 127\.0\.0\.1:\d+: the service does not serve reflection \(grpc\.reflection\.v1 or v1alpha\)/);
    await expect.poll(() => detail.getByTestId('decoded-raw').first().textContent()).toBe('1: "two teas"\n2: <07>');
    await page.screenshot({ path: screenshotPath('inspector-grpc-raw') });

    await schema.locator('input[type="file"]').setInputFiles(join(repoRoot, 'test/fixtures/echo.proto'));
    await expect.poll(() => schema.getAttribute('data-source')).toBe('file');
    expect(await schema.textContent()).toContain('Decoded with echo.proto');
    expect(await schema.getByRole('status').textContent()).toContain('Loaded echo.proto: burrow.test.v1.EchoService');
    const json = detail.getByTestId('decoded-json');
    await expect.poll(() => json.count()).toBe(2);
    expect(JSON.parse((await json.first().textContent())!)).toEqual({ text: 'two teas', blob: 'Bw==' });
    await page.screenshot({ path: screenshotPath('inspector-grpc-proto') });
  });

  it('replays the call, the new row linked to it, and copies it as grpcurl with its request as JSON', async () => {
    const detail = page.getByTestId('request-detail');
    const original = (await detail.locator('.detail-head code').textContent())!;
    await detail.getByRole('region', { name: 'Copy as' }).getByRole('button', { name: 'grpcurl' }).click();
    expect(await detail.getByTestId('snippet').textContent()).toBe(
      `grpcurl -plaintext -authority orders.localhost:${publicPort} -proto echo.proto -d '{"text":"two teas","blob":"Bw=="}' 127.0.0.1:${publicPort} burrow.test.v1.EchoService/Unary`,
    );
    expect(await detail.getByRole('region', { name: 'Copy as' }).getByRole('status').textContent()).toContain('run it where echo.proto is');
    await detail.getByRole('button', { name: 'Replay' }).click();
    await expect.poll(() => detail.getByText('Replay of').count()).toBe(1);
    expect(await detail.getByRole('button', { name: original }).count()).toBe(1);
    expect(await detail.locator('.facts').textContent()).toContain('OK (0)');
    expect(await detail.getByRole('button', { name: 'Edit and resend' }).count()).toBe(0);
    await expect.poll(() => detail.getByTestId('decoded-json').count()).toBe(2);
  });

  it('says why a file is no schema', async () => {
    const schema = page.getByTestId('request-detail').getByTestId('grpc-schema');
    await schema.locator('input[type="file"]').setInputFiles({ name: 'notes.proto', mimeType: 'text/plain', buffer: Buffer.from('syntax = "proto3"; message A { int32 a = 1 }') });
    await expect.poll(() => schema.getByRole('alert').textContent()).toMatch(/^notes\.proto: illegal token .* \(BURROW_E_INVALID_INPUT\)$/);
    expect(await schema.getAttribute('data-source')).toBe('file');
  });
});
